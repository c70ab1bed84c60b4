"""How a staged build becomes the output: a directory swap, or a journal committed in place.

writer.py decides which (its docstring says why); this module does the file system work.
Every step is ordered so that a SIGKILL at any point leaves either the old output or one
that `recover` completes: files are fsynced before the rename that publishes them, and the
rename is the only step that changes what a reader sees.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .outdir import MANIFEST, RESERVED, Plan, sha256

FILE_MODE, SECRET_MODE, DIR_MODE = 0o644, 0o600, 0o755
TX, COMMIT = ".stackgen-tx", ".stackgen-commit"  # in-place staging, before / after the commit
STAGE = ".stackgen-new-"  # sibling staging directories: .NAME.stackgen-new-XXXX
CARRY_LIMIT = 500  # more files of yours than this: commit in place rather than link them all
PAUSE_ENV = "STACKGEN_TEST_PAUSE"  # "PHASE:MARKER": tests SIGKILL the writer at PHASE


def checkpoint(phase: str) -> None:
    """Test hook: with STACKGEN_TEST_PAUSE=PHASE:MARKER, create MARKER and wait to be killed."""
    spec = os.environ.get(PAUSE_ENV, "")
    if spec.partition(":")[0] == phase:
        Path(spec.partition(":")[2]).touch()
        time.sleep(60)


# --- writing files ---------------------------------------------------------------------


def write_file(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        os.fchmod(fd, mode)  # the umask must not decide who can read a token-bearing file
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(root: Path, rel_dir: PurePosixPath) -> None:
    path = root
    for part in rel_dir.parts:
        path = path / part
        if not path.is_dir():
            path.mkdir()
            os.chmod(path, DIR_MODE)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError:  # some filesystems cannot sync a directory; the data is already synced
        pass
    finally:
        os.close(fd)


def set_modes(out: Path, modes: Mapping[str, int]) -> None:
    for rel, mode in modes.items():
        path = out / rel
        if path.is_file() and not path.is_symlink() and stat.S_IMODE(path.stat().st_mode) != mode:
            os.chmod(path, mode)


def stage_files(root: Path, data: Mapping[str, bytes], modes: Mapping[str, int], manifest: str) -> None:
    for rel in sorted(data):
        make_dirs(root, PurePosixPath(rel).parent)
        write_file(root / rel, data[rel], modes[rel])
    write_file(root / MANIFEST, manifest.encode("utf-8"), FILE_MODE)
    for directory in sorted({root / PurePosixPath(rel).parent for rel in data}, reverse=True):
        fsync_dir(directory)


# --- the directory swap ----------------------------------------------------------------


class CannotSwap(Exception):
    """The output directory cannot be swapped; commit in place instead."""


def exchange(a: Path, b: Path) -> None:
    """Atomically swap two directories, or raise CannotSwap where the system cannot."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    src, dst = os.fsencode(a), os.fsencode(b)
    if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
        at_fdcwd, rename_exchange = -100, 2  # <fcntl.h>, <linux/fs.h>
        rc = libc.renameat2(at_fdcwd, src, at_fdcwd, dst, ctypes.c_uint(rename_exchange))
    elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):
        rc = libc.renamex_np(src, dst, ctypes.c_uint(0x2))  # RENAME_SWAP, <stdio.h>
    else:
        raise CannotSwap("no atomic exchange on this platform")
    if rc != 0:
        err = ctypes.get_errno()
        if err in (errno.EINVAL, errno.ENOSYS, errno.EXDEV, errno.EBUSY, errno.ENOTSUP,
                   errno.EOPNOTSUPP, errno.EPERM, errno.EACCES):
            raise CannotSwap(os.strerror(err))
        raise OSError(err, os.strerror(err), str(b))


def _swappable(out: Path) -> bool:
    cwd = Path.cwd().resolve()
    return not os.path.ismount(out) and cwd != out and out not in cwd.parents


@dataclass
class _Carried:
    seen: set[str]  # every path of the old tree the walk looked at
    files: dict[str, int]  # regular files linked into the new tree -> inode
    dir_modes: dict[str, int]


def _carry(old: Path, new: Path, skip: Collection[str]) -> _Carried:
    """Link everything of the old tree that stackgen does not own into the new tree."""
    carried = _Carried(set(), {}, {})

    def visit(rel_dir: str) -> bool:
        """Carry one directory's entries; False if it had entries and none were carried."""
        with os.scandir(old / rel_dir) as it:
            entries = sorted(it, key=lambda e: e.name)
        kept = not entries  # an empty directory of yours stays
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if not rel_dir and entry.name.startswith(RESERVED):
                continue
            carried.seen.add(rel)
            if rel in skip:
                continue
            if len(carried.seen) > CARRY_LIMIT:
                raise CannotSwap("too many files of yours to carry over")
            st = entry.stat(follow_symlinks=False)
            target = new / rel
            if stat.S_ISDIR(st.st_mode):
                target.mkdir()
                carried.dir_modes[rel] = stat.S_IMODE(st.st_mode)
                if visit(rel):
                    kept = True
                else:  # it held only stackgen's files: the staging decides if it stays
                    target.rmdir()
                continue
            kept = True
            if stat.S_ISLNK(st.st_mode):
                os.symlink(os.readlink(entry.path), target)
            elif stat.S_ISREG(st.st_mode):
                try:
                    os.link(entry.path, target)
                except OSError:  # no hard links here (or not allowed): a copy keeps the content
                    shutil.copy2(entry.path, target)
                carried.files[rel] = st.st_ino
            else:
                raise CannotSwap(f"{rel} is a special file")
        return kept

    visit("")
    return carried


def by_exchange(
    out: Path, todo: Plan, data: Mapping[str, bytes], modes: Mapping[str, int], required: bool
) -> list[str] | None:
    """Stage the whole new tree beside `out` and swap; None when a swap is not possible."""
    if not required and not _swappable(out):
        return None
    try:
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}{STAGE}", dir=out.parent))
    except OSError:
        if required:
            raise
        return None
    # Lock the new tree too: once swapped in it is the output directory, and another run
    # must wait until this one has moved everything across and cleaned up.
    lock = _hold(stage)
    try:
        return _swap(out, stage, todo, data, modes, required)
    finally:
        if lock is not None:
            os.close(lock)


def _hold(path: Path) -> int | None:
    try:
        import fcntl
    except ImportError:
        return None
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _swap(
    out: Path, stage: Path, todo: Plan, data: Mapping[str, bytes], modes: Mapping[str, int],
    required: bool,
) -> list[str] | None:
    try:
        skip = set(data) | {e.path for e in todo.changes if e.action == "delete"}
        carried = _carry(out, stage, skip)
        stage_files(stage, data, modes, todo.manifest.dumps())
        for rel, mode in sorted(carried.dir_modes.items(), reverse=True):
            if (stage / rel).is_dir():
                os.chmod(stage / rel, mode)
        os.chmod(stage, stat.S_IMODE(os.stat(out).st_mode))
        fsync_dir(stage)
        checkpoint("staged")
        exchange(stage, out)
    except CannotSwap:
        shutil.rmtree(stage, ignore_errors=True)
        if required:
            raise
        return None
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    fsync_dir(out.parent)
    checkpoint("exchanged")
    stuck = _rescue(stage, out, carried, skip)
    if not stuck:
        shutil.rmtree(stage, ignore_errors=True)
        return []
    kept = stage.with_name(stage.name.replace(STAGE, ".stackgen-kept-"))
    os.rename(stage, kept)  # out of reach of recover, which deletes stray stages
    return [f"{', '.join(stuck)} changed while the build was staged and clashed with the "
            f"new output; the earlier tree is kept in {kept}"]


def _rescue(old: Path, new: Path, carried: _Carried, skip: Collection[str]) -> list[str]:
    """Move across what a person created or saved in the old tree while the new one was
    staged; returns the paths that could not be moved because the new tree has them."""
    stuck: list[str] = []

    def visit(rel_dir: str) -> None:
        with os.scandir(old / rel_dir) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if (not rel_dir and entry.name.startswith(RESERVED)) or rel in skip:
                continue
            st = entry.stat(follow_symlinks=False)
            if rel not in carried.seen or (
                rel in carried.files and st.st_ino != carried.files[rel]
            ):
                target = new / rel
                if rel in carried.seen or not os.path.lexists(target):
                    make_dirs(new, PurePosixPath(rel).parent)
                    os.replace(entry.path, target)
                else:
                    stuck.append(rel)
            elif stat.S_ISDIR(st.st_mode):
                visit(rel)

    visit("")
    return stuck


# --- committing in place ---------------------------------------------------------------


def in_place(
    out: Path, todo: Plan, data: Mapping[str, bytes], modes: Mapping[str, int]
) -> None:
    tx = out / TX
    shutil.rmtree(tx, ignore_errors=True)
    tx.mkdir(mode=0o700)
    (tx / "files").mkdir()
    changed = {e.path: data[e.path] for e in todo.changes if e.action != "delete"}
    stage_files(tx / "files", changed, modes, todo.manifest.dumps())
    journal = {
        "write": sorted(changed),
        "delete": {e.path: sha256(e.disk) for e in todo.changes
                   if e.action == "delete" and e.disk is not None},
        "modes": {rel: modes[rel] for rel in sorted(modes)},
    }
    write_file(tx / "journal.json", json.dumps(journal, indent=1).encode(), FILE_MODE)
    fsync_dir(tx)
    checkpoint("staged")
    os.rename(tx, out / COMMIT)  # the commit point: from here on the build completes
    fsync_dir(out)
    apply_commit(out)


def apply_commit(out: Path) -> None:
    """Finish a committed in-place write; safe to repeat after an interruption."""
    commit = out / COMMIT
    journal = json.loads((commit / "journal.json").read_text(encoding="utf-8"))
    staged = commit / "files"
    for i, rel in enumerate(journal["write"]):
        if i == len(journal["write"]) // 2:
            checkpoint("applying")
        if os.path.lexists(staged / rel):  # else moved before an interruption
            make_dirs(out, PurePosixPath(rel).parent)
            os.replace(staged / rel, out / rel)
    for rel, digest in journal["delete"].items():
        path = out / rel
        if path.is_file() and not path.is_symlink() and sha256(path.read_bytes()) == digest:
            path.unlink()
            _prune(out, path.parent)
    set_modes(out, journal["modes"])
    if os.path.lexists(staged / MANIFEST):
        os.replace(staged / MANIFEST, out / MANIFEST)
    fsync_dir(out)
    shutil.rmtree(commit)


def _prune(out: Path, directory: Path) -> None:
    """Remove directories a stale file leaves empty, up to the output directory."""
    while directory != out and out in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


def recover(out: Path) -> None:
    """Finish or discard what an interrupted run left behind (called under the lock)."""
    if (out / COMMIT).is_dir():
        apply_commit(out)
    shutil.rmtree(out / TX, ignore_errors=True)
    prefix = f".{out.name}{STAGE}"
    for sibling in out.parent.iterdir() if os.access(out.parent, os.W_OK) else ():
        if sibling.name.startswith(prefix) and sibling.is_dir() and not sibling.is_symlink():
            shutil.rmtree(sibling, ignore_errors=True)
