"""The compiled schema check (stackgen/layers/schema_check.py) and jsonschema agree.

jsonschema is the judge; the compiled check only decides whether jsonschema needs to run.
A layer the check passes must be one jsonschema passes, and the other way round."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from stackgen.errors import Origin, UserError
from stackgen.layers.located import load_yaml_file
from stackgen.layers.schema import _format_checker, layer_schema
from stackgen.layers.schema_check import compile_schema
from tests.strategies import text

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("profile", "site")


def readable(path: Path) -> Any:
    try:
        return load_yaml_file(path, Origin("site", file=str(path))).plain()
    except UserError:  # a YAML error case of tests/bad_inputs
        return None


LAYERS = {p: data for p in sorted([*(ROOT / "profiles").glob("*.yaml"),
                                    *(ROOT / "examples").rglob("stackgen.yaml"),
                                    *(ROOT / "tests" / "bad_inputs").rglob("*.yaml")])
          if (data := readable(p)) is not None}


def verdicts(kind: str, data: Any) -> tuple[bool, bool]:
    judge = Draft202012Validator(layer_schema(kind), format_checker=_format_checker())
    return compile_schema(layer_schema(kind))(data), judge.is_valid(data)


@pytest.mark.parametrize("path", LAYERS, ids=lambda p: str(p.relative_to(ROOT)))
@pytest.mark.parametrize("kind", KINDS)
def test_every_layer_in_the_repository_gets_the_same_verdict(path: Path, kind: str) -> None:
    fast, judge = verdicts(kind, LAYERS[path])
    assert fast == judge


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False),
              text(3), st.sampled_from(["always", "docker", "/data", "a:b", "1s", "", "x" * 70])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["name", "image", "x", "tags", "target"]),
                                            inner, max_size=3)),
    max_leaves=8)
BASES = [data for p, data in LAYERS.items() if p.parent.name == "profiles" or "examples" in p.parts]


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out += paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += paths(v, (*prefix, i))
    return out


def mutated(data: Any, path: tuple[Any, ...], value: Any, add: bool) -> Any:
    if not path:
        if add and isinstance(data, dict):
            return {**data, "x": value}
        return value
    head, *rest = path
    if isinstance(data, dict):
        return {**data, head: mutated(data[head], tuple(rest), value, add)}
    copy = list(data)
    copy[head] = mutated(copy[head], tuple(rest), value, add)
    return copy


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), json_values, st.booleans(), st.sampled_from(KINDS))
def test_mutated_layers_get_the_same_verdict(data: st.DataObject, value: Any, add: bool, kind: str) -> None:
    base = data.draw(st.sampled_from(BASES))
    path = data.draw(st.sampled_from(paths(base)))
    doc = mutated(base, path, value, add)
    fast, judge = verdicts(kind, doc)
    assert fast == judge, (path, value)


def test_an_unknown_keyword_is_refused_not_ignored() -> None:
    with pytest.raises(ValueError, match="patternProperties"):
        compile_schema({"type": "object", "patternProperties": {"^x": {"type": "string"}}})
