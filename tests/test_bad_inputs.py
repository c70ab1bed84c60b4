"""The catalogue of bad inputs: every case must fail cleanly, say where, and write nothing.

Each folder under tests/bad_inputs/ is one case: a `case.yaml` with the CLI `args`, the
message fragments it must `expect`, and `where` (the file:line or flag the message must
name), plus the site file, profiles or certificates it needs. The folder is copied into an
empty working directory and the command runs there. Add a case by adding a folder.

Every case must exit 2 with one `stackgen: error:` line per problem (no traceback, no
usage banner), and leave the directory exactly as it was. The messages are snapshotted
(tests/__snapshots__/test_bad_inputs.ambr) so their wording is reviewed like output.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from stackgen.cli import main
from tests.reparse import yaml_load

CASES = Path(__file__).with_name("bad_inputs")
NAMES = sorted(p.name for p in CASES.iterdir() if (p / "case.yaml").is_file())


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else b"<dir>"
            for p in sorted(root.rglob("*"))}


def test_catalogue_is_large_enough() -> None:
    assert len(NAMES) >= 40


@pytest.mark.parametrize("name", NAMES)
def test_bad_input(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snapshot: Any
) -> None:
    case = yaml_load((CASES / name / "case.yaml").read_text(encoding="utf-8"))
    work = tmp_path / "work"
    shutil.copytree(CASES / name, work, ignore=shutil.ignore_patterns("case.yaml"))
    before = _tree(work)
    monkeypatch.chdir(work)
    result = CliRunner().invoke(main, case["args"], prog_name="stackgen", catch_exceptions=True)
    stderr = result.stderr.replace(str(work), "<work>")

    assert result.exit_code == 2, (result.exit_code, result.exception, result.output)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in stderr and "Usage:" not in stderr
    lines = stderr.splitlines()
    assert lines and all(line.startswith("stackgen: ") for line in lines), stderr
    assert any(line.startswith("stackgen: error: ") for line in lines), stderr
    for fragment in case["expect"]:
        assert fragment in stderr, (fragment, stderr)
    assert case["where"] in stderr, (case["where"], stderr)
    assert _tree(work) == before, "a failed build must not write anything"
    assert stderr == snapshot
