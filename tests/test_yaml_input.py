"""Input YAML is read from parse events (stackgen/layers/located.py): the C parser and the
pure-Python one must give the same values at the same positions, and the values must be
those ruamel's own loader gives (YAML 1.2 resolution, merge keys, aliases)."""

from __future__ import annotations

import io
import os
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from stackgen.errors import Origin, UserError
from stackgen.layers import located
from stackgen.layers.located import Val, load_yaml_text, walk
from tests.strategies import text

ROOT = Origin("site", file="x.yaml", line=1, col=1)
EXAMPLES = settings(max_examples=3000 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 150,
                    deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    text(4, multiline=True), st.integers(), st.booleans(), st.none(),
    st.floats(allow_nan=False), st.sampled_from(["1_000", "0o17", "0x1F", "~", "Yes", "2001-12-14",
                                                 "1e3", ".inf", "<<", "!reset", "&a", "- x"]),
)
keys = st.one_of(st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True), text(3))
trees = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(keys, inner, max_size=4)),
                     max_leaves=20)


def dumped(data: Any, flow: bool) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = flow
    stream = io.StringIO()
    yaml.dump({"root": data}, stream)
    return stream.getvalue()


def expected(text_: str) -> Any:
    """What ruamel's round-trip loader gives, in the plain types the model takes."""
    def plain(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, list):
            return [plain(x) for x in v]
        return located._scalar(v)
    return plain(YAML(typ="rt").load(text_))


def all_text_keys(data: Any) -> bool:
    if isinstance(data, dict):
        return all(isinstance(k, str) and all_text_keys(v) for k, v in data.items())
    return all(all_text_keys(v) for v in data) if isinstance(data, list) else True


def positions(val: Val) -> list[tuple[Any, ...]]:
    return [(path, v.origin.line, v.origin.col, v.op, v.key_origin) for path, v in walk(val)]


@EXAMPLES
@given(trees, st.booleans())
def test_values_are_ruamels_and_both_parsers_agree(data: Any, flow: bool) -> None:
    source = dumped(data, flow)
    try:
        want = expected(source)
    except (YAMLError, TypeError):
        # ruamel's dumper wrote what its loader refuses (`{:$: null}`), or its round-trip
        # loader fails on (`{'? !': {'a': []}}`: "unhashable type: 'CommentedSeq'")
        assume(False)
    try:
        pure = located._build(source, ROOT, pure=True)
    except UserError as exc:
        # ruamel's dumper made a key of nothing (`{:!: []}`), or a tagged one: it writes the
        # key "? !" as `? !: null`, which reads as the tag `!:` on the key null
        assert ("keys must be text" in str(exc) or "a key takes no YAML tag" in str(exc)) \
            and not all_text_keys(want)
        return
    assert pure is not None and pure.plain() == want
    assert load_yaml_text(source, ROOT) == pure
    # read again: from the parse cache (stackgen.layers.parse_cache), for another file too
    assert load_yaml_text(source, ROOT) == pure
    other = Origin("profile", file="profiles/p.yaml", profile="p")
    assert positions(load_yaml_text(source, other)) == [
        (path, line, col, op, key and replace(key, kind="profile", file="profiles/p.yaml", profile="p"))
        for path, line, col, op, key in positions(pure)]
    if any(ch in source for ch in located.YAML11_BREAKS):
        return  # YAML 1.1 line breaks: the pure parser's alone
    try:
        fast = located._build(source, ROOT, pure=False)
    except (YAMLError, UserError):
        # YAML 1.2 the C parser (1.1) refuses, or reads as what stackgen refuses (`{0?: []}`
        # has a key 0 for it): the pure parser's alone
        return
    assert fast is not None and fast.plain() == pure.plain()
    assert positions(fast) == positions(pure)


def test_the_pure_parser_decides_where_stackgen_refuses_the_c_parsers_reading() -> None:
    # found by the property test above: the C parser (YAML 1.1) reads a key 0 here
    val = load_yaml_text("{a: [], 0?: []}\n", ROOT)
    assert val.plain() == {"a": [], "0?": []} and val == located._build("{a: [], 0?: []}\n", ROOT, pure=True)


def test_a_tagged_key_is_refused_as_a_tagged_value_is() -> None:
    for source in ("{? !: null}\n", "{!x a: 1}\n", "!reset a: 1\n"):
        with pytest.raises(UserError, match="a key takes no YAML tag"):
            load_yaml_text(source, ROOT)
    assert load_yaml_text("{! a: 1, !!str b: 2}\n", ROOT).plain() == {"a": 1, "b": 2}


def test_merge_keys_tags_and_positions() -> None:
    val = load_yaml_text(
        "base: &b {x: 1, y: 2}\nm:\n  z: 0\n  <<: *b\n  y: 3\nn: !reset\n  - !remove a\n  - 017\n",
        ROOT)
    assert val.plain() == {"base": {"x": 1, "y": 2}, "m": {"z": 0, "y": 3, "x": 1},
                           "n": ["a", 17]}
    m, n = val.value["m"], val.value["n"]
    assert (m.value["x"].key_origin.line, m.value["x"].key_origin.col) == (1, 11)  # where it is written
    assert n.op == "reset" and n.value[0].op == "remove"
    assert [(i.origin.line, i.origin.col) for i in n.value] == [(7, 5), (8, 5)]


@pytest.mark.parametrize(("source", "message"), [
    ("a: 1\na: 2\n", "x.yaml:2:1: duplicate key 'a'"),
    ("a: *nope\n", "x.yaml:1:4: alias *nope names no anchor"),
    ("a: &x [1, *x]\n", "x.yaml:1:11: alias *x is inside the value it names"),
    ("? [a]\n: 1\n", "x.yaml:1:3: keys must be text, got a list"),
    ("1: a\n", "keys must be text, got 1"),
    ("a: 1\n---\nb: 2\n", "x.yaml:2:1: a file holds one YAML document"),
    ("a: !weird 1\n", "unknown YAML tag '!weird'"),
    ("a: [\n", "YAML syntax error"),
    ("m:\n  <<: 3\n", "x.yaml:2:3: a merge key (<<) takes a mapping"),
])
def test_bad_yaml_is_reported_with_its_position(source: str, message: str) -> None:
    with pytest.raises(UserError) as err:
        load_yaml_text(source, ROOT)
    assert message in str(err.value)


def test_yaml_12_flow_scalars_the_c_parser_refuses_still_read() -> None:
    # libyaml (YAML 1.1) refuses a ':' inside a plain flow scalar; YAML 1.2 takes it
    assert load_yaml_text("a: {image: alpine:3.20}\n", ROOT).plain() == {"a": {"image": "alpine:3.20"}}


def test_a_yaml_11_directive_reads_as_yaml_11() -> None:
    text = "%YAML 1.1\n---\na: 017\nb: yes\nd: 1:30\n"
    assert load_yaml_text(text, ROOT).plain() == {"a": 15, "b": True, "d": 90}
    assert load_yaml_text(text.split("---\n")[1], ROOT).plain() == {"a": 17, "b": "yes", "d": "1:30"}


def test_positions_that_do_not_pack_are_kept_whole() -> None:
    # Val.at packs line, column and the key's column in one int; a value on another line
    # than its key, or a column past 4095, is kept as a tuple: the same origins either way
    far = " " * 5000
    val = load_yaml_text(f"a:\n  b\nc: [x,{far}y]\nd: {{e: 1}}\n", ROOT)
    a, y, e = val.value["a"], val.value["c"].value[1], val.value["d"].value["e"]
    assert isinstance(a.at, tuple) and isinstance(y.at, tuple) and isinstance(e.at, int)
    assert (a.origin, a.key_origin) == (replace(ROOT, line=2, col=3), replace(ROOT, line=1, col=1))
    assert (y.origin, y.key_origin) == (replace(ROOT, line=3, col=5007), None)
    assert (e.origin, e.key_origin) == (replace(ROOT, line=4, col=8), replace(ROOT, line=4, col=5))
    assert (val.origin, val.key_origin) == (ROOT, None)
