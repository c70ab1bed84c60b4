"""Values that remember where they came from.

Every input (profile, site file, `--set`, built-in default) is read into a tree of `Val`s:
maps, lists and scalars, each carrying the `Origin` (file:line:col) it was written at and
a merge directive (`!reset` replaces what earlier layers set, `!remove` drops an inherited
list item). Merging, validation errors and `stackgen explain` all work on this tree.
YAML text is read by `stackgen.layers.events`.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from stackgen.errors import Origin, Problem, UserError
from stackgen.records import dataclass

Op = Literal["merge", "reset", "remove"]
# Limits on what one input file may hold: beyond any real fleet (10,000 runners take about
# 1.3 MB and 100,000 values), well short of what exhausts memory or time. Values are capped
# relative to the text, since written-out YAML holds at most one value per two bytes: only
# aliases can go beyond (a 300-byte "billion laughs" expands to 10^9 values).
MAX_BYTES = 64 << 20
MAX_VALUES = 50_000  # after expanding aliases, plus VALUES_PER_BYTE for each byte of text
VALUES_PER_BYTE = 2
MAX_DEPTH = 40


# Where a read value is written, as one int beside the Origin of its file (`Val.src`) rather
# than an Origin of its own and one for its key: those were 460,000 objects (23 MB) for a
# 10,000-runner profile. From the high bits down: line, column (12 bits), the key's column
# (12 bits), then 1 (no key) or 2 (the key is on the same line). What does not fit (a key
# on another line, a column past 4095) is a tuple (line, col, key line, key col) instead.
Pos = int | tuple[int, int, int | None, int | None]
_COL, _LINE, _MASK = 14, 26, 4095


def position(line: int, col: int, key_line: int | None = None, key_col: int | None = None) -> Pos:
    """The `Val.at` of a value written at line:col whose key (if any) is at key_line:key_col."""
    if key_col is None:
        if col <= _MASK:
            return line << _LINE | col << _COL | 1
    elif key_line == line and col <= _MASK and key_col <= _MASK:
        return line << _LINE | col << _COL | key_col << 2 | 2
    return (line, col, key_line, key_col)


@dataclass(frozen=True, slots=True)
class Val:
    """One value and its provenance. `value` is a dict[str, Val], a list[Val] or a scalar;
    `src` is the Origin of its file (a flag, a default) and `at` where in the file the value
    and its key are (0: nowhere more precise than `src`): see `origin` and `key_origin`."""

    value: Any
    src: Origin
    at: Pos = 0
    op: Op = "merge"

    @property
    def origin(self) -> Origin:
        """Where the value is written (a block mapping or list: where its key is)."""
        at, src = self.at, self.src
        if type(at) is int:
            if not at:
                return src
            return Origin(src.kind, src.file, at >> _LINE, at >> _COL & _MASK, src.profile)
        assert isinstance(at, tuple)
        return Origin(src.kind, src.file, at[0], at[1], src.profile)

    @property
    def key_origin(self) -> Origin | None:
        """Where the key naming this value is written, if it has one."""
        at, src = self.at, self.src
        if type(at) is int:
            if at & 3 != 2:
                return None
            return Origin(src.kind, src.file, at >> _LINE, at >> 2 & _MASK, src.profile)
        assert isinstance(at, tuple)
        return None if at[2] is None else Origin(src.kind, src.file, at[2], at[3], src.profile)

    def plain(self) -> Any:
        """The value without provenance: plain dicts, lists and scalars."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value

    def get(self, *path: str | int) -> Val | None:
        node: Val | None = self
        for step in path:
            if node is None:
                return None
            if isinstance(node.value, dict) and isinstance(step, str):
                node = node.value.get(step)
            elif isinstance(node.value, list) and isinstance(step, int):
                node = node.value[step] if -len(node.value) <= step < len(node.value) else None
            else:
                return None
        return node

    def with_op(self, op: Op) -> Val:
        return replace(self, op=op)


def walk(val: Val, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Val]]:
    """Every node with its path, parents before children (in order)."""
    # a stack, not nested generators: each of those passes every item up through each level
    stack: list[tuple[tuple[str | int, ...], Val]] = [(prefix, val)]
    while stack:
        path, node = stack.pop()
        yield path, node
        value = node.value
        if isinstance(value, dict):
            stack += reversed([((*path, k), v) for k, v in value.items()])
        elif isinstance(value, list):
            stack += reversed([((*path, i), v) for i, v in enumerate(value)])


def dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


def locate(root: Val, path: tuple[str | int, ...], key: bool = False) -> Origin:
    """The origin of the deepest existing node along `path` (of its key, if `key`)."""
    node = root
    for step in path:
        nxt = node.get(step)
        if nxt is None:
            break
        node = nxt
    return (node.key_origin or node.origin) if key else node.origin


def _scalar(raw: Any) -> Any:
    # the constructor hands back dates; the model wants plain types
    if isinstance(raw, bool) or raw is None:
        return raw
    if isinstance(raw, int):
        return int(raw)
    if isinstance(raw, float):
        return float(raw)
    if isinstance(raw, (_dt.date, _dt.datetime)):
        return raw.isoformat()
    return str(raw)


def from_plain(data: Any, origin: Origin) -> Val:
    """Wrap plain data (defaults, `--set` values) with one origin throughout."""
    if isinstance(data, dict):
        return Val({str(k): from_plain(v, origin) for k, v in data.items()}, origin)
    if isinstance(data, (list, tuple)):
        return Val([from_plain(v, origin) for v in data], origin)
    return Val(_scalar(data), origin)


YAML11_BREAKS = ("\x85", "\u2028", "\u2029")


class _PurePython(Exception):
    """This text is for the pure-Python parser."""


def _build(text: str, root: Origin, pure: bool) -> Val | None:
    from ruamel.yaml import YAML

    from stackgen.layers.events import Builder

    yaml = YAML(typ="safe", pure=pure)
    builder = Builder(root, len(text), yaml)
    handlers = builder.handlers()
    for event in yaml.parse(text):
        handler = handlers.get(type(event).__name__)
        if handler is not None:
            handler(event)
    return builder.result


def load_yaml_text(text: str, origin: Origin, document: bool = True) -> Val:
    """Parse YAML text into a `Val` tree; syntax errors become a `UserError` with position.
    An empty (or null) document is an empty mapping; a `--set` value (`document=False`)
    of null stays null. A text read before comes from the parse cache."""
    from stackgen.layers import parse_cache

    root = replace(origin, line=1, col=1)
    kept = parse_cache.load(text, document, root)
    if kept is not None:
        val = kept[0]
    else:
        val = _parse(text, origin, root)
        parse_cache.store(text, document, val)
    if val is None or (val.value is None and document):
        return Val({} if document else None, root)
    return val


def _parse(text: str, origin: Origin, root: Origin) -> Val | None:
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        # ruamel's C parser (ruamel.yaml.clib), where installed, is about 30x faster. It
        # speaks YAML 1.1: it refuses e.g. `{image: alpine:3.20}`, which YAML 1.2 (and so
        # the pure-Python parser, whose answer or error counts) accepts, and it counts NEL,
        # LS and PS as line breaks, which would shift every position after one.
        try:
            if any(ch in text for ch in YAML11_BREAKS):
                raise _PurePython
            val = _build(text, root, pure=False)
        except (YAMLError, UserError, _PurePython):
            # also what stackgen refuses in the C parser's reading: YAML 1.1 reads `{0?: []}`
            # as the key 0 and more, where YAML 1.2 reads the key "0?"
            val = _build(text, root, pure=True)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = replace(origin, line=mark.line + 1, col=mark.column + 1) if mark else origin
        what = exc.problem or exc.context or "invalid YAML"
        raise UserError(Problem(f"YAML syntax error: {what}", where)) from None
    except YAMLError as exc:  # other loader complaints
        raise UserError(Problem(f"YAML error: {exc}", origin)) from None
    return val


def read_input(path: Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of an input file: a regular file of at most `limit` bytes, else ValueError
    (a FIFO or device is refused before reading, so it can neither hang nor flood).
    OSError as from open()."""
    import stat

    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = "a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO, socket or device"
            raise ValueError(f"{path} is {kind}, not a regular file")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 16):
            size += len(chunk)
            if size > limit:
                raise ValueError(f"{path} is larger than {limit >> 10} KiB")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_yaml_text(path: Path, origin: Origin) -> str:
    """The text of a YAML input file; what keeps it from being read is a UserError."""
    try:
        return read_input(path).decode("utf-8")
    except FileNotFoundError:
        raise UserError(Problem(f"file not found: {path}", origin)) from None
    except OSError as exc:
        raise UserError(Problem(f"cannot read {path}: {exc.strerror}", origin)) from None
    except (ValueError, UnicodeDecodeError) as exc:  # UnicodeDecodeError is a ValueError
        raise UserError(Problem(f"cannot read {path}: {exc}", origin)) from None


def load_yaml_file(path: Path, origin: Origin) -> Val:
    return load_yaml_text(read_yaml_text(path, origin), origin)
