"""Deterministic YAML output: key order as built, no timestamps, no aliases.

A small block-style emitter, written for speed: it replaced ruamel.yaml's round-trip dumper
(`width = 4096`, `indent(mapping=2, sequence=4, offset=2)`), 40-100x slower, and writes the
same bytes (tests/test_yaml_emitter.py compares the two on random trees) except where
ruamel's text did not read back as the data:
- a scalar past column 4096 stays on its line (ruamel's folding could lose or add a space);
- a `|` block holding U+FFFE, U+FFFF or a lone surrogate is double-quoted (written raw, no
  reader takes it);
- a commented sequence whose first item is empty keeps its line breaks (ruamel dropped the
  next one it needed: `- k: 1 l: 2`);
- an empty `|` block with a comment, at the top level, is written `''` (the comment line
  became its text).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stackgen.digest import sha256_hex
from stackgen.serialize.yaml_scalar import (
    _CACHED,
    MAX_SIMPLE_KEY,
    _cached_text,
    _short_key_text,
    _text,
    double_quoted,
    float_text,
    force_double,
    keeps_trailing_lines,
    key_text,
    literal,
    string,
)


class Literal(str):
    """A string written as a `|` block, unless it holds a character only double quotes carry."""

    __slots__ = ()


class DoubleQuoted(str):
    """A string always written in double quotes (e.g. a version a loader must not take as a
    number)."""

    __slots__ = ()


class Commented:
    """A mapping value with an end-of-line comment, e.g. `mode: 256  # 0400`."""

    def __init__(self, value: Any, comment: str) -> None:
        self.value, self.comment = value, comment


def dump(data: Any, header: str = "") -> str:
    """YAML text for a mapping or sequence of plain data; `header` lines become leading
    comments. Values: dict, list, tuple, str (Literal, DoubleQuoted), int, float, bool, None,
    and Commented as a mapping value; keys are strings."""
    out = ["".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())]
    if not data and isinstance(data, (dict, list, tuple)):
        out.append("{}\n" if isinstance(data, dict) else "[]\n")
    elif isinstance(data, dict):
        _mapping(data, 0, False, out)
    elif isinstance(data, (list, tuple)):
        _sequence(data, 0, False, out)
    else:
        raise TypeError(f"YAML documents are mappings or sequences here, not {type(data).__name__}")
    if _ends_with_kept_block(data):
        out.append("...\n")  # as ruamel: a document ending in a `|+` block is marked closed
    return "".join(out)


def content_hash(text: str, length: int = 10) -> str:
    """Short content hash for names of immutable swarm secrets and configs."""
    return sha256_hex(text.encode("utf-8"))[:length]


# ruamel's layout with those settings: a mapping's keys are at its indent; a sequence's `-`
# two columns in from its indent. A mapping value is indented 2 from its mapping, a sequence
# item's content 4 from the sequence. A collection that is a sequence item, or the value of
# an explicit `? key`, starts on that line after one space ("inline"); a sequence that is a
# mapping value stays at the mapping's indent. Each writer ends its last line.


def _mapping(data: dict[Any, Any], indent: int, inline: bool, out: list[str]) -> None:
    pad = " " * indent
    lead = " " if inline else pad
    for key, value in data.items():
        if type(key) is str:  # key_text, inlined (a call per key was a tenth of the time)
            text = _short_key_text(key) if len(key) < MAX_SIMPLE_KEY else None
        else:
            text = _odd_key(key)
        kind = type(value)
        if kind is str and text is not None:  # the common case, in one piece
            out.append(f"{lead}{text}: {_cached_text(value) if len(value) <= _CACHED else _text(value)}\n")
            lead = pad
            continue
        comment = None
        if kind is Commented:
            comment = _comment(data, key, value.comment)
            value = value.value
        if text is None:  # `? key` then `: value`
            out.append(lead + "?")
            _scalar(key, indent + 2, None, out)
            out.append(pad + ":")
            _value(value, indent, comment, True, out)
        else:
            render = _ONE_LINE.get(type(value))
            if render is not None and comment is None:
                out.append(f"{lead}{text}: {render(value)}\n")
            else:
                out.append(lead + text + ":")
                _value(value, indent, comment, False, out)
        lead = pad


def _value(value: Any, indent: int, comment: str | None, explicit: bool, out: list[str]) -> None:
    """A mapping's value after `key:` (or after `:` of an explicit key)."""
    if value and isinstance(value, (dict, list, tuple)):
        inline = explicit and comment is None
        if comment is not None:
            out.append(" " + comment + "\n")
        elif not explicit:
            out.append("\n")
        if isinstance(value, dict):
            _mapping(value, indent + 2, inline, out)
        else:
            _sequence(value, indent + 2 if inline else indent, inline, out)
    else:
        _scalar(value, indent + 2, comment, out)


def _sequence(data: list[Any] | tuple[Any, ...], indent: int, inline: bool,
              out: list[str]) -> None:
    dash = " " * indent + "  -"
    lead = "   -" if inline else dash
    for item in data:
        kind = type(item)
        if kind is str:  # string(), inlined
            out.append(f"{lead} {_cached_text(item) if len(item) <= _CACHED else _text(item)}\n")
            lead = dash
            continue
        render = _ONE_LINE.get(kind)
        if render is not None:
            out.append(f"{lead} {render(item)}\n")
        else:
            out.append(lead)
            if item and isinstance(item, dict):
                _mapping(item, indent + 4, True, out)
            elif item and isinstance(item, (list, tuple)):
                _sequence(item, indent + 4, True, out)
            else:
                _scalar(item, indent + 4, None, out)
        lead = dash


# one-line renderings by exact type; everything else goes through _scalar
_ONE_LINE: dict[type, Callable[[Any], str]] = {
    str: string,
    int: str,
    bool: lambda value: "true" if value else "false",
    type(None): lambda _: "null",
    float: float_text,
    DoubleQuoted: double_quoted,
}


def _scalar(value: Any, indent: int, comment: str | None, out: list[str]) -> None:
    """A scalar or an empty collection after a key or indicator, its comment and the line
    break; `indent` is where a `|` block's lines go."""
    render = _ONE_LINE.get(type(value))
    if render is not None:
        text = render(value)
    elif type(value) is Literal and not force_double(value):
        if value or comment is None or indent > 2 or comment[0] != " ":
            out.append(" " + literal(value, indent))
            if comment is not None:
                out.append(comment + "\n")  # at column 0, where ruamel adds no space
            return
        text = "''"  # an empty block at the top would take the comment line as its text
    elif type(value) is Literal:
        text = double_quoted(value)
    elif isinstance(value, (dict, list, tuple)) and not value:
        text = "{}" if isinstance(value, dict) else "[]"
    elif isinstance(value, str):  # another str subclass: as a plain string
        text = string(str(value))
    else:
        raise TypeError(f"cannot write {type(value).__name__} as YAML: {value!r}")
    out.append(" " + text + ("\n" if comment is None else " " + comment + "\n"))


def _odd_key(key: Any) -> str | None:
    if not isinstance(key, str) or type(key) in (Literal, DoubleQuoted):
        raise TypeError(f"YAML keys are plain strings here, not {type(key).__name__}: {key!r}")
    return key_text(str(key))


def _comment(data: dict[Any, Any], key: str, comment: str) -> str:
    """The end-of-line comment as ruamel wrote it: one space before `#`, or two when no key
    before it had a comment (the key right before it, or any before the first key that
    sorts at or after this one: ruamel's search for a comment column)."""
    text = " ".join(str(comment).splitlines())
    if not text:
        raise ValueError(f"empty YAML comment for key {key!r}")
    if text[0] != "#":
        text = "# " + text
    found = stopped = previous = False
    for other, value in data.items():
        if other is key:  # the dict's own key object: the one being written
            break
        previous = type(value) is Commented
        if not stopped:
            stopped = other >= key
            found = found or (previous and not stopped)
    return text if found or previous else " " + text


def _ends_with_kept_block(data: Any) -> bool:
    node = data
    while True:
        if type(node) is Commented:
            node = node.value
        if node and isinstance(node, dict):
            node = next(reversed(node.values()))
        elif node and isinstance(node, (list, tuple)):
            node = node[-1]
        else:
            break
    return type(node) is Literal and keeps_trailing_lines(node) and not force_double(node)
