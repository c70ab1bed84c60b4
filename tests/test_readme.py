"""README examples run as written: every `$ stackgen ...` line and the library example."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from stackgen.cli import main
from stackgen.inputs import example_site_path
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
COMMANDS = re.findall(r"^\$ stackgen (.+)$", README, flags=re.M)
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


@pytest.fixture
def site_in_cwd(tmp_path: Path) -> Path:
    """A ./stackgen.yaml like a user's, copied from the example site."""
    shutil.copytree(example_site_path().parent, tmp_path, dirs_exist_ok=True)
    return tmp_path


def test_readme_has_examples() -> None:
    assert len(COMMANDS) >= 4 and PYTHON_BLOCKS


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_runs(command: str, site_in_cwd: Path) -> None:
    result = CliRunner().invoke(main, shlex.split(command))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("code", PYTHON_BLOCKS)
def test_readme_python_runs(code: str, site_in_cwd: Path) -> None:
    exec(compile(code, "README.md", "exec"), {})
