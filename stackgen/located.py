"""Values that remember where they came from.

Every input (profile, site file, `--set`, built-in default) is read into a tree of `Val`s:
maps, lists and scalars, each carrying the `Origin` (file:line:col) it was written at and
a merge directive (`!reset` replaces what earlier layers set, `!remove` drops an inherited
list item). Merging, validation errors and `stackgen explain` all work on this tree.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from .errors import Origin, Problem, UserError

Op = Literal["merge", "reset", "remove"]
TAGS: dict[str, Op] = {"!reset": "reset", "!remove": "remove"}


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


def from_ruamel(node: Any, origin: Origin) -> Val:
    """Convert a ruamel round-trip node into a `Val` tree with 1-based positions."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar

    def at(pos: tuple[int, int] | None) -> Origin:
        # ruamel knows no position for some flow-style items: use the parent's
        if not pos:
            return origin
        return replace(origin, line=pos[0] + 1, col=pos[1] + 1)

    op = _op_of(node, origin)
    if isinstance(node, CommentedMap):
        out: dict[str, Val] = {}
        for key in node:
            key_at, value_at = at(node.lc.key(key)), at(node.lc.value(key))
            child = node[key]
            if not isinstance(key, str):
                raise UserError(Problem(f"keys must be text, got {key!r}", key_at))
            # a scalar's position is where its value starts; a block's, where its key is
            block = isinstance(child, (CommentedMap, CommentedSeq))
            out[key] = replace(from_ruamel(child, key_at if block else value_at), key_origin=key_at)
        return Val(out, origin, op)
    if isinstance(node, CommentedSeq):
        items = []
        for i, child in enumerate(node):
            items.append(from_ruamel(child, at(node.lc.item(i))))
        return Val(items, origin, op)
    if isinstance(node, TaggedScalar):
        return Val(_scalar(node.value), origin, op)
    return Val(_scalar(node), origin, op)


def from_plain(data: Any, origin: Origin) -> Val:
    """Wrap plain data (defaults, `--set` values) with one origin throughout."""
    if isinstance(data, dict):
        return Val({str(k): from_plain(v, origin) for k, v in data.items()}, origin)
    if isinstance(data, (list, tuple)):
        return Val([from_plain(v, origin) for v in data], origin)
    return Val(_scalar(data), origin)


def load_yaml_text(text: str, origin: Origin) -> Val:
    """Parse YAML text into a `Val` tree; syntax errors become a `UserError` with position."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="rt")
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = replace(origin, line=mark.line + 1, col=mark.column + 1) if mark else origin
        what = exc.problem or exc.context or "invalid YAML"
        raise UserError(Problem(f"YAML syntax error: {what}", where)) from None
    except YAMLError as exc:  # duplicate keys and other loader complaints
        raise UserError(Problem(f"YAML error: {exc}", origin)) from None
    if data is None:
        return Val({}, replace(origin, line=1, col=1))
    root = replace(origin, line=1, col=1)
    return from_ruamel(data, root)


def load_yaml_file(path: Path, origin: Origin) -> Val:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(Problem(f"file not found: {path}", origin)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(Problem(f"cannot read {path}: {exc}", origin)) from None
    return load_yaml_text(text, origin)
