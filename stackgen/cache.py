"""Results kept between runs in stackgen's cache folder, as Python keeps .pyc files.

The folder is $STACKGEN_CACHE_DIR, else $XDG_CACHE_HOME/stackgen or ~/.cache/stackgen;
setting STACKGEN_CACHE_DIR empty turns every cache off. A cache only ever saves time:
an entry holds its whole key and counts only when the key is equal, so a stale, damaged or
foreign entry is a miss, and a folder that cannot be written costs the time, not the run.

This module is read at every start (the CLI's front door), so it imports only builtins.
"""

from __future__ import annotations

import marshal
import os
import sys
import zlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

# entries per folder: each miss may add one, and the oldest go first
KEEP = 256
# marshal's format is Python's own: entries of one Python are not read by another
_FORMAT = (1, sys.version_info[:2])
_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def folder(name: str) -> str | None:
    """The cache folder `name`, made owner-only if missing; None when caches are off or it
    cannot be made (a read-only home)."""
    configured = os.environ.get("STACKGEN_CACHE_DIR")
    if configured == "":
        return None
    base = configured or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "stackgen")
    path = os.path.join(base, name)
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
    except OSError:
        return None
    return path


def _entry(where: str, key: object) -> str:
    text = repr(key).encode("utf-8", "surrogatepass")
    return os.path.join(where, f"{zlib.crc32(text):08x}{len(text) & 0xFFFF:04x}")


def load(where: str | None, key: object) -> object | None:
    """The value stored under `key` (made of str, bytes, numbers, tuples, lists and dicts),
    or None."""
    if where is None:
        return None
    try:
        with open(_entry(where, key), "rb") as f:
            stored = marshal.load(f)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if type(stored) is tuple and len(stored) == 3 and stored[0] == _FORMAT and stored[1] == key:
        value: object = stored[2]
        return value
    return None


def store(where: str | None, key: object, value: object) -> None:
    """Keep `value` under `key`: written whole or not at all (a killed run leaves at most a
    temporary file, which the next pruning removes)."""
    if where is None:
        return
    path = _entry(where, key)
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        data = marshal.dumps((_FORMAT, key, value))  # type: ignore[arg-type]
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _prune(where)
    except (OSError, ValueError):  # a full or read-only disk, or a value marshal refuses
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _prune(where: str) -> None:
    with os.scandir(where) as found:
        entries = [(e.stat().st_mtime_ns, e.path) for e in found if e.is_file()]
    if len(entries) > KEEP:
        for _, path in sorted(entries)[: len(entries) - KEEP]:
            os.unlink(path)


_STAMP: list[tuple[tuple[str, int, int], ...]] = []


def package_stamp() -> tuple[tuple[str, int, int], ...]:
    """The size and modification time of every module of stackgen: a cached result is
    stale once any of them changes (an upgrade, or an edit in a checkout). Taken once per
    process."""
    if not _STAMP:
        _STAMP.append(_package_stamp())
    return _STAMP[0]


def _package_stamp() -> tuple[tuple[str, int, int], ...]:
    found: list[tuple[str, int, int]] = []
    for root, dirs, files in os.walk(_PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(root, name))
                found.append((os.path.relpath(os.path.join(root, name), _PACKAGE),
                              st.st_mtime_ns, st.st_size))
    return tuple(found)


def library_stamp(paths: Iterable[str]) -> tuple[tuple[str, int, int], ...]:
    """The same for files of installed libraries (e.g. "click/__init__.py"), found on
    sys.path without importing them."""
    found = []
    for rel in paths:
        for entry in sys.path:
            try:
                st = os.stat(os.path.join(entry or ".", rel))
            except OSError:
                continue
            found.append((rel, st.st_mtime_ns, st.st_size))
            break
        else:
            found.append((rel, 0, 0))
    return tuple(found)
