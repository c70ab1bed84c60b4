"""The only code that writes to an output directory: all files of a build, or none.

POSIX cannot rename several files in one step, but it can swap two directories. So a
build is staged as a complete new output tree in a sibling directory (`.NAME.stackgen-new-*`)
and exchanged with the output directory in one `renameat2(RENAME_EXCHANGE)` (Linux;
`renamex_np(RENAME_SWAP)` on macOS). Until that call the old tree is untouched; after it
the new one is complete; a SIGKILL in between leaves a stray stage that the next run
removes. Files a person added (anything not in the manifest, see outdir.py) are carried
into the new tree as hard links, so they keep their identity, and anything created in the
old tree while the new one was staged is moved across after the swap. (A `current ->
gen-N` symlink would be as atomic, but then the output would no longer be the plain
directory that git, `docker stack deploy -c` and people expect.)

A swap is wrong in a few places, where the writer commits in place instead: the output
directory is a mount point (a bind-mounted `/out` in a CI container), it holds the
working directory (`-o .`: the shell would be left in a deleted directory), it holds many
files stackgen does not own (a git checkout), the filesystem cannot exchange (NFS), or
the parent directory is read-only. In-place commits are crash-consistent rather than
instantaneous: the changed files are staged in `.stackgen-tx/`, which becomes
`.stackgen-commit/` by one rename (the commit point), then each file is moved into place
with `os.replace`. A run killed before the commit point leaves the old output as it was;
one killed after it is rolled forward by the next stackgen run on that directory.

Generated files are written 0644, or 0600 when the target marks them sensitive (see
`targets.sensitive_files`), whatever the umask. A lock (flock on the directory) keeps two
stackgen runs from writing the same directory at once.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from . import commit
from .errors import Origin, Problem, UserError
from .outdir import RESERVED, Plan, plan

Strategy = Literal["auto", "exchange", "in-place"]
FLAG = Origin("flag", "-o/--output")


@dataclass(frozen=True)
class WriteResult:
    """What a write did: paths written (created or changed), removed, and left as they were."""

    out_dir: Path
    written: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]
    strategy: Literal["exchange", "in-place", "none"]
    notes: tuple[str, ...] = ()


def check_paths(files: Collection[str]) -> None:
    """Renderers must return plain relative POSIX paths; anything else is a bug."""
    for rel in files:
        path = PurePosixPath(rel)
        if (not rel or path.is_absolute() or str(path) != rel or "\\" in rel
                or any(part in (".", "..") for part in path.parts)
                or path.parts[0].startswith(RESERVED)):
            raise ValueError(f"renderer produced an unsafe path: {rel!r}")
        for parent in path.parents:
            if str(parent) in files:
                raise ValueError(f"renderer produced {rel!r} inside the file {str(parent)!r}")


def preview(out_dir: Path, files: Mapping[str, str], target: str) -> Plan:
    """What a write would do (for --check and --diff): reads the directory, writes nothing."""
    check_paths(files)
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(Problem(f"output path {out_dir} exists and is not a directory", FLAG))
    return plan(out_dir, _encode(files), target)


def write(
    out_dir: Path,
    files: Mapping[str, str],
    *,
    target: str,
    sensitive: Collection[str] | None = None,
    force: bool = False,
    strategy: Strategy = "auto",
) -> WriteResult:
    """Write one target's files under `out_dir`, all together; raise UserError on conflicts.

    `sensitive` names the files to write 0600; by default the target's declaration decides
    (`targets.sensitive_files`)."""
    from .secrets import check_rendered
    from .targets import sensitive_files

    if sensitive is None:
        sensitive = sensitive_files(target, files)
    check_paths(files)
    check_rendered(files, target)  # the last guard: nothing secret reaches the disk
    data = _encode(files)
    modes = {rel: commit.SECRET_MODE if rel in sensitive else commit.FILE_MODE for rel in data}
    out = _prepare(out_dir)
    try:
        with _locked(out):
            commit.recover(out)
            todo = plan(out, data, target, display=out_dir)
            problems = list(todo.blocked) + ([] if force else list(todo.conflicts))
            if problems:
                raise UserError(problems)
            written = tuple(e.path for e in todo.changes if e.action != "delete")
            removed = tuple(e.path for e in todo.changes if e.action == "delete")
            unchanged = tuple(e.path for e in todo.entries if e.action == "keep")
            if todo.up_to_date:
                commit.set_modes(out, modes)
                return WriteResult(out_dir, (), (), unchanged, "none")
            notes = None
            if strategy != "in-place":
                notes = commit.by_exchange(out, todo, data, modes, required=strategy == "exchange")
            used: Literal["exchange", "in-place"] = "exchange"
            if notes is None:
                commit.in_place(out, todo, data, modes)
                used, notes = "in-place", []
            return WriteResult(out_dir, written, removed, unchanged, used, tuple(notes))
    except OSError as exc:
        where = exc.filename or out_dir
        raise UserError(Problem(f"cannot write {where}: {exc.strerror or exc}", FLAG)) from None


def _encode(files: Mapping[str, str]) -> dict[str, bytes]:
    # byte-exact: UTF-8, and "\n" stays "\n" on every platform
    return {rel: text.encode("utf-8") for rel, text in files.items()}


def _prepare(out_dir: Path) -> Path:
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(Problem(f"output path {out_dir} exists and is not a directory", FLAG))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(Problem(f"cannot create {out_dir}: {exc.strerror}", FLAG)) from None
    return out_dir.resolve()  # a symlinked output directory: swap the real one, keep the link


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, the rest still holds
        yield
        return
    while True:
        fd = os.open(out, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            now, held = os.stat(out), os.fstat(fd)
        except BaseException:
            os.close(fd)
            raise
        if (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
            break
        os.close(fd)  # another run swapped the directory while we waited: lock the new one
    try:
        yield
    finally:
        os.close(fd)


__all__ = ["WriteResult", "check_paths", "preview", "write"]
