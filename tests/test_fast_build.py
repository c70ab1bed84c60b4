"""The front door reads plain `build` command lines as click does, and runs them as the click
command does (stackgen.fast_build)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stackgen import fast_build
from stackgen.cli import build, build_spec, main
from tests.conftest import ROOT

TOKENS = ["preproc", "bids", "-t", "--target", "swarm", "helm", "nosuch", "-o", "--output", "out",
          "-", "", " ", "--set", "a=b", "--profiles-dir", "profiles", "somefile", "-f", "--site",
          "stackgen.yaml", "--stdout", "--check", "--diff", "--force", "--only", "stack.yml", "--",
          "-h", "--help", "-tswarm", "--target=swarm", "--target=", "--output=", "--stdout=1",
          "-x", "--bogus", "--set=c=d", "-o=out"]


def _spec() -> dict[str, object]:
    parent = main.make_context("stackgen", ["build"])
    spec = build_spec(build.make_context("build", ["x", "-t", "swarm"], parent=parent))
    assert spec is not None
    return spec


def _clicks(args: list[str]) -> dict[str, object] | None:
    try:
        parent = main.make_context("stackgen", ["build"])
        return build.make_context("build", list(args), parent=parent).params
    except (click.exceptions.ClickException, click.exceptions.Exit):
        return None


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with a file and a folder for the path options to meet."""
    (tmp_path / "profiles").mkdir()
    (tmp_path / "somefile").write_text("x")
    (tmp_path / "stackgen.yaml").write_text("x")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("fast")
    (where / "profiles").mkdir()
    (where / "somefile").write_text("x")
    (where / "stackgen.yaml").write_text("x")
    return where


@settings(max_examples=400, deadline=None)
@given(args=st.lists(st.sampled_from(TOKENS), max_size=9))
def test_what_the_front_door_reads_is_what_click_reads(args: list[str], shared_folder: Path) -> None:
    with contextlib.chdir(shared_folder), contextlib.redirect_stdout(io.StringIO()):  # --help prints
        ours = fast_build._parse(list(args), _spec())
        assert ours is None or ours == _clicks(args), args


@pytest.mark.parametrize("args", [
    ["preproc", "-t", "swarm", "-o", "out"],
    ["bids", "preproc", "--target=helm", "--set", "a=b", "--set=c=d", "--stdout"],
    ["preproc", "--target", "compose", "-o", "-", "--only", "stack.yml"],
    ["-t", "swarm", "preproc", "-f", "stackgen.yaml", "--profiles-dir", "profiles", "--check"],
    ["preproc", "-t", "swarm", "--diff", "--force", "-o", "somewhere/new"],
])
def test_plain_command_lines_are_read_without_click(args: list[str], folder: Path) -> None:
    ours = fast_build._parse(list(args), _spec())
    assert ours is not None and ours == _clicks(args)


@pytest.mark.parametrize("args", [
    ["preproc", "-t", "swarm", "-f", "profiles"],  # a folder where a file is wanted
    ["preproc", "-t", "swarm", "--profiles-dir", "somefile"],
    ["preproc", "-t", "swarm", "-o", ""],
    ["preproc", "-t", "swarm", "-o", "a", "-o", "b"],  # click keeps the last: left to it
    ["preproc", "-t", "swarm", "-o", "--check"],  # click takes it as the value
    ["preproc", "-t", "swam"], ["preproc"], ["-t", "swarm"], ["preproc", "-t", "swarm", "-h"],
])
def test_everything_else_is_left_to_click(args: list[str], folder: Path) -> None:
    assert fast_build._parse(list(args), _spec()) is None


def _stackgen(cache: str, cwd: Path, *args: str) -> tuple[int, str, str, bool]:
    """`stackgen ARGS` through the front door: status, stdout, stderr, and whether click loaded."""
    code = ("import sys, atexit; sys.argv = ['stackgen', *sys.argv[1:]]\n"
            "atexit.register(lambda: print('click' in sys.modules, file=sys.stderr))\n"
            "from stackgen.launch import main; main(prog='stackgen')")
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "STACKGEN_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)})
    *err, loaded = done.stderr.splitlines()
    return done.returncode, done.stdout, "\n".join(err), loaded == "True"


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("args", [
    ["preproc", "-t", "swarm", "-o", "OUT"],
    ["preproc", "self-signed-certs", "-t", "compose", "-o", "-"],
    ["preproc", "-t", "swarm", "-o", "-", "--only", "stack.yml"],
    ["preproc", "-t", "swarm", "--only", "stack.yml"],  # refused: --only prints
    ["nosuch", "-t", "swarm"],
    ["preproc", "-t", "helm", "--set", "manager.concurrent=8", "--diff", "-o", "OUT"],
    ["preproc", "-t", "swarm", "--check", "-o", "OUT"],
])
def test_the_fast_path_runs_build_as_click_does(args: list[str], tmp_path: Path) -> None:
    runs = {}
    for name, cache in (("click", ""), ("fast", str(tmp_path / "cache"))):
        cwd = tmp_path / name
        cwd.mkdir()
        line = [a.replace("OUT", str(cwd / "out")) for a in ["build", *args]]
        if cache:
            _stackgen(cache, cwd, "build", "preproc", "-t", "swarm", "-o", "-")  # keeps the spec
        status, out, err, loaded = _stackgen(cache, cwd, *line)
        assert loaded is (name == "click"), (name, err)
        runs[name] = (status, out.replace(str(cwd), "CWD"), err.replace(str(cwd), "CWD"),
                      _tree(cwd / "out") if (cwd / "out").exists() else None)
    assert runs["fast"] == runs["click"]


def test_drift_and_a_closed_stdout_end_as_with_click(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    _stackgen(cache, tmp_path, "build", "preproc", "-t", "swarm", "-o", "out")
    (tmp_path / "out" / "stack.yml").write_text("edited\n")
    status, out, err, loaded = _stackgen(cache, tmp_path, "build", "preproc", "-t", "swarm", "-o", "out",
                                         "--check")
    assert (status, loaded) == (1, False) and "differs from what stackgen would generate" in err
    proc = subprocess.Popen([sys.executable, "-m", "stackgen", "build", "preproc", "-t", "swarm", "-o", "-"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "STACKGEN_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait() == 141 and "internal error" not in err


def test_a_spec_is_kept_only_for_the_click_and_stackgen_that_made_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from stackgen import cache

    monkeypatch.setenv("STACKGEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cache, "_FOLDERS", {})
    fast_build.keep(_spec())
    assert fast_build.parse(["preproc", "-t", "swarm"]) is not None
    monkeypatch.setattr(cache, "library_stamp", lambda paths: (("click/__init__.py", 1, 2),))
    assert fast_build.parse(["preproc", "-t", "swarm"]) is None
    monkeypatch.undo()
    monkeypatch.setenv("STACKGEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("_STACKGEN_COMPLETE", "bash_complete")
    monkeypatch.setattr(cache, "_FOLDERS", {})
    assert fast_build.parse(["preproc", "-t", "swarm"]) is None  # completion is click's
