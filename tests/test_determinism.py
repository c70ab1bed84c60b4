"""Same inputs, same bytes: across hash seeds, locales, time zones, umasks and directories.

Each variant runs the real CLI in its own Python process (hash randomisation is fixed at
start-up) over every target in the registry and a spread of built-in profile sets, with
the example site copied to a different absolute path; the trees must match byte for byte,
modes included, and no output may name a path of the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from stackgen.resources import data_dir
from stackgen.targets import TARGETS

from .conftest import COMPOSED, ROLE_PROFILES, ROOT

DRIVER = """
import json, os, sys
from stackgen.cli import main
root, site, umask, builds = sys.argv[1], sys.argv[2], int(sys.argv[3], 8), json.loads(sys.argv[4])
os.umask(umask)
codes = {}
for target, profiles in builds:
    out = os.path.join(root, target, "+".join(profiles))
    try:
        main(["build", *profiles, "-t", target, "-f", site, "-o", out], standalone_mode=False)
        codes[out[len(root):]] = 0
    except SystemExit as exc:
        codes[out[len(root):]] = exc.code
with open(os.path.join(root, "codes.json"), "w") as fh:
    json.dump(codes, fh, sort_keys=True)
"""

VARIANTS = [
    {"PYTHONHASHSEED": "0", "LC_ALL": "C", "TZ": "UTC"},
    {"PYTHONHASHSEED": "4242", "LC_ALL": "C.UTF-8", "TZ": "Asia/Kathmandu"},
    {"PYTHONHASHSEED": "random", "LANG": "tr_TR.UTF-8", "TZ": "America/St_Johns"},
]
UMASKS = ["022", "077", "000"]


def tree(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mode & 0o777)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "codes.json"
    }


def test_output_is_byte_identical_across_processes(tmp_path: Path) -> None:
    # the composed sets, plus each role profile they leave out (every built-in is covered)
    covered = {name for profiles in COMPOSED for name in profiles}
    sets = [*COMPOSED, *((r,) for r in ROLE_PROFILES if r not in covered)]
    builds = [(t, list(p)) for t in TARGETS for p in sets]
    procs, roots, sites = [], [], []
    for i, (variant, umask) in enumerate(zip(VARIANTS, UMASKS, strict=True)):
        # the site file at a different absolute path (and depth) in every variant
        site_dir = tmp_path / f"machine{i}" / ("deep/" * i) / "site"
        shutil.copytree(data_dir("examples") / "example-site", site_dir)
        root = tmp_path / f"out{i}"
        cwd = tmp_path / f"cwd{i}"
        cwd.mkdir()
        env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LANG", "TZ")}
        env.update(variant)
        procs.append(subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(root), str(site_dir / "stackgen.yaml"), umask,
             json.dumps(builds)],
            cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        ))
        roots.append(root)
        sites.append(site_dir)
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    first = tree(roots[0])
    codes = json.loads((roots[0] / "codes.json").read_text())
    assert sum(c == 0 for c in codes.values()) >= len(TARGETS) * len(COMPOSED)
    for target in TARGETS:
        assert any(k.startswith(f"/{target}/") and c == 0 for k, c in codes.items()), target
    for root in roots[1:]:
        assert json.loads((root / "codes.json").read_text()) == codes
        other = tree(root)
        assert sorted(other) == sorted(first)
        for rel in first:
            assert other[rel] == first[rel], f"{rel} differs between runs"
    machine = [str(tmp_path), str(ROOT), *(str(s) for s in sites), str(Path.home())]
    for rel, (data, _) in first.items():
        text = data.decode("utf-8")
        for path in machine:
            if len(path) > 5:  # "/root" is a plausible word in a file; deeper paths are not
                assert path not in text, f"{rel} names a path of this machine: {path}"
