"""Values that remember where they came from.

Every input (profile, site file, `--set`, built-in default) is read into a tree of `Val`s:
maps, lists and scalars, each carrying the `Origin` (file:line:col) it was written at and
a merge directive (`!reset` replaces what earlier layers set, `!remove` drops an inherited
list item). Merging, validation errors and `stackgen explain` all work on this tree.
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from stackgen.errors import Origin, Problem, UserError
from stackgen.records import dataclass

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


@dataclass(frozen=True, slots=True)
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
    node, origin = root, root.origin
    for step in path:
        nxt = node.get(step)
        if nxt is None:
            break
        node, origin = nxt, nxt.origin
    return (node.key_origin or origin) if key else origin


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


STR_TAG = "tag:yaml.org,2002:str"
# what the resolver gives plain scalars: their constructors are called directly
PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("null", "bool", "int", "float", "timestamp"))
MERGE_TAG = "tag:yaml.org,2002:merge"


def _op_of(tag: str | None, origin: Origin) -> Op:
    if tag is None or tag == "!" or tag.startswith("tag:yaml.org"):
        return "merge"
    if tag in TAGS:
        return TAGS[tag]
    raise UserError(
        Problem(
            f"unknown YAML tag {tag!r}",
            origin,
            hint="stackgen understands !reset (replace inherited value) and !remove (drop a list item)",
        )
    )


class _Node:
    """A mapping or list being read: what it holds so far, and how many values that is."""

    __slots__ = ("items", "origin", "op", "anchor", "size", "key", "key_origin", "merged")

    def __init__(self, items: dict[str, Val] | list[Val], origin: Origin, op: Op,
                 anchor: str | None) -> None:
        self.items, self.origin, self.op, self.anchor = items, origin, op, anchor
        self.size = 1
        self.key: str | None = None  # a mapping's key waiting for its value (MERGE_TAG: `<<`)
        self.key_origin: Origin | None = None
        self.merged: list[Val] = []


class _Builder:
    """Builds the `Val` tree from parse events, without recursion.

    Events, not ruamel's composed nodes or round-trip objects: the C composer recurses per
    level (a deeply nested flow list crashes the process) and resolves each scalar through
    several Python calls. Scalars are resolved here with ruamel's own YAML 1.2 (or, after a
    `%YAML 1.1` directive, 1.1) rules and built by its constructor. Aliases and merge keys
    (`<<: *base`) are expanded, so this is where the number of values (at most MAX_VALUES +
    VALUES_PER_BYTE per byte of text) and the depth are limited."""

    def __init__(self, root: Origin, size: int, yaml: Any) -> None:
        self.root, self.yaml, self.constructor = root, yaml, yaml.constructor
        self.budget = MAX_VALUES + VALUES_PER_BYTE * size
        self.anchors: dict[str, tuple[Val, int] | None] = {}  # None: still being read
        self.stack: list[_Node] = []
        self.rules: dict[Any, list[tuple[str, Any]]] = {}
        self.result: Val | None = None

    def at(self, mark: Any) -> Origin:
        r = self.root
        return Origin(r.kind, r.file, mark.line + 1, mark.column + 1, r.profile)

    def resolve(self, version: Any) -> None:
        from ruamel.yaml.resolver import VersionedResolver

        self.rules = VersionedResolver(version=version).versioned_resolver
        if version:  # `%YAML 1.1`: the constructor reads 017 as octal, as the resolver does
            self.yaml.version = version

    def scalar(self, event: Any) -> Any:
        tag, text = event.tag, event.value
        if tag is None and event.implicit[0]:
            tag = next((t for t, rule in self.rules.get(text[:1], ()) if rule.match(text)), None)
            if tag is None:
                return text
        if tag is None or tag == "!" or tag == STR_TAG or not tag.startswith("tag:yaml.org"):
            return text  # `!reset 5` is the text "5", as a tagged scalar always was
        from ruamel.yaml.nodes import ScalarNode

        node = ScalarNode(tag, text, event.start_mark, event.end_mark, style=event.style)
        if tag not in PLAIN_TAGS:  # e.g. `!!map x`: the constructor words the refusal
            return _scalar(self.constructor.construct_object(node, deep=True))
        return _scalar(self.constructor.yaml_constructors[tag](self.constructor, node))

    def spend(self, count: int, mark: Any) -> None:
        self.budget -= count
        if self.budget < 0:
            raise UserError(Problem(
                "far more values once aliases are expanded than the text holds; stackgen stops reading",
                replace(self.root, line=None, col=None),
                hint="an alias that repeats an alias (a \"billion laughs\" file) is not a fleet",
            ))
        if len(self.stack) > MAX_DEPTH:
            raise UserError(Problem(f"values nested more than {MAX_DEPTH} levels deep", self.at(mark)))

    def handlers(self) -> dict[str, Any]:
        """Event class name -> handler; the events that carry nothing for us are left out."""
        return {"ScalarEvent": self.on_scalar, "MappingStartEvent": self.on_start,
                "SequenceStartEvent": self.on_start, "MappingEndEvent": self.on_end,
                "SequenceEndEvent": self.on_end, "AliasEvent": self.on_alias,
                "DocumentStartEvent": self.on_document}

    def on_scalar(self, event: Any) -> None:
        parent = self.stack[-1] if self.stack else None
        if parent is not None and parent.key is None and isinstance(parent.items, dict):
            self.key(event, parent)
            return
        self.spend(1, event.start_mark)
        # a scalar's position is where its value starts
        origin = self.root if parent is None else self.at(event.start_mark)
        tag = event.tag
        op: Op = "merge" if tag is None else _op_of(tag, origin)
        self.put(parent, self.scalar(event), origin, op, 1, event.anchor)

    def on_start(self, event: Any) -> None:
        mapping = type(event).__name__ == "MappingStartEvent"
        parent = self.stack[-1] if self.stack else None
        if parent is None:
            origin = self.root
        elif isinstance(parent.items, dict):
            if parent.key is None:
                kind = "mapping" if mapping else "list"
                raise UserError(Problem(f"keys must be text, got a {kind}", self.at(event.start_mark)))
            origin = parent.key_origin or self.at(event.start_mark)  # a block's: where its key is
        else:
            origin = self.at(event.start_mark)
        op: Op = "merge" if event.tag is None else _op_of(event.tag, origin)
        node = _Node({} if mapping else [], origin, op, event.anchor)
        if event.anchor is not None:
            self.anchors[event.anchor] = None
        self.stack.append(node)
        self.spend(1, event.start_mark)

    def on_end(self, event: Any) -> None:
        node = self.stack.pop()
        if node.merged and isinstance(node.items, dict):
            # keys written in the mapping win; among merged mappings, the first listed
            for source in node.merged:
                for key, val in source.value.items():
                    node.items.setdefault(key, val)
        parent = self.stack[-1] if self.stack else None
        self.put(parent, node.items, node.origin, node.op, node.size, node.anchor)

    def on_document(self, event: Any) -> None:
        if self.result is not None or self.rules:
            raise UserError(Problem("a file holds one YAML document, this is a second one",
                                    self.at(event.start_mark), hint="remove the `---` line"))
        self.resolve(event.version)

    def key(self, event: Any, parent: _Node) -> None:
        where = self.at(event.start_mark)
        if event.tag is None and event.implicit[0] and event.value == "<<":
            parent.key, parent.key_origin = MERGE_TAG, where
            return
        text = self.scalar(event)
        if not isinstance(text, str):
            raise UserError(Problem(f"keys must be text, got {text!r}", where))
        if text in parent.items:
            raise UserError(Problem(f"duplicate key {text!r}", where,
                                    hint="each key may appear once in a mapping"))
        # one string per distinct key: a fleet repeats the same few keys thousands of times
        parent.key, parent.key_origin = sys.intern(text), where

    def on_alias(self, event: Any) -> None:
        where = self.at(event.start_mark)
        if event.anchor not in self.anchors:
            raise UserError(Problem(f"alias *{event.anchor} names no anchor before it", where,
                                    hint=f"define it first, e.g. `key: &{event.anchor} value`"))
        target = self.anchors[event.anchor]
        if target is None:
            raise UserError(Problem(f"alias *{event.anchor} is inside the value it names", where,
                                    hint="a value cannot contain itself"))
        val, size = target
        parent = self.stack[-1] if self.stack else None
        if parent is not None and isinstance(parent.items, dict) and parent.key is None:
            if not isinstance(val.value, str):
                raise UserError(Problem(f"keys must be text, got {val.value!r}", where))
            parent.key, parent.key_origin = val.value, where  # a key written as an alias
            return
        self.spend(size, event.start_mark)
        self.put(parent, val.value, val.origin, val.op, size, None)

    def put(self, parent: _Node | None, value: Any, origin: Origin, op: Op, size: int,
            anchor: str | None) -> None:
        """One finished value into its parent, with the position of its key: one Val each."""
        if parent is None:
            self.result = val = Val(value, origin, op)
        elif isinstance(parent.items, list):
            parent.size += size
            val = Val(value, origin, op)
            parent.items.append(val)
        else:
            parent.size += size
            key, key_origin = parent.key, parent.key_origin
            parent.key = None
            val = Val(value, origin, op, key_origin)
            if key == MERGE_TAG:
                sources = value if isinstance(value, list) else [val]
                if not all(isinstance(s.value, dict) for s in sources):
                    raise UserError(Problem(
                        "a merge key (<<) takes a mapping or a list of mappings", key_origin,
                        hint="write `<<: *anchor` with an anchored mapping"))
                parent.merged += sources
            else:
                assert key is not None
                parent.items[key] = val
        if anchor is not None:
            self.anchors[anchor] = (val, size)


YAML11_BREAKS = ("\x85", "\u2028", "\u2029")


class _PurePython(Exception):
    """This text is for the pure-Python parser."""


def _build(text: str, root: Origin, pure: bool) -> Val | None:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=pure)
    builder = _Builder(root, len(text), yaml)
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
        except (YAMLError, _PurePython):
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
