"""Values that remember where they came from.

Every input (profile, site file, `--set`, built-in default) is read into a tree of `Val`s:
maps, lists and scalars, each carrying the `Origin` (file:line:col) it was written at and
a merge directive (`!reset` replaces what earlier layers set, `!remove` drops an inherited
list item). Merging, validation errors and `stackgen explain` all work on this tree.
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from stackgen.errors import Origin, Problem, UserError

Op = Literal["merge", "reset", "remove"]
TAGS: dict[str, Op] = {"!reset": "reset", "!remove": "remove"}
# Limits on what one input file may hold: beyond any real fleet (10,000 runners take about
# 1.3 MB and 100,000 values), well short of what exhausts memory or time. Values are capped
# relative to the text, since written-out YAML holds at most one value per two bytes: only
# aliases can go beyond (a 300-byte "billion laughs" expands to 10^9 values).
MAX_BYTES = 64 << 20
MAX_VALUES = 50_000  # after expanding aliases, plus VALUES_PER_BYTE for each byte of text
VALUES_PER_BYTE = 2
MAX_DEPTH = 40


@dataclass(frozen=True)
class Val:
    """One value and its provenance. `value` is a dict[str, Val], a list[Val] or a scalar."""

    value: Any
    origin: Origin
    op: Op = "merge"
    key_origin: Origin | None = None  # where the key naming this value is written

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
    """Every node with its path, parents before children."""
    yield prefix, val
    if isinstance(val.value, dict):
        for k, v in val.value.items():
            yield from walk(v, (*prefix, k))
    elif isinstance(val.value, list):
        for i, v in enumerate(val.value):
            yield from walk(v, (*prefix, i))


def dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


def locate(root: Val, path: tuple[str | int, ...], key: bool = False) -> Origin:
    """The origin of the deepest existing node along `path` (of its key, if `key`)."""
    node, origin = root, root.origin
    for step in path:
        nxt = node.get(step)
        if nxt is None:
            break
        node, origin = nxt, nxt.origin
    return (node.key_origin or origin) if key else origin


def _scalar(raw: Any) -> Any:
    # ruamel hands back int/float subclasses and dates; the model wants plain types
    if isinstance(raw, bool) or raw is None:
        return raw
    if isinstance(raw, int):
        return int(raw)
    if isinstance(raw, float):
        return float(raw)
    if isinstance(raw, (_dt.date, _dt.datetime)):
        return raw.isoformat()
    return str(raw)


def _op_of(node: Any, origin: Origin) -> Op:
    tag = getattr(node, "tag", None)
    value = getattr(tag, "value", None) if tag is not None else None
    if value is None or value.startswith("tag:yaml.org"):
        return "merge"
    if value in TAGS:
        return TAGS[value]
    raise UserError(
        Problem(
            f"unknown YAML tag {value!r}",
            origin,
            hint="stackgen understands !reset (replace inherited value) and !remove (drop a list item)",
        )
    )


def from_ruamel(node: Any, origin: Origin, size: int = 0) -> Val:
    """Convert a ruamel round-trip node into a `Val` tree with 1-based positions.

    Aliases (and YAML 1.1 merge keys, `<<: *base`) are expanded here, so this is where
    the number of values (at most MAX_VALUES + VALUES_PER_BYTE per byte of the `size`
    characters of text) and the depth are limited."""
    budget = [MAX_VALUES + VALUES_PER_BYTE * size]
    return _convert(node, origin, origin, budget, 0)


def _convert(node: Any, origin: Origin, root: Origin, budget: list[int], depth: int) -> Val:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar

    def at(pos: tuple[int, int] | None) -> Origin:
        # ruamel knows no position for some flow-style items: use the parent's
        if not pos:
            return origin
        return replace(origin, line=pos[0] + 1, col=pos[1] + 1)

    budget[0] -= 1
    if budget[0] < 0:
        raise UserError(Problem(
            "far more values once aliases are expanded than the text holds; stackgen stops reading",
            replace(root, line=None, col=None),
            hint="an alias that repeats an alias (a \"billion laughs\" file) is not a fleet",
        ))
    if depth > MAX_DEPTH:
        raise UserError(Problem(f"values nested more than {MAX_DEPTH} levels deep", origin))
    op = _op_of(node, origin)
    if isinstance(node, CommentedMap):
        out: dict[str, Val] = {}
        for key in node:
            key_at, value_at = at(_position(node, key, "key")), at(_position(node, key, "value"))
            child = node[key]
            if not isinstance(key, str):
                raise UserError(Problem(f"keys must be text, got {key!r}", key_at))
            # a scalar's position is where its value starts; a block's, where its key is
            block = isinstance(child, (CommentedMap, CommentedSeq))
            val = _convert(child, key_at if block else value_at, root, budget, depth + 1)
            out[key] = replace(val, key_origin=key_at)
        return Val(out, origin, op)
    if isinstance(node, CommentedSeq):
        items = []
        for i, child in enumerate(node):
            items.append(_convert(child, at(node.lc.item(i)), root, budget, depth + 1))
        return Val(items, origin, op)
    if isinstance(node, TaggedScalar):
        return Val(_scalar(node.value), origin, op)
    return Val(_scalar(node), origin, op)


def _position(node: Any, key: Any, which: str) -> tuple[int, int] | None:
    """Where `key` (or its value) is written; a key from a merge (`<<: *base`) is found in
    the mapping it was merged from."""
    merged = [m[-1] if isinstance(m, tuple) else m for m in getattr(node, "merge", ())]
    for source in (node, *merged):
        lc = getattr(source, "lc", None)
        if lc is not None and key in (lc.data or {}):
            pos: tuple[int, int] = lc.key(key) if which == "key" else lc.value(key)
            return pos
    return None


def from_plain(data: Any, origin: Origin) -> Val:
    """Wrap plain data (defaults, `--set` values) with one origin throughout."""
    if isinstance(data, dict):
        return Val({str(k): from_plain(v, origin) for k, v in data.items()}, origin)
    if isinstance(data, (list, tuple)):
        return Val([from_plain(v, origin) for v in data], origin)
    return Val(_scalar(data), origin)


def load_yaml_text(text: str, origin: Origin, document: bool = True) -> Val:
    """Parse YAML text into a `Val` tree; syntax errors become a `UserError` with position.
    An empty (or null) document is an empty mapping; a `--set` value (`document=False`)
    of null stays null."""
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="rt")
    try:
        data = yaml.load(text)
        root = replace(origin, line=1, col=1)
        if data is None:
            return Val({} if document else None, root)
        return from_ruamel(data, root, len(text))
    except DuplicateKeyError as exc:  # its message quotes both values: name the key only
        mark = exc.problem_mark
        where = replace(origin, line=mark.line + 1, col=mark.column + 1) if mark else origin
        key = (exc.problem or "").partition('key "')[2].partition('" with value')[0]
        raise UserError(Problem(f"duplicate key {key!r}", where,
                                hint="each key may appear once in a mapping")) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = replace(origin, line=mark.line + 1, col=mark.column + 1) if mark else origin
        what = exc.problem or exc.context or "invalid YAML"
        raise UserError(Problem(f"YAML syntax error: {what}", where)) from None
    except YAMLError as exc:  # other loader complaints
        raise UserError(Problem(f"YAML error: {exc}", origin)) from None
    except RecursionError:  # the parser recurses per level, far beyond MAX_DEPTH
        raise UserError(Problem(f"values nested more than {MAX_DEPTH} levels deep", origin)) from None


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


def load_yaml_file(path: Path, origin: Origin) -> Val:
    try:
        text = read_input(path).decode("utf-8")
    except FileNotFoundError:
        raise UserError(Problem(f"file not found: {path}", origin)) from None
    except OSError as exc:
        raise UserError(Problem(f"cannot read {path}: {exc.strerror}", origin)) from None
    except (ValueError, UnicodeDecodeError) as exc:  # UnicodeDecodeError is a ValueError
        raise UserError(Problem(f"cannot read {path}: {exc}", origin)) from None
    return load_yaml_text(text, origin)
