"""The built wheel works on its own: profiles, templates and the example site ship inside it."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def test_wheel_installed_outside_the_checkout_runs(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
         "--quiet", "-w", str(dist)],
        check=True, capture_output=True,
    )
    wheel = next(dist.glob("stackgen-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "stackgen/profiles/preproc.yaml" in names
    assert "stackgen/examples/example-site/stackgen.yaml" in names
    assert "stackgen/py.typed" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # the fresh venv borrows the test venv's dependencies, but not its editable stackgen
    site = next((venv / "lib").glob("python*/site-packages"))
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin/python"), "install", "--no-deps",
         "--no-index", "--quiet", str(wheel)],
        check=True, capture_output=True,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    result = subprocess.run(
        [str(venv / "bin/stackgen"), "build", "preproc", "--target", "swarm", "-o", "out"],
        cwd=work, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (work / "out/stack.yml").is_file()
    where = subprocess.run(
        [str(venv / "bin/python"), "-c", "import stackgen; print(stackgen.__file__)"],
        cwd=work, capture_output=True, text=True, check=True,
    ).stdout
    assert str(venv) in where
