"""The only code that writes to an output directory: all files of a build, or none.

A build is planned (outdir.py: which files are stackgen's, what changes, what is in the
way), then committed in place through a journal (commit.py): the output directory and
every folder in it stay the same directories, with their owner, mode, ACLs and inode, and
a kill at any point leaves a state the next run completes or rolls back. Every path comes
through confine.py, so nothing outside the output directory, behind a link or on another
filesystem is touched. A lock (flock on the directory) keeps two runs apart. OUTPUT.md
beside this file describes the mechanism and why it is the only one.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from stackgen.digest import sha256_hex
from stackgen.errors import Origin, Problem, UserError
from stackgen.output import commit
from stackgen.output.confine import NAME_MAX, Root, Unsafe, confine
from stackgen.output.outdir import MANIFEST, RESERVED, Plan, plan
from stackgen.records import dataclass

FLAG = Origin("flag", "-o/--output")


@dataclass(frozen=True)
class WriteResult:
    """What a write did: paths written (created or changed), removed, and left as they were."""

    out_dir: Path
    written: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]
    notes: tuple[str, ...] = ()
    manifest_rewritten: bool = False  # only the manifest changed (--force over refused entries)

    @property
    def up_to_date(self) -> bool:
        return not self.written and not self.removed and not self.manifest_rewritten


def check_paths(files: Collection[str]) -> None:
    """Renderers must return plain relative POSIX paths; anything else is a bug."""
    for rel in files:
        try:
            confine(rel)
        except Unsafe:
            raise ValueError(f"renderer produced an unsafe path: {rel!r}") from None
        if rel.startswith(RESERVED):
            raise ValueError(f"renderer produced an unsafe path: {rel!r}")
        parent = os.path.dirname(rel)
        while parent:
            if parent in files:
                raise ValueError(f"renderer produced {rel!r} inside the file {parent!r}")
            parent = os.path.dirname(parent)


def preview(out_dir: Path, files: Mapping[str, str], target: str) -> Plan:
    """What a write would do (for --check and --diff): reads the directory, writes nothing."""
    check_paths(files)
    _check_output(out_dir)
    try:
        return plan(out_dir, files, target)
    except OSError as exc:
        raise UserError(Problem(f"cannot read {exc.filename or out_dir}: {exc.strerror}", FLAG)) from None


def write(
    out_dir: Path,
    files: Mapping[str, str],
    *,
    target: str,
    sensitive: Collection[str],
    force: bool = False,
) -> WriteResult:
    """Write one target's files under `out_dir`, all together; raise UserError on conflicts.

    `sensitive` names the files to write 0600 (`targets.sensitive_files`). The files were
    checked for secret values by `api.render`/`api.write`, which callers go through."""
    check_paths(files)
    modes = {rel: commit.SECRET_MODE if rel in sensitive else commit.FILE_MODE for rel in files}
    try:
        root = _prepare(out_dir)
        with _locked(root.path):
            try:
                notes = commit.recover(root, force)
            except commit.BadJournal as exc:
                raise UserError(Problem(
                    f"{out_dir}: {exc}; stackgen did not apply it", FLAG,
                    hint="it may have been planted (a commit or an archive); pass --force "
                         f"to discard it, or delete {out_dir / commit.COMMIT}",
                )) from None
            todo = plan(root.path, files, target, display=out_dir)
            problems = list(todo.blocked) + ([] if force else list(todo.conflicts))
            if problems:
                raise UserError(problems)
            unchanged = tuple(e.path for e in todo.entries if e.action == "keep")
            if todo.up_to_date:
                for rel, mode in modes.items():
                    commit.set_mode(root, rel, mode)
                return WriteResult(out_dir, (), (), unchanged, tuple(notes))
            written = tuple(e.path for e in todo.changes if e.action != "delete")
            deletes = {e.path: sha256_hex(e.disk) for e in todo.changes
                       if e.action == "delete" and e.disk is not None}
            data = {**{rel: files[rel] for rel in written}, MANIFEST: todo.manifest.dumps()}
            journal = commit.Journal((*written, MANIFEST), deletes, modes)
            notes += commit.commit(root, data, journal)
            return WriteResult(out_dir, written, tuple(deletes), unchanged, tuple(notes),
                               manifest_rewritten=not written and not deletes)
    except (OSError, Unsafe) as exc:
        where = getattr(exc, "filename", None) or out_dir
        why = getattr(exc, "strerror", None) or str(exc)
        raise UserError(Problem(f"cannot write {where}: {why}", FLAG)) from None


def _check_output(out_dir: Path) -> None:
    """Refuse output directories no build should write into."""
    if any(len(os.fsencode(part)) > NAME_MAX for part in out_dir.parts):
        raise UserError(Problem(f"{str(out_dir)[:80]}... has a name longer than {NAME_MAX} "
                                "bytes, more than a file system allows", FLAG))
    try:
        real = out_dir.resolve()
        if out_dir.exists() and not out_dir.is_dir():
            raise UserError(Problem(f"output path {out_dir} exists and is not a directory", FLAG))
    except OSError as exc:
        raise UserError(Problem(f"cannot use {out_dir}: {exc.strerror}", FLAG)) from None
    home = Path(os.environ.get("HOME") or "/").resolve()
    if real in (Path(real.anchor), home):
        raise UserError(Problem(
            f"{out_dir} is {'the root directory' if real == Path(real.anchor) else 'your home directory'}; "
            "stackgen writes its files and manifest only into a folder of their own", FLAG,
            hint="give -o a dedicated directory, e.g. deploy/swarm",
        ))


def _prepare(out_dir: Path) -> Root:
    """The output directory, created with 0755 folders whatever the umask."""
    _check_output(out_dir)
    real = out_dir.resolve()  # a symlinked output directory: write into the real one
    try:
        missing = [p for p in (real, *real.parents) if not p.exists()]
        for path in reversed(missing):
            try:
                os.mkdir(path, commit.DIR_MODE)
            except FileExistsError:  # another run made it meanwhile; the lock sorts them out
                continue
            os.chmod(path, commit.DIR_MODE)
    except OSError as exc:
        raise UserError(Problem(f"cannot create {out_dir}: {exc.strerror}", FLAG)) from None
    return Root.of(real)


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    import fcntl

    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


__all__ = ["WriteResult", "check_paths", "preview", "write"]


def create_files(folder: Path, files: Mapping[str, str]) -> list[Path]:
    """Create new files beside each other (`stackgen init`), never replacing one: each is
    written to a temporary name and linked into place, which fails if the name exists.
    All or none: a refusal or an error removes what this call created."""
    import os
    import tempfile

    made: list[Path] = []
    try:
        for name, text in files.items():
            target = folder / name
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                os.chmod(tmp, 0o644)
                os.link(tmp, target)  # atomic, and never over an existing file
            except FileExistsError:
                raise UserError(Problem(f"{target} exists; stackgen init never replaces a file",
                                        Origin("flag", "init"))) from None
            finally:
                os.unlink(tmp)
            made.append(target)
    except BaseException:
        for path in made:
            path.unlink(missing_ok=True)
        raise
    return made
