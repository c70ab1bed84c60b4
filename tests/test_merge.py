"""The merge rules, one row each (the same table as merge.py's docstring and README)."""

from __future__ import annotations

from typing import Any

import pytest

from stackgen.errors import DEFAULT, Origin
from stackgen.fleet.merge import fold
from stackgen.layers.located import Val, from_plain, load_yaml_text

A = Origin("profile", "a.yaml", profile="a")
B = Origin("profile", "b.yaml", profile="b")
SITE = Origin("site", "stackgen.yaml")
SET = Origin("set", "--set x=1")


def layer(text: str, origin: Origin) -> Val:
    return load_yaml_text(text, origin)


# (name, earlier, later, expected merged value or "conflict", includes of b)
ROWS: list[tuple[str, Val, Val, Any, frozenset[str]]] = [
    ("maps merge deeply", layer("m: {x: 1}", A), layer("m: {y: 2}", B), {"m": {"x": 1, "y": 2}}, frozenset()),
    ("lists append unique, order kept", layer("l: [a, b]", A), layer("l: [b, c]", B), {"l": ["a", "b", "c"]}, frozenset()),
    ("!remove drops an inherited item", layer("l: [a, b]", A), layer("l: [!remove a, c]", B), {"l": ["b", "c"]}, frozenset()),
    ("!remove works on map items", layer("l: [{t: /x}, {t: /y}]", A), layer("l: [!remove {t: /x}]", B), {"l": [{"t": "/y"}]}, frozenset()),
    ("!reset replaces a list", layer("l: [a, b]", A), layer("l: !reset [c]", B), {"l": ["c"]}, frozenset()),
    ("!reset replaces a map", layer("m: {x: 1}", A), layer("m: !reset {y: 2}", B), {"m": {"y": 2}}, frozenset()),
    ("equal scalars agree", layer("s: 1", A), layer("s: 1", B), {"s": 1}, frozenset()),
    ("unrelated profiles conflict", layer("s: 1", A), layer("s: 2", B), "conflict", frozenset()),
    ("an including profile wins", layer("s: 1", A), layer("s: 2", B), {"s": 2}, frozenset({"a"})),
    ("the site file wins", layer("s: 1", A), layer("s: 2", SITE), {"s": 2}, frozenset()),
    ("--set wins", layer("s: 1", A), layer("s: 2", SET), {"s": 2}, frozenset()),
    ("a profile beats a default", from_plain({"s": 1}, DEFAULT), layer("s: 2", A), {"s": 2}, frozenset()),
    ("new keys are added", layer("a: 1", A), layer("b: 2", B), {"a": 1, "b": 2}, frozenset()),
]


@pytest.mark.parametrize("name,earlier,later,expected,includes", ROWS, ids=[r[0] for r in ROWS])
def test_merge_rule(name: str, earlier: Val, later: Val, expected: Any, includes: frozenset[str]) -> None:
    merged, problems = fold([earlier, later], {"b": includes})
    if expected == "conflict":
        assert problems
        message = str(problems.items[0])
        assert "a.yaml:1:4" in message and "b.yaml:1:4" in message and "conflicting" in message
    else:
        assert not problems
        assert merged.plain() == expected


def test_merged_values_keep_their_origin() -> None:
    merged, _ = fold([layer("m: {x: 1}", A), layer("m:\n  y: 2", B)])
    assert merged.get("m", "x").origin == Origin("profile", "a.yaml", 1, 8, "a")  # type: ignore[union-attr]
    assert merged.get("m", "y").origin.file == "b.yaml"  # type: ignore[union-attr]
    assert merged.get("m", "y").origin.line == 2  # type: ignore[union-attr]


def test_lists_from_three_layers_append_in_order_without_duplicates() -> None:
    a, b, c = layer("l: [1]", A), layer("l: [2]", B), layer("l: [3, 1]", SITE)
    assert fold([a, b, c])[0].plain() == {"l": [1, 2, 3]}


def test_unchanged_subtrees_are_shared_not_copied() -> None:
    # values are immutable: what a layer adds whole is the layer's own value (memory)
    a = layer("m: {x: 1}", A)
    b = layer("n: {y: [1, 2]}\nl: !reset [3]\no: [!remove 4, 5]", B)
    merged, _ = fold([a, b], markers=True)
    assert merged.get("m") is a.get("m")
    assert merged.get("n") is b.get("n")
    reset = merged.get("l")
    assert reset is not None and reset.op == "merge" and reset.plain() == [3]  # ops reset
    kept = merged.get("o")
    assert kept is not None and [v.op for v in kept.value] == ["remove", "merge"]


def test_a_nested_reset_copies_only_its_path() -> None:
    b = layer("p: {q: !reset [1], r: {s: 1}, t: 2}", B)
    merged, _ = fold([layer("a: 1", A), b], markers=True)
    p = merged.get("p")
    assert p is not None and p is not b.get("p") and list(p.value) == ["q", "r", "t"]
    assert merged.get("p", "r") is b.get("p", "r") and merged.get("p", "t") is b.get("p", "t")
    assert merged.get("p", "q").op == "merge"  # type: ignore[union-attr]
