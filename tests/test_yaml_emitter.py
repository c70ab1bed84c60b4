"""The YAML emitter (stackgen.serialize.yaml) against the ruamel.yaml dumper it replaced.

Random trees must come out byte for byte as the old `dump()` wrote them with ruamel (kept
below), and read back as the data with ruamel's safe loader. The emitter departs from ruamel
only where ruamel's text did not read back as the data; `_departs` names those cases and the
test fails on any other difference, so a new one has to be looked at.

Budget: a few hundred examples by default (seconds); HYPOTHESIS_PROFILE=thorough runs many
more, as for tests/test_properties.py.
"""

from __future__ import annotations

import io
import math
import os
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from stackgen.serialize.yaml import Commented, DoubleQuoted, Literal, dump

THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
WIDTH = 4096  # ruamel folded scalars past this column; the emitter never folds
LOADER = YAML(typ="safe", pure=True)


def budget(fast: int, thorough: int) -> settings:
    return settings(max_examples=thorough if THOROUGH else fast, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --- the old implementation (stackgen/serialize/yaml.py before the emitter) ---------------

def _needs_double_quotes(text: str) -> bool:
    return any(ch in "\x85\u2028\u2029" or (ch < " " and ch not in "\n\t") or "\x7f" <= ch <= "\x9f"
               for ch in text)


def _convert(data: Any) -> Any:
    if isinstance(data, dict):
        out = CommentedMap()
        for key, value in data.items():
            key = _convert(key)
            if isinstance(value, Commented):
                out[key] = _convert(value.value)
                out.yaml_add_eol_comment(" ".join(str(value.comment).splitlines()), key)
            else:
                out[key] = _convert(value)
        return out
    if isinstance(data, (list, tuple)):
        return CommentedSeq(_convert(v) for v in data)
    if isinstance(data, str) and _needs_double_quotes(data):
        return DoubleQuotedScalarString(str(data))
    if type(data) is Literal:
        return LiteralScalarString(data)
    if type(data) is DoubleQuoted:
        return DoubleQuotedScalarString(data)
    return data


def ruamel_dump(data: Any, header: str = "") -> str:
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.ignore_aliases = lambda *_: True
    stream = io.StringIO()
    yaml.dump(_convert(data), stream)
    prefix = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return prefix + stream.getvalue()


# --- data ---------------------------------------------------------------------------------

ATOMS = [
    "", " ", "  ", "\n", "\t", "\r", "'", '"', "''", "#", " #", "# ", ":", ": ", " :", "-", "- ",
    "?", "? ", "*", "&", "!", "%", "@", "`", "|", ">", ",", "[", "]", "{", "}", "---", "...",
    "\\", "~", "<<", "=", "true", "False", "null", "NULL", "y", "yes", "No", "on", "1", "-1",
    "+1", "0x1F", "0o17", "0b1", "1_000", "_1", "1.5", "-1.5e3", "1e5", ".5", ".inf", "-.Inf",
    ".nan", "2001-12-14", "2001-12-14 21:59:43.10 -5", "12:30", "é", "日本", "😀", "\xa0", "\x85",
    "\u2028", "\u2029", "\ufeff", "\ufffe", "\uffff", "\x00", "\x07", "\x1b", "\x7f", "\x9f",
    "\ud800", "\U0010ffff", "a", "b c",
]
text = st.lists(st.one_of(st.sampled_from(ATOMS), st.text(max_size=3)), max_size=6).map("".join)
# around the 123-character limit for a simple key, and with line breaks (`? key`)
keys = st.one_of(text, text, st.tuples(text, st.integers(115, 130)).map(
    lambda t: (t[0] + "k" * t[1])[:t[1]]))
# A comment is the caller's text, written as it is: YAML has no escapes there, so it must be
# printable. An empty one crashed ruamel; the emitter refuses it.
NOT_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
printable = st.lists(st.one_of(st.sampled_from([a for a in ATOMS if not NOT_PRINTABLE.search(a)]),
                              st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=3)),
                    max_size=4).map("".join)
comments = st.one_of(st.sampled_from(["0400", "keys a, b", "#x", " s ", "a\nb"]), printable).filter(
    lambda c: " ".join(c.splitlines()) != "")
scalars = st.one_of(
    text, st.integers(), st.floats(), st.sampled_from([0.0, -0.0, 1e17, 1e-7, 5e-324, 1e300]),
    st.booleans(), st.none(), text.map(Literal), text.map(DoubleQuoted),
)


def _collections(children: Any) -> Any:
    values = st.one_of(children, st.builds(Commented, children, comments))
    return st.one_of(st.lists(children, max_size=4), st.lists(children, max_size=3).map(tuple),
                     st.dictionaries(keys, values, max_size=4))


trees = st.recursive(scalars, _collections, max_leaves=16)
documents = st.one_of(st.dictionaries(keys, st.one_of(trees, st.builds(Commented, trees, comments)),
                                      max_size=6),
                      st.lists(trees, max_size=5))
headers = st.sampled_from(["", "generated by stackgen", "a\n\nb  \n"])


def _plain(data: Any) -> Any:
    """What the text must read back as: floats by repr (nan, -0.0), every value typed."""
    if isinstance(data, Commented):
        return _plain(data.value)
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_plain(v) for v in data]
    if isinstance(data, str):
        return str(data)
    return (type(data).__name__, repr(data) if isinstance(data, float) else data)


def _reads_back(yaml_text: str, data: Any) -> bool:
    try:
        return bool(_plain(LOADER.load(yaml_text)) == _plain(data))
    except Exception:
        return False


def _departs(data: Any, ours: str) -> str | None:
    """Why the emitter may write other bytes than ruamel for `data` (ruamel's were wrong)."""
    if any(len(line) >= WIDTH for line in ours.splitlines()):
        return "ruamel folded a long line, which could lose or add a space"
    return _wrong_in_ruamel(data, top=True)


def _wrong_in_ruamel(data: Any, top: bool) -> str | None:
    if isinstance(data, dict):
        for value in data.values():
            if isinstance(value, Commented):
                value = value.value
                if isinstance(value, (list, tuple)) and value and not value[0] \
                        and isinstance(value[0], (dict, list, tuple)):
                    return "ruamel lost line breaks in a commented sequence that starts empty"
                if type(value) is Literal and not value and top:
                    return "ruamel's empty top-level block took the comment line as its text"
            if reason := _wrong_in_ruamel(value, False):
                return reason
    elif isinstance(data, (list, tuple)):
        return next((r for v in data if (r := _wrong_in_ruamel(v, False))), None)
    elif type(data) is Literal and re.search("[\ud800-\udfff\ufffe\uffff]", data):
        return "ruamel wrote a non-character raw in a | block"
    return None


@budget(fast=150, thorough=5000)
@given(documents, headers)
def test_same_bytes_as_ruamel_and_reads_back(data: Any, header: str) -> None:
    ours = dump(data, header)
    assert _reads_back(ours, data), ours
    theirs = ruamel_dump(data, header)
    if ours != theirs:
        reason = _departs(data, ours)
        assert reason, f"differs from ruamel:\n{ours}\n---\n{theirs}"
        if not reason.startswith("ruamel folded"):  # (ruamel's folds mostly read back)
            assert not _reads_back(theirs, data), f"ruamel's text was right:\n{ours}\n---\n{theirs}"
        event(reason)


long_text = st.tuples(st.lists(st.sampled_from(ATOMS + ["word", "x" * 300]), min_size=1, max_size=8),
                      st.integers(4000, 4300)).map(lambda t: ("".join(t[0]) * t[1])[:t[1]])


@budget(fast=25, thorough=500)
@given(st.lists(st.one_of(long_text, long_text.map(DoubleQuoted)), min_size=1, max_size=3), keys)
def test_long_scalars_are_never_folded(values: list[str], key: str) -> None:
    data = {key: values, "nested": {key: values[0]}}
    ours = dump(data)
    assert _reads_back(ours, data), ours
    short = dump({key: ["x"] * len(values), "nested": {key: "x"}})
    assert ours.count("\n") == short.count("\n")  # one line per value


C = Commented
FIXED: list[Any] = [
    {"a": None, "b": [None, {}], "c": {}, "d": [], "e": "", "f": [[], {}, [1, [2, 3]], {"x": [1]}]},
    [], {}, [1, 2], (1, (2,)), [[1]], [{"a": 1, "b": {"c": [1]}}],
    {"rbac": C({"create": True}, "a role"), "m": C(1, "c1"), "n": C(2, "c2"), "l": C([1, 2], "lc"),
     "e": C({}, "ec"), "el": C([], "elc")},
    {"b": C(1, "x"), "a": C(2, "y")}, {"a": C(1, "x"), "b": 1, "c": C(2, "y")},
    {"z": 1, "a": C(1, "x"), "b": 1, "c": C(2, "y")},
    {"lit": Literal("a\nb\n"), "l2": Literal("  a\nb"), "l3": Literal("a\n\n"), "l4": Literal(""),
     "seq": [Literal("x\ny")], "dq": DoubleQuoted("3.8"), "top": [[Literal("q\n")]]},
    {"k" * 122: 1, "k" * 123: 2, "a\nb": 3, "": 4},
    {"x": 1.0, "y": math.inf, "z": math.nan, "w": 1e17, "v": -0.0, "u": True, "t": 1e-7},
    {"k" * 130: {"a": 1, "b": [1, 2]}, "x\ny": [1, {"c": 2}], "q": {"k" * 130: []},
     "r": [{"k" * 130: {}}, {"k" * 130: [[1]]}], "s": {"k" * 130: C(1, "c")}, "u": [{"k" * 130: "\n"}]},
    {"a": Literal("x\n\n")}, {"a": [Literal("x\n\n")]}, {"a": {"b": Literal("x\n\n")}, "c": 1},
    {"a": Literal("x\n--- y\n... \n"), "b": Literal("\u2028a\x85b\rc \n")},
    {"a": C([{"a": 1, "b": 2}, [1, 2], []], "c"), "b": C([[1, 2]], "d"), "c": C({"x": [1]}, "e")},
    [[{"a": 1}], [[1]], [[]], [{}], {"a": {}}],
    {"lit": C(Literal("x\n"), "lc"), "b": C(Literal(""), "c"), "n": {"e": C(Literal(""), "c")}},
]


@pytest.mark.parametrize("data", FIXED, ids=range(len(FIXED)))
def test_fixed_cases(data: Any) -> None:
    assert dump(data, "head") == ruamel_dump(data, "head")
    assert _reads_back(dump(data), data)


def test_departures_read_back() -> None:
    """Each place the emitter writes other bytes than ruamel, because ruamel's did not read
    back as the data."""
    cases = {
        "a": Literal("x\ufffe"),  # ruamel: raw in a | block
        "b": "é  " + "y" * 5000,  # ruamel: folded, and the two spaces read back as one
        "c": C([{}, {"k": 1, "l": 2}], "c"),  # ruamel: `- k: 1 l: 2`
    }
    for key, value in cases.items():
        assert not _reads_back(ruamel_dump({key: value}), {key: value}), key
        assert _reads_back(dump({key: value}), {key: value}), key
    assert dump({"a": C(Literal(""), "c")}) == "a: ''  # c\n"  # ruamel: `a: |` and ` # c` as text


def test_refuses_what_it_cannot_write() -> None:
    for bad in ({1: "int key"}, {Literal("k"): 1}, {"k": object()}, "top-level scalar", [C(1, "c")]):
        with pytest.raises(TypeError):
            dump(bad)
    with pytest.raises(ValueError):
        dump({"k": C(1, "\n")})


def test_character_classes_are_the_complements_of_what_ruamel_prints() -> None:
    """_SPECIAL and _NEEDS_ESCAPE name the unprintable characters directly (a fast compile);
    they must be exactly the complements of ruamel's printable ranges."""
    import re

    from stackgen.serialize import yaml_scalar

    printable = re.compile("[\n\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
    plain = re.compile("[\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
    for code in range(0x110000):
        ch = chr(code)
        assert bool(yaml_scalar._SPECIAL.match(ch)) is not bool(printable.match(ch)), hex(code)
        escaped = ch in '"\\\x85\u2028\u2029\ufeff' or not plain.match(ch)
        assert bool(yaml_scalar._NEEDS_ESCAPE.match(ch)) is escaped, hex(code)
