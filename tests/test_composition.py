"""A Composition makes its merged layers again, when asked, from the texts its build read:
the same values, positions and messages as those the build merged (fleet/assemble.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import stackgen
from stackgen.api import explanations
from stackgen.fleet.assemble import Composition

BASE = """description: base
runners:
  x:
    tags: [a, b]
    volumes: [/cache, /data]
    environment: {A: "1"}
defaults:
  volumes: [/scratch]
"""
CHILD = """include: [base]
runners:
  x:
    tags: [c]
    volumes: [!remove /data]
  y: {}
"""


def _assemble(tmp_path: Path, keep: bool) -> Composition:
    folder = tmp_path / "p"
    folder.mkdir(exist_ok=True)
    (folder / "base.yaml").write_text(BASE)
    (folder / "child.yaml").write_text(CHILD)
    return stackgen.assemble(["child"], sets=["runners.x.image=alpine:3.19"],
                             profile_dirs=[folder], keep_layers=keep)


def test_layers_made_again_are_those_merged(tmp_path: Path) -> None:
    kept = _assemble(tmp_path, keep=True)
    made = _assemble(tmp_path, keep=False)
    assert made.layers.kept is None
    shutil.rmtree(tmp_path / "p")  # the files may change or go: the texts read are kept
    assert made.tree == kept.tree
    assert dict(made.runners) == dict(kept.runners)
    assert made.profiles == kept.profiles
    assert explanations(made) == explanations(kept)
    assert made == kept
    rows = {r.key: (r.value, str(r.origin)) for r in explanations(made)}
    assert rows["runners.x.tags[2]"][0] == "c" and rows["runners.x.tags[2]"][1].endswith("child.yaml:4:12")
    assert rows["runners.x.image"] == ("alpine:3.19", "--set runners.x.image=alpine:3.19")
    assert [v.plain() for v in made.runners["x"].value["volumes"].value] == ["/cache", "/scratch"]  # /data: !remove


def test_runners_are_made_when_read(tmp_path: Path) -> None:
    runners = _assemble(tmp_path, keep=False).runners
    assert list(runners) == ["x", "y"] and len(runners) == 2 and "z" not in runners
    assert runners["y"] == runners["y"] and runners["y"] is not runners["y"]
    with pytest.raises(KeyError):
        runners["z"]
