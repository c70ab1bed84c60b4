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
import stat
import sys
import zlib

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

# entries a folder keeps: the oldest go first. A folder is pruned at a run's first store
# and after every KEEP more, so it holds at most twice as many.
KEEP = 256
# marshal's format is Python's own: entries of one Python are not read by another
_FORMAT = (1, sys.version_info[:2])
MAX_ENTRY = 64 << 20  # bytes: a bigger file in the folder is not one of ours
_PACKAGE = os.path.dirname(os.path.abspath(__file__))


_FOLDERS: dict[tuple[str | None, ...], str | None] = {}
_STORES: dict[str, int] = {}  # entries stored by this process per folder, since its last pruning


def folder(name: str) -> str | None:
    """The cache folder `name`, made owner-only if missing; None when caches are off or it
    cannot be made (a read-only home)."""
    env = (name, *(os.environ.get(v) for v in ("STACKGEN_CACHE_DIR", "XDG_CACHE_HOME", "HOME")))
    if env not in _FOLDERS:
        _FOLDERS[env] = _folder(name)
    return _FOLDERS[env]


def _folder(name: str) -> str | None:
    configured = os.environ.get("STACKGEN_CACHE_DIR")
    if configured == "":
        return None
    home = os.path.expanduser("~")
    if not configured and not os.environ.get("XDG_CACHE_HOME") and home == "~":
        return None  # no home directory to keep a cache in
    base = configured or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"), "stackgen")
    path = os.path.join(base, name)
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.stat(path)
    except OSError:
        return None
    # what others can write is not read back (marshal trusts its input)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o022:
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
        fd = os.open(_entry(where, key), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_ENTRY:
                return None  # a FIFO or device could block or never end
            with os.fdopen(fd, "rb", closefd=False) as f:
                data = f.read()
        finally:
            os.close(fd)
        stored = marshal.loads(data)  # not marshal.load(f): that reads object by object
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
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, path)
        # at the first store of a run, and again after as many stores as the folder keeps
        count = _STORES.get(where, 0)
        _STORES[where] = (count + 1) % KEEP
        if count == 0:
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
                path = os.path.join(root, name)
                try:
                    st = os.stat(path)
                except OSError:  # gone while we looked: a stamp no entry has
                    found.append((path, -1, -1))
                    continue
                found.append((os.path.relpath(path, _PACKAGE), st.st_mtime_ns, st.st_size))
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
