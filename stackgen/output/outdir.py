"""What is on disk versus what a build produces: the manifest, the plan and the diff.

stackgen records what it wrote in `.stackgen-manifest.json` inside the output directory:
the target and the sha256 of every file, sorted, without timestamps, so the manifest is as
deterministic as the files. A build compares, per path, what the manifest says stackgen
wrote, what is on disk now, and what it would write, and gives the path one action:

| on disk                           | produced now | action                              |
|-----------------------------------|--------------|-------------------------------------|
| nothing                           | yes          | create                              |
| the same bytes                    | yes          | keep (adopts a file not in the manifest) |
| what stackgen wrote (hash matches)| yes          | update                              |
| what stackgen wrote               | no           | delete: stale output                |
| edited since stackgen wrote it    | yes or no    | conflict: refused unless --force    |
| a file stackgen did not write     | yes          | conflict: refused unless --force    |
| a file stackgen did not write     | no           | left alone                          |

A directory, a FIFO, a symlinked parent or a mount point in the way is never overwritten,
even with --force. Paths are confined (confine.py): a manifest entry outside the directory
is reported and ignored, never read or shown. This module only reads; writer.py acts on a
`Plan`.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from stackgen.digest import sha256_hex
from stackgen.errors import Origin, Problem
from stackgen.output.confine import Root, Unsafe, confine
from stackgen.records import dataclass

MANIFEST = ".stackgen-manifest.json"
RESERVED = ".stackgen-"  # top-level names stackgen keeps for itself in an output directory
PENDING = ".stackgen-commit"  # a committed build not yet applied in full (see commit.py)
FORCE_HINT = ("make the change in a profile or the site file instead (`stackgen explain` shows "
              "where each value comes from), or pass --force to replace it")

Action = Literal["create", "update", "keep", "delete"]


@dataclass(frozen=True)
class Manifest:
    """Which files of an output directory stackgen wrote, and their content hashes."""

    target: str | None
    files: Mapping[str, str]  # relative path -> sha256 hex of the bytes written

    def dumps(self) -> str:
        doc = {
            "comment": "Written by stackgen: the files it owns here. Do not edit.",
            "target": self.target,
            "files": dict(sorted(self.files.items())),
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def read_manifest(root: Root) -> tuple[Manifest | None, list[Problem]]:
    """The manifest of an output directory (None when there is none), and problems: a
    damaged manifest, or entries naming paths outside the directory (dropped, never used)."""
    try:
        raw = root.read(MANIFEST)
    except (OSError, Unsafe) as exc:
        return None, [Problem(f"cannot read {root.path / MANIFEST}: {_why(exc)}")]
    if raw is None:
        return None, []
    try:
        doc = json.loads(raw)
        files = doc["files"]
        target = doc.get("target")
        if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()
        ) or not isinstance(target, (str, type(None))):
            raise TypeError
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None, [Problem(
            f"{root.path / MANIFEST} is damaged, so stackgen cannot tell its own files from yours",
            hint="restore it, or pass --force to treat every file as replaceable",
        )]
    kept, problems = {}, []
    for rel, digest in files.items():
        try:
            if rel.startswith(RESERVED):
                raise Unsafe(f"{rel!r} is a name stackgen keeps for itself")
            kept[confine(rel)] = digest
        except Unsafe as exc:
            problems.append(Problem(
                f"{root.path / MANIFEST} lists {exc}; stackgen ignores that entry and never "
                "reads, shows or deletes it",
                hint="the manifest was edited (it is committed with the files: check where the "
                     "change came from); pass --force to write a clean one",
            ))
    return Manifest(target, kept), problems


def _why(exc: OSError | Unsafe) -> str:
    return str(exc) if isinstance(exc, Unsafe) else str(exc.strerror or exc)


@dataclass(frozen=True)
class Entry:
    """One path of the output directory and what a build does to it."""

    path: str
    action: Action
    disk: bytes | None  # what is there now (None: nothing, not a regular file, or unchanged)
    new: str | None  # what the build writes (None for delete), encoded where it is compared,
    # hashed or written: a fleet's output is big, and its text is held anyway
    conflict: str = ""  # why this change would destroy something stackgen does not own

    @property
    def status(self) -> str:
        if self.action == "create":
            return "missing"
        if self.action == "delete":
            return "stale"
        return "changed" if self.action == "update" else "same"


@dataclass(frozen=True)
class Plan:
    """Every path a build touches, the manifest it leaves, and what stands in its way."""

    out_dir: Path
    target: str
    entries: tuple[Entry, ...]  # sorted by path
    manifest: Manifest  # the manifest after the build
    previous: Manifest | None
    conflicts: tuple[Problem, ...]  # refused unless --force
    blocked: tuple[Problem, ...]  # refused even with --force
    pending: bool = False  # an interrupted build left a commit the next build completes

    @property
    def changes(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.action != "keep")

    @property
    def up_to_date(self) -> bool:
        """Nothing to write: every file as generated, nothing stale, the manifest current (a
        manifest with refused entries is not: --force rewrites it clean)."""
        return (not self.changes and self.previous == self.manifest and not self.pending
                and not self.conflicts)

    def diff(self, label: str | None = None) -> str:
        """A unified diff from the disk to the build, git-style (`a/DIR/path`, `b/DIR/path`)."""
        base = (label if label is not None else self.out_dir.as_posix()).rstrip("/")
        return "".join(_file_diff(e, f"{base}/{e.path}" if base else e.path) for e in self.changes)

    def summary(self) -> list[str]:
        """One line per changed path: status, path and, for conflicts, why."""
        lines = []
        for e in self.changes:
            note = f"  ({e.conflict})" if e.conflict else ""
            lines.append(f"{e.status:<8} {e.path}{note}")
        return lines


def _lines(data: bytes | str) -> list[str]:
    text = data if isinstance(data, str) else data.decode("utf-8", errors="replace")
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def _file_diff(entry: Entry, path: str) -> str:
    old = _lines(entry.disk) if entry.disk is not None else []
    new = _lines(entry.new) if entry.new is not None else []
    a, b = ("", "") if path.startswith("/") else ("a/", "b/")  # git's prefixes, for relative paths
    before = f"{a}{path}" if entry.disk is not None else "/dev/null"
    after = f"{b}{path}" if entry.new is not None else "/dev/null"
    import difflib  # only when there is something to suggest or show

    text = "".join(difflib.unified_diff(old, new, before, after))
    if not text:  # e.g. a symlink or directory where a file belongs: no text to compare
        text = f"--- {before}\n+++ {after}\n"
    return text


def _read(root: Root, rel: str) -> tuple[int | None, bytes | None, str | None]:
    """(st_mode, bytes of a regular file, why it cannot be used) for one path."""
    try:
        st = root.lstat(rel)
        if st is None:
            return None, None, None
        return st.st_mode, root.read(rel) if stat.S_ISREG(st.st_mode) else None, None
    except (OSError, Unsafe) as exc:
        return None, None, _why(exc)


def plan(out_dir: Path, files: Mapping[str, str], target: str, display: Path | None = None) -> Plan:
    """Compare `files` (relative path -> text, written as UTF-8) with `out_dir`; reads,
    never writes.

    Problems name paths under `display` (the directory as the user wrote it)."""
    shown = display if display is not None else out_dir
    root = Root.of(out_dir)
    previous, damaged = read_manifest(root)
    owned = dict(previous.files) if previous else {}
    conflicts: list[Problem] = list(damaged)
    blocked: list[Problem] = []
    if previous and previous.target not in (None, target):
        conflicts.append(Problem(
            f"{shown} holds the {previous.target!r} build; writing {target!r} here "
            f"would delete its files",
            Origin("flag", "-o/--output"),
            hint="give each target its own -o directory, or pass --force",
        ))
    entries: list[Entry] = []
    digests: dict[str, str] = {}
    for rel in sorted(set(files) | set(owned)):
        text = files.get(rel)
        new = None if text is None else text.encode("utf-8")  # byte-exact: "\n" stays "\n"
        if new is not None:
            digests[rel] = sha256_hex(new)
        where = (shown / rel).as_posix()
        mode, disk, error = _read(root, rel)
        if error:
            if new is None:
                continue  # a stale file behind a link or on a mount is not ours to delete
            blocked.append(Problem(error, None, where))
            entries.append(Entry(rel, "create", None, text, "blocked"))
            continue
        if new is None:  # generated earlier, not any more
            if disk is None:
                continue  # gone already, or replaced by a link or directory: not ours now
            edited = sha256_hex(disk) != owned[rel]
            why = "edited since stackgen wrote it; this build no longer produces it"
            entries.append(Entry(rel, "delete", disk, None, why if edited else ""))
            if edited:
                conflicts.append(Problem(why, None, where, FORCE_HINT))
            continue
        if mode is None:
            entries.append(Entry(rel, "create", None, text))
        elif disk == new:
            entries.append(Entry(rel, "keep", None, text))  # the disk's copy is this text
        elif stat.S_ISLNK(mode):
            why = "a symbolic link stackgen did not create"
            entries.append(Entry(rel, "update", None, text, why))
            conflicts.append(Problem(f"is {why}", None, where, FORCE_HINT))
        elif not stat.S_ISREG(mode):
            entries.append(Entry(rel, "update", None, text, "blocked"))
            blocked.append(Problem("is a directory or special file where a generated file "
                                   "belongs; move it away", None, where))
        elif disk is None:
            entries.append(Entry(rel, "update", None, text, "unreadable"))
        else:
            why = ""
            if rel not in owned:
                why = "exists, but stackgen did not write it"
            elif sha256_hex(disk) != owned[rel]:
                why = "edited by hand since stackgen wrote it"
            entries.append(Entry(rel, "update", disk, text, why))
            if why:
                conflicts.append(Problem(why, None, where, FORCE_HINT))
    manifest = Manifest(target, dict(sorted(digests.items())))
    pending = root.dev is not None and os.path.lexists(out_dir / PENDING)
    return Plan(out_dir, target, tuple(entries), manifest, previous, tuple(conflicts),
                tuple(blocked), pending)
