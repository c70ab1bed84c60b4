"""Committing a build in place through a journal, and recovering an interrupted one.

`.stackgen-tx/` (staged files and journal) becomes `.stackgen-commit/` by one rename, the
commit point; the journal is then applied (each step repeatable), and the folder renamed
to `.stackgen-done/` and deleted. Recovery deletes a `-tx` (rollback) or `-done`, and
applies a `-commit` whose journal names this directory and only confined paths.
OUTPUT.md beside this file has the reasoning.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from stackgen.digest import sha256_hex
from stackgen.output.confine import Root, Unsafe, confine
from stackgen.output.outdir import PENDING
from stackgen.records import dataclass

FILE_MODE, SECRET_MODE, DIR_MODE = 0o644, 0o600, 0o755
MODES = (FILE_MODE, SECRET_MODE)
TX, COMMIT, DONE = ".stackgen-tx", PENDING, ".stackgen-done"
JOURNAL = "journal.json"


def _checkpoint(step: str) -> None:
    """Does nothing. Tests replace it in a child process to SIGKILL the writer at each step."""


class BadJournal(Exception):
    """A `.stackgen-commit` that this directory's runs did not make, or that is damaged."""


@dataclass(frozen=True)
class Journal:
    """What a commit will do, written down first so an interrupted one can be finished."""

    write: tuple[str, ...]  # staged under files/, renamed into place in this order
    delete: Mapping[str, str]  # stale path -> sha256 it must still have
    modes: Mapping[str, int]

    def dumps(self, identity: tuple[int, int]) -> bytes:
        doc = {"version": 1, "directory": list(identity), "write": list(self.write),
               "delete": dict(self.delete), "modes": dict(self.modes)}
        return json.dumps(doc, indent=1).encode()


# --- small file system steps --------------------------------------------------------------


def write_file(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    try:
        os.fchmod(fd, mode)  # the umask must not decide who can read a token-bearing file
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError:  # some filesystems cannot sync a directory; the data is already synced
        pass
    finally:
        os.close(fd)


def make_dirs(root: Root, rel_dir: str) -> None:
    """Create the missing directories of `rel_dir` (0755 whatever the umask)."""
    parts = rel_dir.split("/") if rel_dir not in ("", ".") else []
    for depth in range(1, len(parts) + 1):
        sub = "/".join(parts[:depth])
        st = root.lstat(sub)  # raises Unsafe for a link or a mount on the way
        if st is None:
            os.mkdir(root.path / sub, DIR_MODE)
            os.chmod(root.path / sub, DIR_MODE)
        elif not stat.S_ISDIR(st.st_mode):
            raise Unsafe(f"{sub} is a file, not a directory")


def set_mode(root: Root, rel: str, mode: int) -> None:
    """chmod a regular file of the output, never through a link."""
    fd = root.open(rel)
    if fd is None:
        return
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != mode:
            os.fchmod(fd, mode)
    finally:
        os.close(fd)


def discard(root: Root, name: str) -> None:
    """Delete one of stackgen's own top-level folders; never follows a link or enters a
    mount (what cannot be deleted stays, and the later mkdir reports it)."""
    assert name in (TX, COMMIT, DONE)

    def remove(path: Path) -> None:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return
        if st.st_dev != root.dev:
            return
        if stat.S_ISDIR(st.st_mode):
            for child in sorted(os.listdir(path)):
                remove(path / child)
            os.rmdir(path)
        else:
            os.unlink(path)
        _checkpoint("discard")

    remove(root.path / name)


# --- commit and apply -------------------------------------------------------------------


def commit(root: Root, data: Mapping[str, str], journal: Journal) -> list[str]:
    """Stage `data` (relative path -> text, the manifest included), commit and apply.
    Returns notes about paths that could not be applied."""
    out = root.path
    discard(root, TX)
    os.mkdir(out / TX, 0o700)
    stage = Root(out / TX / "files", root.dev)
    try:
        os.mkdir(stage.path, 0o700)
        for rel in journal.write:
            make_dirs(stage, os.path.dirname(rel))
            write_file(stage.path / rel, data[rel].encode("utf-8"), journal.modes.get(rel, FILE_MODE))
            _checkpoint("stage")
        for directory in sorted({os.path.dirname(rel) for rel in journal.write}, reverse=True):
            fsync_dir(stage.path / directory)
        write_file(out / TX / JOURNAL, journal.dumps(_identity(out)), FILE_MODE)
        fsync_dir(out / TX)
        _checkpoint("journal")
    except BaseException:  # out of space, a signal: leave nothing behind (SIGKILL: recover)
        discard(root, TX)
        raise
    os.rename(out / TX, out / COMMIT)  # the commit point
    fsync_dir(out)
    _checkpoint("commit")
    return apply(root, journal)


def _identity(out: Path) -> tuple[int, int]:
    st = os.stat(out)
    return st.st_dev, st.st_ino


def read_journal(root: Root) -> Journal | None:
    """The journal of a pending commit, validated; None if the commit dir has none (a
    cleanup that was cut short: nothing left to apply). Raises BadJournal."""
    where = f"{COMMIT}/{JOURNAL}"
    try:
        raw = root.read(where)  # checks that no part of it is a link or a mount
    except (OSError, Unsafe) as exc:
        raise BadJournal(f"cannot read {where}: {exc}") from None
    if raw is None:
        return None
    try:
        doc = json.loads(raw)
        if doc.get("version") != 1 or doc.get("directory") != list(_identity(root.path)):
            raise BadJournal(f"{where} was not made by a build of this directory")
        if not (isinstance(doc["write"], list) and isinstance(doc["delete"], dict)
                and isinstance(doc["modes"], dict)):
            raise TypeError
        write = tuple(confine(rel) for rel in doc["write"])
        delete = {confine(rel): digest for rel, digest in doc["delete"].items()}
        modes = {confine(rel): mode for rel, mode in doc["modes"].items()}
        if not all(isinstance(d, str) and len(d) == 64 for d in delete.values()):
            raise TypeError
        if any(type(mode) is not int or mode not in MODES for mode in modes.values()):
            raise BadJournal(f"{where} asks for a file mode stackgen never sets")
    except Unsafe as exc:
        raise BadJournal(f"{where} names {exc}") from None
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise BadJournal(f"{where} is damaged") from None
    return Journal(write, delete, modes)


def apply(root: Root, journal: Journal) -> list[str]:
    """Finish a committed write; safe to repeat after an interruption at any step."""
    out, notes = root.path, []
    for rel in journal.write:
        staged = f"{COMMIT}/files/{rel}"
        try:
            st = root.lstat(staged)  # no link or mount anywhere on the way, COMMIT included
            if st is None:
                continue  # moved before an interruption
            if not stat.S_ISREG(st.st_mode):
                raise Unsafe(f"the staged {rel} is not a regular file")
            target = root.lstat(rel)
            if target is not None and stat.S_ISDIR(target.st_mode):
                raise Unsafe(f"{rel} is a directory")
            make_dirs(root, os.path.dirname(rel))
            os.replace(out / staged, out / rel)
        except Unsafe as exc:  # changed since the plan: leave it, say so
            notes.append(f"{rel} was not written: {exc}")
        _checkpoint("replace")
    for rel, digest in journal.delete.items():
        try:
            data = root.read(rel)
            if data is not None and sha256_hex(data) == digest:
                os.unlink(out / rel)
                _prune(root, os.path.dirname(rel))
        except Unsafe as exc:
            notes.append(f"{rel} was not removed: {exc}")
        _checkpoint("delete")
    for rel, mode in journal.modes.items():
        try:
            set_mode(root, rel, mode)
        except Unsafe:
            pass  # not written either, and already noted
    fsync_dir(out)
    os.rename(out / COMMIT, out / DONE)
    _checkpoint("done")
    discard(root, DONE)
    return notes


def _prune(root: Root, rel_dir: str) -> None:
    """Remove directories a stale file leaves empty, up to the output directory."""
    while rel_dir:
        try:
            os.rmdir(root.path / rel_dir)
        except OSError:
            return
        rel_dir = os.path.dirname(rel_dir)


def recover(root: Root, force: bool) -> list[str]:
    """Complete or roll back what an interrupted run left (called under the lock). A
    journal this directory's runs did not make raises BadJournal, or is discarded with
    `force`."""
    notes: list[str] = []
    discard(root, DONE)
    if os.path.lexists(root.path / COMMIT):
        try:
            journal = read_journal(root)
        except BadJournal:
            if not force:
                raise
            journal = None
            notes.append(f"discarded {COMMIT}, which was not made by a build of this directory")
        if journal is not None:
            notes += apply(root, journal)
        else:
            discard(root, COMMIT)
    discard(root, TX)
    return notes
