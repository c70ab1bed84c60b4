"""stackgen.serialize.toml against tomlkit, the library that wrote config.toml before it.

Random documents of the shapes stackgen builds (tables filled then added, values merged into
tables already added, super tables, arrays of tables, comments, multiline strings) and of
anything an escape hatch (`runner_config`, `manager_config`) can hold are built both ways:
the text must be byte for byte tomlkit's, and tomllib must read the data back.

Budget: a few dozen examples by default; HYPOTHESIS_PROFILE=thorough runs thousands.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tomllib
from typing import Any

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tomlkit.items import Table as TomlkitTable

from stackgen.serialize import toml

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
BUDGET = settings(max_examples=3000 if THOROUGH else 60, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Text that a TOML writer must escape or quote: quotes, backslashes, control characters
# (C0, DEL, ESC), line and paragraph separators, the BOM, astral characters.
SPECIALS = ['"', "'", '"""', "\\", "\\n", "\n", "\t", "\r", "\r\n", "\x00", "\x1b", "\x7f", "\x85",
            "\u2028", "\ufeff", "é", "日本", "😀", "#", "=", ".", "[", "]", "{", "}", ",", " ", "${X}"]
texts = st.lists(st.one_of(st.sampled_from(SPECIALS), st.text(st.characters(codec="utf-8"), max_size=5)),
                 max_size=5).map("".join)
keys = st.one_of(st.from_regex(r"[A-Za-z0-9_-]{1,8}", fullmatch=True), texts,
                 st.sampled_from(["", "a.b", "tls-ca-file", "kubernetes.io/hostname", "key=value", "1", "true"]))
floats = st.one_of(st.floats(), st.sampled_from([0.0, -0.0, 1e16, 1e-5, 5e-324, 1.7976931348623157e308,
                                                 0.1, float("inf"), -float("inf"), float("nan")]))
offsets = st.sampled_from([None, dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30)),
                           dt.timezone(-dt.timedelta(hours=8))])
scalars = st.one_of(
    texts, st.booleans(), st.integers(), st.integers(-(2**63), 2**63 - 1), floats,
    st.dates(), st.datetimes(timezones=offsets), st.times(),  # a TOML local time has no offset
)
# what an escape hatch holds: YAML's data model (dates come as text from YAML, but a
# library caller may pass date objects)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(keys, inner, max_size=4),
    st.lists(st.dictionaries(keys, inner, max_size=3), min_size=1, max_size=3),
), max_leaves=10)


@st.composite
def programs(draw: Any, depth: int = 0) -> list[tuple[Any, ...]]:
    """Steps that build one table: stackgen fills a table before adding it, then may merge
    more values into tables already added (the escape hatches)."""
    steps: list[tuple[Any, ...]] = []
    tables: list[str] = []
    used: set[str] = set()
    kinds = ["value", "value", "comment", "multiline"] + (["table", "aot", "into"] if depth < 3 else [])
    for kind in draw(st.lists(st.sampled_from(kinds), max_size=7)):
        if kind == "comment":
            steps.append(("comment", draw(st.text(st.characters(codec="utf-8", exclude_categories=("Cc",)),
                                                  max_size=10))))
            continue
        if kind == "into":
            if tables:
                steps.append(("into", draw(st.sampled_from(tables)), draw(programs(depth + 1))))
            continue
        key = draw(keys)
        if key in used:
            continue
        used.add(key)
        if kind == "value":
            steps.append(("value", key, draw(values)))
        elif kind == "multiline":
            steps.append(("multiline", key, draw(texts.filter(lambda t: "\r" not in t))))
        elif kind == "table":
            tables.append(key)
            inner = draw(programs(depth + 1))
            # stackgen's super tables hold tables (an empty one would vanish from the text)
            holder = any(s[0] in ("table", "aot") for s in inner) and draw(st.booleans())
            steps.append(("table", key, True if holder else None, inner))
        else:
            steps.append(("aot", key, draw(st.lists(programs(depth + 1), max_size=3))))
    return steps


def build_tomlkit(table: Any, steps: list[tuple[Any, ...]]) -> Any:
    for step in steps:
        if step[0] in ("value", "multiline", "table", "aot") and step[1] in table:
            continue  # merged later into a table that has the key already
        if step[0] == "comment":
            table.add(tomlkit.comment(step[1]))
        elif step[0] == "value":
            table.add(step[1], tomlkit.item(step[2]))
        elif step[0] == "multiline":
            table.add(step[1], tomlkit.string(step[2], multiline=True))
        elif step[0] == "table":
            table.add(step[1], build_tomlkit(tomlkit.table(is_super_table=step[2]), step[3]))
        elif step[0] == "aot":
            aot = tomlkit.aot()
            for sub in step[2]:
                aot.append(build_tomlkit(tomlkit.table(), sub))
            table.add(step[1], aot)
        elif isinstance(table[step[1]], TomlkitTable):
            build_tomlkit(table[step[1]], step[2])
    return table


def build_ours(table: toml.Table, steps: list[tuple[Any, ...]]) -> toml.Table:
    for step in steps:
        if step[0] in ("value", "multiline", "table", "aot") and step[1] in table:
            continue
        if step[0] == "comment":
            table.comment(step[1])
        elif step[0] == "value":
            table.add(step[1], step[2])
        elif step[0] == "multiline":
            table.add(step[1], toml.MultilineString(step[2]))
        elif step[0] == "table":
            table.add(step[1], build_ours(toml.Table(super_table=step[2]), step[3]))
        elif step[0] == "aot":
            table.add(step[1], toml.AoT(build_ours(toml.Table(), sub) for sub in step[2]))
        elif isinstance(inner := table[step[1]], toml.Table):
            build_ours(inner, step[2])
    return table


def same(a: Any, b: Any) -> bool:
    """Equal data, NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a) if set(a) == set(b) else False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def sorted_keys(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: sorted_keys(data[k]) for k in sorted(data)}
    if isinstance(data, list):
        return [sorted_keys(v) for v in data]
    return data


def local_times(data: Any) -> Any:
    """What a TOML reader gives back: a time of day has no offset."""
    if isinstance(data, dict):
        return {k: local_times(v) for k, v in data.items()}
    if isinstance(data, list):
        return [local_times(v) for v in data]
    return data.replace(tzinfo=None) if isinstance(data, dt.time) else data


@BUDGET
@given(programs())
def test_documents_are_written_as_tomlkit_writes_them(steps: list[tuple[Any, ...]]) -> None:
    ours = build_ours(toml.Table(), steps)
    text = toml.dumps(ours)
    assert text == tomlkit.dumps(build_tomlkit(tomlkit.document(), steps))
    # tables are written after plain values, so compare regardless of key order
    assert same(sorted_keys(tomllib.loads(text)), sorted_keys(local_times(ours.unwrap())))


@BUDGET
@given(st.dictionaries(keys, values, max_size=6))
def test_escape_hatch_values_merge_as_with_tomlkit(extra: dict[str, Any]) -> None:
    """A runner table with its subtables, and `runner_config` added afterwards (merge_into)."""
    def runner(table: Any, sub: Any) -> Any:
        table.add("name", "r1")
        table.add("environment", ["A=1", "B=2"])
        docker = sub()
        docker.add("image", "alpine:3.20")
        docker.add("privileged", False)
        table.add("docker", docker)
        for key, value in extra.items():
            if key not in table:
                table.add(key, tomlkit.item(value) if sub is tomlkit.table else value)
        return table

    theirs = tomlkit.document()
    aot = tomlkit.aot()
    aot.append(runner(tomlkit.table(), tomlkit.table))
    theirs.add("runners", aot)
    ours = toml.Table().add("runners", toml.AoT([runner(toml.Table(), toml.Table)]))
    assert toml.dumps(ours) == tomlkit.dumps(theirs)


def test_a_value_toml_cannot_hold_is_refused() -> None:
    with pytest.raises(TypeError):
        tomlkit.item({"a": [1, None]})
    with pytest.raises(TypeError):
        toml.dumps(toml.Table().add("a", {"b": [1, None]}))


def test_a_key_is_added_once() -> None:
    table = toml.Table().add("a", 1)
    with pytest.raises(toml.DuplicateKey):
        table.add("a", {"b": 2})


def test_multiline_strings_keep_carriage_returns() -> None:
    """tomlkit writes a CRLF raw, which TOML readers turn into a line feed; stackgen escapes
    every CR (its multiline strings are YAML text, which holds none)."""
    text = "\nline\r\nmore\rend\n"
    doc = toml.Table().add("patch", toml.MultilineString(text))
    assert toml.dumps(doc) == 'patch = """\n\nline\\r\nmore\\rend\n"""\n'
    assert tomllib.loads(toml.dumps(doc))["patch"] == text
    assert tomllib.loads(tomlkit.dumps({"patch": tomlkit.string(text, multiline=True)}))["patch"] != text


def test_layout_quirks_kept_from_tomlkit() -> None:
    """The spots where tomlkit's layout is not the obvious one, written the same."""
    doc = toml.Table().comment("header").add("a", 1)
    doc.add("aot", [{}, {"x": 1}, {"t": {"y": 2}, "z": [{"w": 3}]}])
    doc.add("inline", [[{"p": {"q": 1, "r": 2}, "s": 3}]])
    doc.add("empty", toml.AoT())
    # an empty array of tables first; no blank line after an empty table; an entry's
    # subtables after its arrays of tables; no space after a comma in a nested inline table
    assert toml.dumps(doc) == (
        "empty = []\n# header\na = 1\ninline = [[{p = {q = 1,r = 2}, s = 3}]]\n\n"
        "[[aot]]\n[[aot]]\nx = 1\n\n[[aot]]\n[[aot.z]]\nw = 3\n\n[aot.t]\ny = 2\n"
    )
