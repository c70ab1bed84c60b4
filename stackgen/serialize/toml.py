"""config.toml as data: a small ordered TOML document model and its emitter.

stackgen only ever writes new TOML, so it needs no round-trip machinery (trivia, key
objects, container bookkeeping per value) that made tomlkit a quarter of a large fleet's
build time. The layout is that of tomlkit 0.15.2 (the writer before, whose output the
snapshots hold) byte for byte, quirks included, so no output changed;
tests/test_toml_emitter.py checks that against tomlkit on random documents.

Layout, as tomlkit lays out a document built by adding values:
- plain values (and comments) come before the first table of a table, in the order added;
- a table or array of tables added to a non-empty table gets a blank line before its
  header, and so does the first table once a plain value is added before it;
- an array-of-tables entry gets a blank line unless it is the first one or follows an
  empty table;
- a table with only tables inside (a super table) writes no header of its own;
- lists are inline arrays; dicts inside them inline tables (`{a = 1, b = 2}` in an array,
  `{a = 1,b = 2}` nested in an inline table).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable

# TOML basic strings escape the control characters U+0000-U+001F and U+007F, `"` and `\`:
# with the short forms where TOML 1.0 has them (ESC as \u001b: `\e` is TOML 1.1 only).
_ESCAPES = {c: f"\\u{c:04x}" for c in (*range(0x20), 0x7F)}
_ESCAPES.update({ord(c): e for c, e in (("\b", "\\b"), ("\t", "\\t"), ("\n", "\\n"), ("\f", "\\f"),
                                         ("\r", "\\r"), ('"', '\\"'), ("\\", "\\\\"))})
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f\x7f"\\]')
# A multiline basic string keeps line feeds; quotes need escaping only three in a row. Unlike
# tomlkit, a CR is always escaped: TOML readers turn a raw CRLF into a line feed.
_MULTILINE_ESCAPES = {c: e for c, e in _ESCAPES.items() if chr(c) not in '\n"'}
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


class DuplicateKey(ValueError):
    """A key added twice to one table (TOML forbids it; stackgen merges before adding)."""


class MultilineString(str):
    """A basic string written between triple quotes, for text people read (a YAML patch)."""


class Table:
    """An ordered TOML table (the document itself is one).

    Values are TOML scalars (str, int, float, bool, date, time, datetime), lists (inline
    arrays; dicts in them are inline tables), Tables and AoTs. A dict added becomes a
    Table and a non-empty list of only dicts an AoT, as tomlkit converts them.
    """

    __slots__ = ("_plain", "_nested", "_values", "super_table", "blank")

    def __init__(self, super_table: bool | None = None) -> None:
        # entries are (key, value), or (None, comment line); plain ones always precede nested
        self._plain: list[tuple[str | None, object]] = []
        self._nested: list[tuple[str | None, object]] = []
        self._values: dict[str, object] = {}
        # True: never a header of its own; None: none while it holds only tables
        self.super_table = super_table
        self.blank = False  # a blank line before the header

    def add(self, key: str, value: object) -> Table:
        """`key = value` (a key once per table), laid out as tomlkit adds it."""
        if key in self._values:
            raise DuplicateKey(f"key {key!r} is already in the table")
        if not isinstance(value, (str, int, float)):  # bool is an int
            if not isinstance(value, (Table, AoT)):  # (those need no converting)
                value = _convert(value)
            if isinstance(value, (Table, AoT)):
                if self._plain or self._nested:
                    if isinstance(value, Table):
                        value.blank = True
                    elif value.tables:
                        value.tables[0].blank = True
                self._nested.append((key, value))
                self._values[key] = value
                return self
        if self._nested:
            # the value goes before the first table, which then starts after a blank line
            first = self._nested[0][1]
            assert isinstance(first, (Table, AoT))
            first.blank = True
        self._plain.append((key, value))
        self._values[key] = value
        return self

    def comment(self, text: str) -> Table:
        """`# text` lines, after everything added so far."""
        line = "\n".join(f"# {part}" if part else "#" for part in text.split("\n"))
        (self._nested if self._nested else self._plain).append((None, line))
        return self

    def update(self, other: Table) -> Table:
        """Add each of `other`'s values (none may be here already), in the order added."""
        for key, value in other._values.items():
            self.add(key, value)
        return self

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __getitem__(self, key: str) -> object:
        return self._values[key]

    def __len__(self) -> int:
        return len(self._values)

    def unwrap(self) -> dict[str, object]:
        """The table as plain data (dicts, lists, scalars), in document order."""
        return {k: _unwrap(v) for k, v in (*self._plain, *self._nested) if k is not None}

    def _emits_header(self) -> bool:
        if self._plain or any(k is None for k, _ in self._nested):
            return True
        return not self.super_table if self.super_table is not None else not self._values


class AoT:
    """An array of tables (`[[key]]` entries)."""

    __slots__ = ("tables", "blank")

    def __init__(self, tables: Iterable[Table] = ()) -> None:
        self.tables: list[Table] = []
        self.blank = False  # only an empty array shows it (as `key = []`)
        for table in tables:
            self.append(table)

    def append(self, table: Table) -> AoT:
        # tomlkit tests the previous entry for truth: after an empty table, no blank line
        if self.tables and self.tables[-1]._values:
            table.blank = True
        self.tables.append(table)
        return self

    def unwrap(self) -> list[dict[str, object]]:
        return [t.unwrap() for t in self.tables]


def _convert(value: object) -> object:
    if isinstance(value, dict):
        return _table_of(value, False)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, dict) for v in value):
        return AoT(_table_of(v, True) for v in value)
    return value


def _table_of(data: dict[str, object], in_aot: bool) -> Table:
    table = Table()
    items = list(data.items())
    if in_aot:  # tomlkit puts an array entry's dict values (its subtables) last
        items.sort(key=lambda kv: isinstance(kv[1], dict))
    for key, value in items:
        table.add(key, value)
    return table


def _unwrap(value: object) -> object:
    if isinstance(value, (Table, AoT)):
        return value.unwrap()
    if isinstance(value, MultilineString):
        return str(value)
    return value


def dumps(doc: Table) -> str:
    """The TOML text of a document: its values, then its tables, without a header."""
    out: list[str] = []
    _empty_arrays(doc, "", out)
    _body(doc, "", out)
    return "".join(out)


@functools.lru_cache(maxsize=4096)  # a fleet repeats a few dozen keys thousands of times
def _key(key: str) -> str:
    if not isinstance(key, str):
        raise TypeError(f"TOML keys are strings, not {type(key).__name__}")
    return key if _BARE_KEY.fullmatch(key) else _basic(key)


def _body(table: Table, name: str, out: list[str]) -> None:
    for key, value in table._plain:
        if key is None:
            out.append(f"{value}\n")
        else:
            text = _string(value) if type(value) is str else _value(value)
            out.append(f"{_key(key)} = {text}\n")
    for key, value in table._nested:
        if key is None:
            out.append(f"{value}\n")
            continue
        path = f"{name}.{_key(key)}" if name else _key(key)
        if isinstance(value, Table):
            if value._emits_header():
                out.append(f"\n[{path}]\n" if value.blank else f"[{path}]\n")
                if value._nested:  # (only they can hold an empty array of tables)
                    _empty_arrays(value, "", out)
            elif value.blank:
                out.append("\n")
            _body(value, path, out)
        else:
            assert isinstance(value, AoT)
            for entry in value.tables:
                out.append(f"\n[[{path}]]\n" if entry.blank else f"[[{path}]]\n")
                if entry._nested:
                    _empty_arrays(entry, "", out)
                _body(entry, path, out)


def _empty_arrays(table: Table, prefix: str, out: list[str]) -> None:
    """An array of tables without entries has no header to write: it is `key = []` at the
    top of the enclosing scope (through header-less super tables), as tomlkit writes it."""
    for key, value in table._nested:
        if key is None:
            continue
        path = f"{prefix}.{_key(key)}" if prefix else _key(key)
        if isinstance(value, AoT) and not value.tables:
            out.append(f"\n{path} = []\n" if value.blank else f"{path} = []\n")
        elif isinstance(value, Table) and not value._emits_header():
            _empty_arrays(value, path, out)


def _basic(text: str) -> str:
    return f'"{text.translate(_ESCAPES)}"' if _NEEDS_ESCAPE.search(text) else f'"{text}"'


_basic_kept = functools.lru_cache(maxsize=4096)(_basic)


def _string(text: str) -> str:
    """A plain str as a basic string: a fleet repeats most values (images, paths, names
    of the executor and its settings), so short ones keep their text."""
    return _basic_kept(text) if len(text) <= 256 else _basic(text)


def _multiline(text: str) -> str:
    body = text.translate(_MULTILINE_ESCAPES).replace('"""', '""\\"')
    # the parser drops a newline right after the opening quotes: write one more
    return f'"""\n{body}"""' if body[:1] == "\n" else f'"""{body}"""'


def _value(value: object, separator: str = ", ") -> str:
    if type(value) is str:  # the common case first
        return _string(value)
    if isinstance(value, str):
        return _multiline(value) if isinstance(value, MultilineString) else _basic(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return f"[{', '.join([_value(v) for v in value])}]"
    if isinstance(value, dict):  # an inline table: in an array, or (`,` only) in another
        inner = separator.join(f"{_key(k)} = {_value(v, ',')}" for k, v in value.items())
        return f"{{{inner}}}"
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):  # a TOML local time has no offset
        text = f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
        return f"{text}.{value.microsecond:06d}".rstrip("0") if value.microsecond else text
    raise TypeError(f"Unable to convert an object of {type(value)} to a TOML item")
