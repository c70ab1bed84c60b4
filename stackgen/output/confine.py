"""Paths inside an output directory, trusted only after they were looked at.

Paths reach the writer from renderers, from the manifest and from the commit journal; the
last two are files on disk that a merge request can plant. Every one goes through
`confine` (a plain relative POSIX path: no `..`, `.`, empty part, backslash or NUL) and,
before anything is read, printed, chmod-ed or deleted, through `Root.lstat`: each parent
must be a real directory (not a symlink) on the output directory's own filesystem, so
stackgen never goes through a link or into a mount point.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from stackgen.records import dataclass

NAME_MAX = 255  # bytes per path component on Linux and macOS
READ_LIMIT = 64 << 20  # no file stackgen wrote is this big; a larger one is not read


class Unsafe(ValueError):
    """A path stackgen refuses to touch; the message says why, for the user."""


def confine(rel: object) -> str:
    """`rel` if it is a plain relative POSIX path, else raise Unsafe. (String tests, not
    pathlib: the writer asks this some ten times per file of a fleet's output.)"""
    if not isinstance(rel, str) or not rel:
        raise Unsafe(f"{rel!r} is not a relative path")
    parts = rel.split("/")
    # an empty part is a leading, doubled or trailing slash
    if "\\" in rel or "\x00" in rel or any(part in ("", ".", "..") for part in parts):
        raise Unsafe(f"{rel!r} is not a plain relative path inside the output directory")
    try:  # ASCII text is its own bytes
        sizes = map(len, parts) if rel.isascii() else [len(os.fsencode(part)) for part in parts]
    except UnicodeEncodeError:  # a lone surrogate, as a planted manifest may hold
        raise Unsafe(f"{rel[:60]!r} is not a name a file system can hold") from None
    if any(size > NAME_MAX for size in sizes):
        raise Unsafe(f"{rel[:60]!r}... has a name longer than {NAME_MAX} bytes")
    return rel


@dataclass(frozen=True)
class Root:
    """A directory and its filesystem; `dev` is None while the directory does not exist."""

    path: Path
    dev: int | None

    @classmethod
    def of(cls, path: Path) -> Root:
        try:
            return cls(path, os.stat(path).st_dev)
        except FileNotFoundError:
            return cls(path, None)

    def lstat(self, rel: str) -> os.stat_result | None:
        """lstat of `rel` (None if it or a parent is missing), after checking each parent
        is a real directory on this filesystem; raise Unsafe otherwise."""
        confine(rel)
        if self.dev is None:
            return None
        parts = rel.split("/")
        current = os.fspath(self.path)
        st = None
        for depth, part in enumerate(parts, 1):
            current = f"{current}/{part}"
            try:
                st = os.lstat(current)
            except (FileNotFoundError, NotADirectoryError):
                return None
            sub = "/".join(parts[:depth])
            if st.st_dev != self.dev:
                raise Unsafe(f"{sub} is on another filesystem (a mount point); "
                             "stackgen never goes into it")
            if depth < len(parts) and not stat.S_ISDIR(st.st_mode):
                kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "a file"
                raise Unsafe(f"{sub} is {kind}, not a directory; stackgen never writes through it")
        return st

    def open(self, rel: str, flags: int = os.O_RDONLY) -> int | None:
        """A file descriptor for the regular file `rel` (None if missing or not a regular
        file); never follows a link, never blocks on a FIFO."""
        st = self.lstat(rel)
        if st is None or not stat.S_ISREG(st.st_mode):
            return None
        fd = os.open(f"{os.fspath(self.path)}/{rel}", flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):  # replaced meanwhile
            os.close(fd)
            raise Unsafe(f"{rel} changed while stackgen was looking at it")
        return fd

    def read(self, rel: str) -> bytes | None:
        """The bytes of the regular file `rel`, or None if there is none."""
        fd = self.open(rel)
        if fd is None:
            return None
        try:
            if os.fstat(fd).st_size > READ_LIMIT:
                raise Unsafe(f"{rel} is larger than {READ_LIMIT >> 20} MiB; stackgen wrote no such file")
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)
