"""The writer: all files or none, the manifest, hand edits, stale files, modes, SIGKILL.

Confinement of planted manifests and journals, mount points and kill -9 at every step of
a commit are in tests/test_writer_hostile.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from stackgen.digest import sha256_hex as sha256
from stackgen.errors import UserError
from stackgen.output import commit
from stackgen.output.outdir import MANIFEST
from stackgen.output.writer import WriteResult, check_paths, write

OLD = {"stack.yml": "old stack\n", "data/config.toml": "token = \"${T}\"\n"}
NEW = {"stack.yml": "new stack\n", "proc/config.toml": "token = \"${P}\"\n"}


def put(out: Path, files: dict[str, str], **kw: object) -> WriteResult:
    sensitive = {p for p in files if p.endswith("config.toml")}
    return write(out, files, target="swarm", sensitive=sensitive, **kw)  # type: ignore[arg-type]


def tree(root: Path) -> dict[str, bytes]:
    """Every regular file under root (symlinks as 'link -> target'), by relative path."""
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = f"link -> {os.readlink(path)}".encode()
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_writes_files_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = put(out, OLD)
    assert set(result.written) == set(OLD) and not result.up_to_date
    assert {k: v for k, v in tree(out).items() if k != MANIFEST} == {
        k: v.encode() for k, v in OLD.items()
    }
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["target"] == "swarm"
    assert manifest["files"] == {k: sha256(v.encode()) for k, v in sorted(OLD.items())}
    assert list(manifest["files"]) == sorted(OLD)
    assert not [p for p in tmp_path.iterdir() if p.name != "out"], "no stray staging left"
    assert not [p for p in out.iterdir() if p.name.startswith(".stackgen-") and p.name != MANIFEST]


@pytest.mark.parametrize("mask", [0o077, 0o000, 0o022])
def test_modes_ignore_umask(tmp_path: Path, mask: int) -> None:
    old = os.umask(mask)
    try:
        put(tmp_path, OLD)
        put(tmp_path, NEW)
    finally:
        os.umask(old)
    assert mode(tmp_path / "proc/config.toml") == 0o600
    assert mode(tmp_path / "stack.yml") == 0o644
    assert mode(tmp_path / "proc") == 0o755


def test_up_to_date_build_touches_nothing_but_fixes_modes(tmp_path: Path) -> None:
    put(tmp_path, OLD)
    (tmp_path / "data/config.toml").chmod(0o666)
    before = (tmp_path / "stack.yml").stat().st_ino, tmp_path.stat().st_ino
    result = put(tmp_path, OLD)
    assert result.up_to_date and result.written == ()
    assert ((tmp_path / "stack.yml").stat().st_ino, tmp_path.stat().st_ino) == before
    assert mode(tmp_path / "data/config.toml") == 0o600


def test_stale_files_go_and_files_of_yours_stay(tmp_path: Path) -> None:
    out = tmp_path / "out"
    put(out, OLD)
    (out / "NOTES.md").write_text("mine\n")
    (out / "data/extra.txt").write_text("mine too\n")
    (out / "empty").mkdir()
    (out / "latest").symlink_to("stack.yml")
    inode = (out / "NOTES.md").stat().st_ino
    result = put(out, NEW)
    assert result.removed == ("data/config.toml",)
    files = tree(out)
    assert files["NOTES.md"] == b"mine\n" and files["data/extra.txt"] == b"mine too\n"
    assert files["latest"] == b"link -> stack.yml" and (out / "empty").is_dir()
    assert "data/config.toml" not in files and files["stack.yml"] == b"new stack\n"
    assert (out / "NOTES.md").stat().st_ino == inode, "your file is the same file, not a copy"
    assert set(json.loads(files[MANIFEST])["files"]) == set(NEW)


def test_directories_emptied_by_stale_files_are_removed(tmp_path: Path) -> None:
    put(tmp_path, {"a/b/c.txt": "x\n", "top.txt": "y\n"})
    put(tmp_path, {"top.txt": "y\n"})
    assert not (tmp_path / "a").exists()


def test_hand_edited_file_is_refused_then_forced(tmp_path: Path) -> None:
    put(tmp_path, OLD)
    (tmp_path / "stack.yml").write_text("my tweak\n")
    with pytest.raises(UserError) as err:
        put(tmp_path, NEW)
    message = str(err.value)
    assert "stack.yml" in message and "edited by hand" in message and "--force" in message
    assert (tmp_path / "stack.yml").read_text() == "my tweak\n"
    assert (tmp_path / "data/config.toml").exists(), "a refused build changes nothing"
    put(tmp_path, NEW, force=True)
    assert (tmp_path / "stack.yml").read_text() == "new stack\n"


def test_edited_stale_file_is_refused_then_forced(tmp_path: Path) -> None:
    put(tmp_path, OLD)
    (tmp_path / "data/config.toml").write_text("edited\n")
    with pytest.raises(UserError, match="data/config.toml.*no longer produces"):
        put(tmp_path, NEW)
    put(tmp_path, NEW, force=True)
    assert not (tmp_path / "data/config.toml").exists()


def test_file_stackgen_did_not_write_is_refused_unless_identical(tmp_path: Path) -> None:
    (tmp_path / "stack.yml").write_text("someone else's\n")
    with pytest.raises(UserError, match="stack.yml: exists, but stackgen did not write it"):
        put(tmp_path, OLD)
    (tmp_path / "stack.yml").write_text(OLD["stack.yml"])  # the same bytes: adopted
    put(tmp_path, OLD)
    assert "stack.yml" in json.loads((tmp_path / MANIFEST).read_text())["files"]


def test_other_target_in_the_same_directory_is_refused(tmp_path: Path) -> None:
    put(tmp_path, OLD)
    with pytest.raises(UserError, match="holds the 'swarm' build"):
        write(tmp_path, NEW, target="helm", sensitive=())
    write(tmp_path, NEW, target="helm", sensitive=(), force=True)


def test_damaged_manifest_is_refused_then_forced(tmp_path: Path) -> None:
    put(tmp_path, OLD)
    (tmp_path / MANIFEST).write_text("{not json")
    with pytest.raises(UserError, match="damaged"):
        put(tmp_path, OLD)
    put(tmp_path, OLD, force=True)
    assert json.loads((tmp_path / MANIFEST).read_text())["target"] == "swarm"


@pytest.mark.parametrize("force", [False, True])
def test_never_writes_through_symlinks_or_over_directories(tmp_path: Path, force: bool) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "data").symlink_to(elsewhere)
    (out / "stack.yml").mkdir()
    with pytest.raises(UserError) as err:
        put(out, OLD, force=force)
    assert "data is a symbolic link" in str(err.value) and "stack.yml: is a directory" in str(err.value)
    assert list(elsewhere.iterdir()) == []


def test_symlink_at_a_generated_path_needs_force_and_only_the_link_is_replaced(tmp_path: Path) -> None:
    target = tmp_path / "precious.yml"
    target.write_text("keep me\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "stack.yml").symlink_to(target)
    with pytest.raises(UserError, match="symbolic link"):
        put(out, OLD)
    put(out, OLD, force=True)
    assert not (out / "stack.yml").is_symlink() and target.read_text() == "keep me\n"


def test_symlinked_output_directory_stays_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    put(tmp_path / "link", OLD)
    put(tmp_path / "link", NEW)
    assert (tmp_path / "link").is_symlink() and (real / "proc/config.toml").is_file()


def test_output_holding_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    put(Path("."), OLD)
    put(Path("."), NEW)
    assert tree(tmp_path)["stack.yml"] == b"new stack\n"


def test_files_you_save_while_a_build_is_staged_are_not_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    put(out, OLD)
    (out / "notes.md").write_text("v1\n")

    def person_at_work(step: str) -> None:
        if step == "journal":  # staged, not yet committed
            (out / "new-file.txt").write_text("created meanwhile\n")
            (out / "tmp-save").write_text("v2\n")
            os.replace(out / "tmp-save", out / "notes.md")  # how editors save

    monkeypatch.setattr(commit, "_checkpoint", person_at_work)
    assert put(out, NEW).notes == ()
    files = tree(out)
    assert files["new-file.txt"] == b"created meanwhile\n" and files["notes.md"] == b"v2\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_output_path_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("")
    with pytest.raises(UserError, match="not a directory"):
        put(tmp_path / "out", OLD)


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "../x", "a/../../x", "", "a//b", "./a", ".stackgen-manifest.json", "a\\b"]
)
def test_unsafe_paths_are_a_bug(path: str) -> None:
    with pytest.raises(ValueError, match="unsafe path"):
        check_paths({path: ""})


def test_file_inside_a_file_is_a_bug() -> None:
    with pytest.raises(ValueError, match="inside the file"):
        check_paths({"a": "", "a/b": ""})


# --- SIGKILL in the middle of a write (every step: tests/test_writer_hostile.py) -----

CLI_CHILD = """
import os, signal, sys
from stackgen import cli
from stackgen.output import commit
at = sys.argv[1]
def checkpoint(step):
    if step == at:
        os.kill(os.getpid(), signal.SIGKILL)
commit._checkpoint = checkpoint
sys.argv = ["stackgen", *sys.argv[2:]]
cli.main()
"""


@pytest.mark.parametrize("step", ["journal", "replace"])
def test_cli_killed_mid_build(tmp_path: Path, step: str) -> None:
    out = tmp_path / "out"
    cmd = ["build", "preproc", "-t", "swarm", "-o", str(out)]
    subprocess.run([sys.executable, "-m", "stackgen", *cmd], check=True, capture_output=True)
    before = tree(out)
    changed = [*cmd, "--set", "manager.concurrent=9"]
    child = subprocess.run([sys.executable, "-c", CLI_CHILD, step, *changed], capture_output=True)
    assert child.returncode == -signal.SIGKILL
    if step == "journal":  # before the commit point: the previous output, byte for byte
        assert {k: v for k, v in tree(out).items() if not k.startswith(".stackgen-tx/")} == before
    check = [sys.executable, "-m", "stackgen", *changed, "--check"]
    assert subprocess.run(check, capture_output=True).returncode == 1
    subprocess.run([sys.executable, "-m", "stackgen", *changed], check=True, capture_output=True)
    assert subprocess.run(check, capture_output=True).returncode == 0
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".stackgen-")) == [MANIFEST]


RACER = """
import json, sys
from pathlib import Path
from stackgen.output.writer import write
out, files = Path(sys.argv[1]), json.loads(sys.argv[2])
for _ in range(8):
    write(out, files, target="swarm", sensitive={"proc/config.toml"}, force=True)
"""


def test_concurrent_runs_never_mix_their_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    builds = [{f"n{i}/config.toml": f"{tag} {i}\n" for i in range(10)} for tag in ("a", "b")]
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(out), json.dumps(files)],
                               stderr=subprocess.PIPE) for files in builds]
    for racer in racers:
        _, err = racer.communicate(timeout=60)
        assert racer.returncode == 0, err.decode()
    files = {k: v.decode() for k, v in tree(out).items() if k != MANIFEST}
    assert files in builds
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
