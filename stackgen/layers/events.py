"""Reading YAML parse events into the `Val` tree of `stackgen.layers.located`.

`located.load_yaml_text` parses (and caches); this builds its values, one parse event at a
time, with their positions, merge directives, anchors and aliases, and the limits on size
and depth.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

from stackgen.errors import Origin, Problem, UserError
from stackgen.layers.located import (
    MAX_DEPTH,
    MAX_VALUES,
    VALUES_PER_BYTE,
    Op,
    Val,
    _scalar,
    position,
)

TAGS: dict[str, Op] = {"!reset": "reset", "!remove": "remove"}
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

    __slots__ = ("items", "line", "col", "op", "anchor", "size", "key", "key_line", "key_col",
                 "merged")

    def __init__(self, items: dict[str, Val] | list[Val], line: int, col: int, op: Op,
                 anchor: str | None) -> None:
        self.items, self.line, self.col, self.op, self.anchor = items, line, col, op, anchor
        self.size = 1
        self.key: str | None = None  # a mapping's key waiting for its value (MERGE_TAG: `<<`)
        self.key_line = self.key_col = 0  # where that key is written
        self.merged: list[Val] = []


class Builder:
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
        # one string per distinct text: a fleet repeats its images, tags and paths
        self.texts: dict[str, str] = {}

    def at(self, mark: Any) -> Origin:
        return self.origin(mark.line + 1, mark.column + 1)

    def origin(self, line: int, col: int) -> Origin:
        """An Origin in this file, for a message: values keep only their `Val.at`."""
        r = self.root
        return Origin(r.kind, r.file, line, col, r.profile)

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
                return self.texts.setdefault(text, text)
        if tag is None or tag == "!" or tag == STR_TAG or not tag.startswith("tag:yaml.org"):
            # `!reset 5` is the text "5", as a tagged scalar always was
            return self.texts.setdefault(text, text)
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
        mark = event.start_mark
        self.spend(1, mark)
        # a scalar's position is where its value starts
        line, col = mark.line + 1, mark.column + 1
        tag = event.tag
        op: Op = "merge" if tag is None else _op_of(
            tag, self.root if parent is None else self.origin(line, col))
        self.put(parent, self.scalar(event), line, col, op, 1, event.anchor)

    def on_start(self, event: Any) -> None:
        mapping = type(event).__name__ == "MappingStartEvent"
        parent = self.stack[-1] if self.stack else None
        if parent is None:
            line = col = 0  # the document: its origin is the file's
        elif isinstance(parent.items, dict):
            if parent.key is None:
                kind = "mapping" if mapping else "list"
                raise UserError(Problem(f"keys must be text, got a {kind}", self.at(event.start_mark)))
            line, col = parent.key_line, parent.key_col  # a block's: where its key is
        else:
            line, col = event.start_mark.line + 1, event.start_mark.column + 1
        op: Op = "merge" if event.tag is None else _op_of(
            event.tag, self.root if parent is None else self.origin(line, col))
        node = _Node({} if mapping else [], line, col, op, event.anchor)
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
        self.put(parent, node.items, node.line, node.col, node.op, node.size, node.anchor)

    def on_document(self, event: Any) -> None:
        if self.result is not None or self.rules:
            raise UserError(Problem("a file holds one YAML document, this is a second one",
                                    self.at(event.start_mark), hint="remove the `---` line"))
        self.resolve(event.version)

    def key(self, event: Any, parent: _Node) -> None:
        mark = event.start_mark
        parent.key_line, parent.key_col = mark.line + 1, mark.column + 1
        if event.tag is None and event.implicit[0] and event.value == "<<":
            parent.key = MERGE_TAG
            return
        if event.tag not in (None, "!") and not event.tag.startswith("tag:yaml.org"):
            # as on a value, where only !reset and !remove mean something: on a key, nothing
            raise UserError(Problem(f"a key takes no YAML tag, this one has {event.tag!r}",
                                    self.at(mark)))
        text = self.scalar(event)
        if not isinstance(text, str):
            raise UserError(Problem(f"keys must be text, got {text!r}", self.at(mark)))
        if text in parent.items:
            raise UserError(Problem(f"duplicate key {text!r}", self.at(mark),
                                    hint="each key may appear once in a mapping"))
        # one string per distinct key: a fleet repeats the same few keys thousands of times
        parent.key = sys.intern(text)

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
            # a key written as an alias
            parent.key, parent.key_line, parent.key_col = val.value, where.line or 0, where.col or 0
            return
        self.spend(size, event.start_mark)
        origin = val.origin  # the anchored value's place (a value is never its own anchor)
        self.put(parent, val.value, origin.line or 0, origin.col or 0, val.op, size, None)

    def put(self, parent: _Node | None, value: Any, line: int, col: int, op: Op, size: int,
            anchor: str | None) -> None:
        """One finished value into its parent, with the position of its key: one Val each."""
        if parent is None:
            self.result = val = Val(value, self.root, 0, op)
        elif isinstance(parent.items, list):
            parent.size += size
            val = Val(value, self.root, position(line, col), op)
            parent.items.append(val)
        else:
            parent.size += size
            key = parent.key
            parent.key = None
            val = Val(value, self.root, position(line, col, parent.key_line, parent.key_col), op)
            if key == MERGE_TAG:
                sources = value if isinstance(value, list) else [val]
                if not all(isinstance(s.value, dict) for s in sources):
                    raise UserError(Problem(
                        "a merge key (<<) takes a mapping or a list of mappings",
                        self.origin(parent.key_line, parent.key_col),
                        hint="write `<<: *anchor` with an anchored mapping"))
                parent.merged += sources
            else:
                assert key is not None
                parent.items[key] = val
        if anchor is not None:
            self.anchors[anchor] = (val, size)
