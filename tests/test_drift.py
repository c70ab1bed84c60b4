"""`stackgen build --check / --diff / --force` for every target: the drift gate."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

import stackgen
from stackgen.cli import main
from stackgen.errors import UserError
from stackgen.output.outdir import MANIFEST
from stackgen.targets import TARGETS, sensitive_files

from .conftest import COMPOSED, ROLE_PROFILES


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@functools.cache
def profiles_for(target: str) -> tuple[str, ...]:
    """The richest built-in profile set this target renders (targets may refuse some)."""
    for profiles in [*COMPOSED, *((p,) for p in ROLE_PROFILES)]:
        try:
            stackgen.generate(list(profiles), target)
        except UserError:
            continue
        return tuple(profiles)
    raise AssertionError(f"no built-in profile set renders for {target}")


def build(target: str, *extra: str) -> tuple[int, str, str]:
    return run("build", *profiles_for(target), "-t", target, "-o", "out", *extra)


def snapshot(root: Path) -> dict[str, tuple[bytes, int, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mode, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def generated(target: str) -> dict[str, str]:
    return stackgen.generate(list(profiles_for(target)), target)


@pytest.mark.parametrize("target", list(TARGETS))
def test_check_passes_right_after_a_build(tmp_path: Path, target: str) -> None:
    assert build(target)[0] == 0
    code, out, err = build(target, "--check")
    assert (code, out) == (0, ""), err
    assert "up to date" in err


@pytest.mark.parametrize("target", list(TARGETS))
def test_check_fails_with_a_diff_and_writes_nothing(tmp_path: Path, target: str) -> None:
    assert build(target)[0] == 0
    files = generated(target)
    edited = sorted(files)[0]
    (tmp_path / "out" / edited).write_text(files[edited] + "# local tweak\n")
    (tmp_path / "out" / "stale.txt").write_text("mine\n")  # not stackgen's: not drift
    before = snapshot(tmp_path)
    code, out, err = build(target, "--check")
    assert code == 1
    assert f"--- a/out/{edited}\n+++ b/out/{edited}\n" in out
    assert "-# local tweak" in out and "stale.txt" not in out
    assert f"changed  {edited}  (edited by hand since stackgen wrote it)" in err
    assert snapshot(tmp_path) == before
    code, out2, _ = build(target, "--diff")
    assert (code, out2) == (0, out)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("target", list(TARGETS))
def test_check_on_a_missing_directory_creates_nothing(tmp_path: Path, target: str) -> None:
    code, out, err = build(target, "--check")
    assert code == 1
    for rel in generated(target):
        assert f"--- /dev/null\n+++ b/out/{rel}\n" in out
        assert f"missing  {rel}" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("target", list(TARGETS))
def test_hand_edit_is_refused_then_forced(tmp_path: Path, target: str) -> None:
    assert build(target)[0] == 0
    files = generated(target)
    edited = sorted(files)[-1]
    (tmp_path / "out" / edited).write_text("my version\n")
    code, _, err = build(target)
    assert code == 2
    assert f"out/{edited}: edited by hand since stackgen wrote it" in err and "--force" in err
    assert (tmp_path / "out" / edited).read_text() == "my version\n"
    assert build(target, "--force")[0] == 0
    assert (tmp_path / "out" / edited).read_text() == files[edited]


@pytest.mark.parametrize("target", list(TARGETS))
def test_modes_follow_the_targets_sensitivity(tmp_path: Path, target: str) -> None:
    old = os.umask(0o000)
    try:
        assert build(target)[0] == 0
    finally:
        os.umask(old)
    files = generated(target)
    secret = sensitive_files(target, files)
    assert {p for p in files if p.rsplit("/", 1)[-1] == "config.toml"} <= secret
    for rel in files:
        want = 0o600 if rel in secret else 0o644
        assert (tmp_path / "out" / rel).stat().st_mode & 0o777 == want, rel


def test_stale_files_are_removed_and_reported(tmp_path: Path) -> None:
    assert run("build", "bids", "preproc", "-t", "config-toml", "-o", "out")[0] == 0
    assert (tmp_path / "out/data/config.toml").exists()
    code, out, err = run("build", "preproc", "-t", "config-toml", "-o", "out", "--check")
    assert code == 1 and "+++ /dev/null" in out and "stale    data/config.toml" in err
    code, _, err = run("build", "preproc", "-t", "config-toml", "-o", "out")
    assert code == 0 and "removed 2 stale file(s)" in err
    assert not (tmp_path / "out/data").exists()


def test_file_not_written_by_stackgen_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out/stack.yml").write_text("services: {}\n")
    code, _, err = run("build", "preproc", "-t", "swarm", "-o", "out")
    assert code == 2 and "out/stack.yml: exists, but stackgen did not write it" in err
    assert not (tmp_path / "out" / MANIFEST).exists()


def test_stdout_does_not_mix_with_check() -> None:
    code, _, err = run("build", "preproc", "-t", "swarm", "--stdout", "--check")
    assert code == 2 and "cannot be combined with --check" in err


def test_default_output_directory_is_checked(tmp_path: Path) -> None:
    assert run("build", "preproc", "-t", "swarm")[0] == 0
    assert run("build", "preproc", "-t", "swarm", "--check")[0] == 0
    code, _, _ = run("build", "preproc", "-t", "swarm", "--check", "--set", "manager.concurrent=9")
    assert code == 1


def test_library_write_and_drift(tmp_path: Path) -> None:
    files = stackgen.generate(["preproc"], "swarm")
    result = stackgen.write(tmp_path / "deploy", files, "swarm")
    assert sorted(result.written) == sorted(files)
    assert (tmp_path / "deploy/processing/config.toml").stat().st_mode & 0o777 == 0o600
    assert stackgen.drift(tmp_path / "deploy", files, "swarm").changes == ()
    changed = {**files, "stack.yml": files["stack.yml"] + "# more\n"}
    plan = stackgen.drift(tmp_path / "deploy", changed, "swarm")
    assert [e.path for e in plan.changes] == ["stack.yml"] and "+# more" in plan.diff()
