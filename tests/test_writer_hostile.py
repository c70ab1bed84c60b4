"""The writer against planted manifests and journals, mount points, odd output paths, and
kill -9 at every step of a commit and of the recovery after one (issue 12, items 1-4,
11, 14-17)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from stackgen.cli import main
from stackgen.digest import sha256_hex as sha256
from stackgen.errors import UserError
from stackgen.output import commit
from stackgen.output.confine import Root
from stackgen.output.outdir import MANIFEST
from stackgen.output.writer import WriteResult, preview, write
from stackgen.targets import sensitive_files
from tests.test_writer import tree

OLD = {"stack.yml": "old stack\n", "data/config.toml": "token = \"${T}\"\n",
       "a/b/old.txt": "old\n", "keep.txt": "same\n"}
NEW = {"stack.yml": "new stack\n", "proc/config.toml": "token = \"${P}\"\n",
       "a/new.txt": "new\n", "keep.txt": "same\n"}
SECRET = "TOP-SECRET-ENVIRON-CONTENT\n"


def put(out: Path, files: dict[str, str], **kw: object) -> WriteResult:
    kw.setdefault("sensitive", sensitive_files("swarm", files))
    return write(out, files, target="swarm", **kw)  # type: ignore[arg-type]


def visible(root: Path) -> dict[str, bytes]:
    """What a reader sees: everything but stackgen's own working folders."""
    return {k: v for k, v in tree(root).items() if not k.startswith((".stackgen-tx",
            ".stackgen-commit", ".stackgen-done"))}


def expected(files: dict[str, str], extra: dict[str, bytes]) -> dict[str, bytes]:
    return {**{k: v.encode() for k, v in files.items()}, **extra}


def plant_manifest(out: Path, files: dict[str, str]) -> None:
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"].update({rel: sha256(text.encode()) for rel, text in files.items()})
    (out / MANIFEST).write_text(json.dumps(manifest))


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


# --- item 1: manifest paths are confined ------------------------------------------------


def _confined_as_pathlib_did(rel: str) -> bool:
    """The rule before confine used string tests (PurePosixPath), for the property below."""
    from pathlib import PurePosixPath

    path = PurePosixPath(rel)
    return not (not rel or path.is_absolute() or str(path) != rel or "\\" in rel or "\x00" in rel
                or any(part in (".", "..") for part in path.parts)
                or any(len(os.fsencode(part)) > 255 for part in path.parts))


@given(st.text(alphabet=st.sampled_from(["a", "b", ".", "/", "\\", "\x00", "é", "\udc80", "\ud800"]),
               max_size=12) | st.builds(lambda n, c: c * n, st.integers(60, 260), st.sampled_from("aé")))
def test_confine_is_the_pathlib_rule_but_for_dot_and_unstorable_names(rel: str) -> None:
    from stackgen.output.confine import Unsafe, confine

    try:
        ours = confine(rel) == rel
    except Unsafe:
        ours = False
    try:
        theirs = _confined_as_pathlib_did(rel)
    except UnicodeEncodeError:  # the old rule crashed here; the new one refuses
        assert not ours
        return
    # "." named the output directory itself: no file stackgen writes
    assert ours == theirs or (rel == "." and not ours), rel


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "environ").write_text(SECRET)
    return victim


@pytest.mark.parametrize("planted", ["ABS", "../victim/environ", "a/../../victim/environ",
                                     "link/environ", "./x", ".stackgen-commit/journal.json"])
def test_planted_manifest_paths_are_never_shown_or_deleted(
    tmp_path: Path, outside: Path, planted: str
) -> None:
    out = tmp_path / "out"
    put(out, OLD)
    (out / "link").symlink_to(outside)
    rel = str(outside / "environ") if planted == "ABS" else planted
    plant_manifest(out, {rel: SECRET})
    plan = preview(out, NEW, "swarm")  # what --diff and --check print
    assert SECRET.strip() not in plan.diff()
    assert all(e.path != rel for e in plan.entries)
    if "link/" not in rel:  # a lexically bad entry is reported (and refused) ...
        with pytest.raises(UserError, match="ignores that entry"):
            put(out, NEW)
    put(out, NEW, force=True)  # ... and --force writes a clean manifest without it
    assert (outside / "environ").read_text() == SECRET
    assert rel not in json.loads((out / MANIFEST).read_text())["files"]


def test_planted_manifest_through_the_cli(tmp_path: Path, outside: Path) -> None:
    assert cli("build", "preproc", "-t", "swarm", "-o", "out")[0] == 0
    plant_manifest(tmp_path / "out", {"../victim/environ": SECRET})
    code, out, err = cli("build", "preproc", "-t", "swarm", "-o", "out", "--check")
    # the manifest is not what stackgen writes: drift, for a CI gate to catch the plant
    assert code == 1 and SECRET.strip() not in out + err and "ignores that entry" in err
    code, _, err = cli("build", "preproc", "-t", "swarm", "-o", "out", "--force")
    assert code == 0 and (outside / "environ").read_text() == SECRET
    assert cli("build", "preproc", "-t", "swarm", "-o", "out", "--check")[0] == 0


# --- item 2: a planted journal is never applied -----------------------------------------


def plant_journal(out: Path, doc: dict[str, object]) -> None:
    (out / commit.COMMIT / "files").mkdir(parents=True)
    (out / commit.COMMIT / commit.JOURNAL).write_text(json.dumps(doc))


def test_planted_journal_from_elsewhere_is_refused_then_discarded(tmp_path: Path, outside: Path) -> None:
    out = tmp_path / "out"
    put(out, OLD)
    (outside / "other").write_text("x")
    doc = {"version": 1, "directory": [1, 2], "write": ["../victim/other"],
           "delete": {"../victim/environ": sha256(SECRET.encode())},
           "modes": {"../victim/other": 0o666}}
    plant_journal(out, doc)
    with pytest.raises(UserError, match="not made by a build of this directory"):
        put(out, NEW)
    assert put(out, NEW, force=True).notes
    assert (outside / "environ").read_text() == SECRET
    assert (outside / "other").stat().st_mode & 0o777 != 0o666
    assert not (out / commit.COMMIT).exists()


@pytest.mark.parametrize("field,value", [
    ("write", ["../victim/other"]), ("write", ["/etc/passwd"]),
    ("delete", {"../victim/environ": "0" * 64}), ("modes", {"../victim/other": 0o644}),
    ("modes", {"stack.yml": 0o666}), ("write", "not a list"),
])
def test_journal_paths_are_validated_even_with_the_right_identity(
    tmp_path: Path, field: str, value: object
) -> None:
    out = tmp_path / "out"
    put(out, OLD)
    st = os.stat(out)
    doc = {"version": 1, "directory": [st.st_dev, st.st_ino], "write": [], "delete": {},
           "modes": {}, field: value}
    plant_journal(out, doc)
    with pytest.raises(commit.BadJournal):
        commit.read_journal(Root.of(out))
    with pytest.raises(UserError, match="did not apply it"):
        put(out, NEW)


def test_journal_entries_through_a_symlink_are_skipped(tmp_path: Path, outside: Path) -> None:
    out = tmp_path / "out"
    put(out, OLD)
    (out / "link").symlink_to(outside)
    (outside / "other").write_text("x")
    st = os.stat(out)
    doc = {"version": 1, "directory": [st.st_dev, st.st_ino], "write": ["link/other"],
           "delete": {"link/environ": sha256(SECRET.encode())}, "modes": {"link/other": 0o600}}
    plant_journal(out, doc)
    (out / commit.COMMIT / "files/link").mkdir()
    (out / commit.COMMIT / "files/link/other").write_text("planted")
    result = put(out, NEW)
    assert any("not written" in n for n in result.notes)
    assert (outside / "environ").read_text() == SECRET and (outside / "other").read_text() == "x"
    assert (outside / "other").stat().st_mode & 0o777 != 0o600


# --- item 3: an interrupted cleanup never blocks ----------------------------------------


def test_commit_dir_without_journal_does_not_block(tmp_path: Path) -> None:
    """What the old writer left when killed while removing its commit directory."""
    out = tmp_path / "out"
    put(out, OLD)
    (out / commit.COMMIT / "files/x").mkdir(parents=True)
    assert preview(out, OLD, "swarm").pending
    assert put(out, NEW).written
    assert not (out / commit.COMMIT).exists()
    assert visible(out) == {**expected(NEW, {}), MANIFEST: (out / MANIFEST).read_bytes()}


# --- kill -9 at every step ----------------------------------------------------------------

CHILD = """
import json, os, signal, sys
from pathlib import Path
from stackgen.output import commit
from stackgen.output.writer import write
from stackgen.targets import sensitive_files
out, files, kill_at, force = Path(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
steps = []
def checkpoint(step):
    steps.append(step)
    if len(steps) == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
commit._checkpoint = checkpoint
write(out, files, target="swarm", sensitive=sensitive_files("swarm", files), force=force == "1")
print(json.dumps(steps))
"""


def run_child(out: Path, files: dict[str, str], kill_at: int, force: bool = False) -> list[str] | None:
    """Write in a child process killed at its `kill_at`-th step; the steps if it finished."""
    child = subprocess.run([sys.executable, "-c", CHILD, str(out), json.dumps(files),
                            str(kill_at), "1" if force else "0"], capture_output=True, text=True)
    if child.returncode == -signal.SIGKILL:
        return None
    assert child.returncode == 0, child.stderr
    return list(json.loads(child.stdout))


def fresh(tmp_path: Path, name: str) -> tuple[Path, dict[str, bytes]]:
    out = tmp_path / name
    put(out, OLD)
    (out / "mine.txt").write_text("mine\n")
    (out / "a/mine.txt").write_text("mine too\n")
    return out, visible(out)


def settled(out: Path, mine: dict[str, bytes]) -> None:
    files = visible(out)
    manifest = files.pop(MANIFEST)
    assert files == expected(NEW, mine)
    assert set(json.loads(manifest)["files"]) == set(NEW)
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".stackgen-")) == [MANIFEST]
    assert (out / "proc/config.toml").stat().st_mode & 0o777 == 0o600


MINE = {"mine.txt": b"mine\n", "a/mine.txt": b"mine too\n"}


@pytest.mark.parametrize("force", [False, True])
def test_kill_at_every_step_of_a_commit(tmp_path: Path, force: bool) -> None:
    """After a kill at step N the output is the old one (before the commit point) or is
    completed by the next run; --check never says up to date in between."""
    n, seen = 0, []
    while True:
        n += 1
        out, before = fresh(tmp_path, f"run{n}")
        steps = run_child(out, NEW, n, force)
        if steps is not None:  # finished: every step has been a kill point
            assert n > 15, steps
            settled(out, MINE)
            break
        seen.append(n)
        if (out / commit.COMMIT).exists():  # committed, being applied: the next run completes it
            assert preview(out, NEW, "swarm").pending
        elif (out / commit.DONE).exists() or (out / "a/new.txt").exists():
            assert preview(out, NEW, "swarm").up_to_date, f"killed at step {n}: all new"
        else:
            assert visible(out) == before, f"killed at step {n}: all old"
        assert put(out, NEW, force=force).notes == ()
        settled(out, MINE)
    assert len(seen) >= 15


@pytest.mark.parametrize("first_kill", ["journal", "commit"])
def test_kill_at_every_step_of_the_recovery(tmp_path: Path, first_kill: str) -> None:
    """A run killed right before (rolled back) or after its commit point (completed), then
    the recovering run killed at each of its steps, then a plain run: the new output."""
    out, _ = fresh(tmp_path, "probe")
    steps = run_child(out, NEW, 10**6)
    assert steps is not None
    first = steps.index(first_kill) + 1
    m = 0
    while True:
        m += 1
        out, _ = fresh(tmp_path, f"rec{m}")
        assert run_child(out, NEW, first) is None
        pending = commit.COMMIT if first_kill == "commit" else commit.TX
        assert (out / pending).is_dir()
        if run_child(out, NEW, m) is not None:
            settled(out, MINE)
            break
        put(out, NEW)
        settled(out, MINE)
    assert m > 5


# --- item 4: mount points inside the output --------------------------------------------


@pytest.fixture
def mounted(tmp_path: Path) -> object:
    point = tmp_path / "out" / "mnt"
    point.mkdir(parents=True)
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "none", str(point)],
                                           capture_output=True).returncode:
        pytest.skip("needs root and mount")
    yield point
    subprocess.run(["umount", "-l", str(point)], check=False)


def test_mount_points_are_never_entered(tmp_path: Path, mounted: Path) -> None:
    out = tmp_path / "out"
    (mounted / "config.toml").write_text("precious\n")
    (mounted / "sub").mkdir()
    put(out, OLD)
    plant_manifest(out, {"mnt/config.toml": "precious\n"})  # stale, its hash matches
    put(out, NEW)
    assert (mounted / "config.toml").read_text() == "precious\n"
    with pytest.raises(UserError, match="mnt is on another filesystem"):
        put(out, {**NEW, "mnt/sub/new.txt": "x\n"}, force=True)
    assert sorted(os.listdir(mounted)) == ["config.toml", "sub"]


# --- item 11: the directory keeps what it is ------------------------------------------


def test_output_directories_keep_owner_mode_inode_and_xattrs(tmp_path: Path) -> None:
    out = tmp_path / "out"
    put(out, OLD)
    os.chmod(out, 0o750)
    os.chmod(out / "a", 0o710)
    if os.geteuid() == 0:
        os.chown(out, 1234, 1234)
    try:
        os.setxattr(out, "user.stackgen-test", b"kept")
    except OSError:
        pass
    before = [(p.stat().st_ino, p.stat().st_mode, p.stat().st_uid) for p in (out, out / "a")]
    xattrs = os.listxattr(out)
    put(out, NEW)
    assert [(p.stat().st_ino, p.stat().st_mode, p.stat().st_uid) for p in (out, out / "a")] == before
    assert os.listxattr(out) == xattrs


# --- items 14-16: odd output directories and failures ---------------------------------


def test_new_output_directory_is_0755_under_umask_000(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        put(tmp_path / "x/y/out", OLD)
    finally:
        os.umask(old)
    for path in ("x", "x/y", "x/y/out", "x/y/out/data"):
        assert (tmp_path / path).stat().st_mode & 0o777 == 0o755, path


def test_out_of_space_while_staging_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    put(out, OLD)
    before = tree(out)
    real, calls = commit.write_file, []

    def full(path: Path, data: bytes, mode: int) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data, mode)

    monkeypatch.setattr(commit, "write_file", full)
    with pytest.raises(UserError, match="No space left"):
        put(out, NEW)
    assert tree(out) == before


@pytest.mark.parametrize("output", ["", "  ", "/", "HOME", "x" * 300, "a/" + "y" * 256 + "/b"])
def test_output_paths_no_build_should_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          output: str) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    if output == "HOME":
        output = str(tmp_path)
    for extra in ((), ("--check",)):
        code, _, err = cli("build", "preproc", "-t", "swarm", "-o", output, *extra)
        assert code == 2, err
        assert "stackgen: error: " in err and "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == []


def test_force_reports_only_what_it_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    put(out, OLD)
    (out / "data/config.toml").write_text("edited\n")
    (out / "a/b/old.txt").unlink()
    result = put(out, NEW, force=True)
    assert result.removed == ("data/config.toml",)


def test_library_refuses_an_empty_output_path() -> None:
    import stackgen

    for call in (stackgen.write, stackgen.drift):
        with pytest.raises(UserError, match="output directory is empty"):
            call("", NEW, "swarm")


def test_staged_files_are_never_taken_through_a_link(tmp_path: Path, outside: Path) -> None:
    out = tmp_path / "out"
    put(out, OLD)
    st = os.stat(out)
    (out / commit.COMMIT).mkdir()
    (out / commit.COMMIT / commit.JOURNAL).write_text(json.dumps(
        {"version": 1, "directory": [st.st_dev, st.st_ino], "write": ["environ"],
         "delete": {}, "modes": {}}))
    (out / commit.COMMIT / "files").symlink_to(outside)
    result = put(out, OLD)
    assert any("environ was not written" in note for note in result.notes)
    assert (outside / "environ").read_text() == SECRET and not (out / "environ").exists()


def test_force_rewrites_a_manifest_with_refused_entries(tmp_path: Path) -> None:
    """A planted entry leaves the files as they are, but --check reports it as drift and
    --force writes a clean manifest (it did nothing before, saying "up to date")."""
    import json

    from stackgen.output.outdir import MANIFEST
    from stackgen.output.writer import preview

    out = tmp_path / "out"
    put(out, OLD)
    manifest = out / MANIFEST
    doc = json.loads(manifest.read_text())
    doc["files"]["../planted"] = "0" * 64
    manifest.write_text(json.dumps(doc))
    assert not preview(out, {k: v for k, v in OLD.items()}, "swarm").up_to_date
    result = put(out, OLD, force=True)
    assert result.manifest_rewritten and "planted" not in manifest.read_text()
    assert preview(out, dict(OLD), "swarm").up_to_date
