"""A yes/no check of a layer against the JSON Schema, compiled from the schema itself.

jsonschema stays the judge: it is run, for its messages, on every layer this check does
not pass. The check only spares the valid layers (all of them, on a good day) jsonschema's
import (~90 ms of a cold start) and its per-value overhead (~1 s for 1,000 runners).
It knows the keywords schema.py uses, with draft 2020-12 meanings, and refuses to compile
any other, so a schema change cannot make it wave through what jsonschema would refuse.
tests/test_schema_check.py holds the two to the same verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stackgen.checks import FORMATS

Check = Callable[[Any], bool]
# keywords that say nothing about validity
ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "default", "examples"})


def _is_type(value: Any, name: str) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if isinstance(value, bool):  # JSON has no 1 == true
        return False
    if name == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if name == "number":
        return isinstance(value, (int, float))
    raise ValueError(f"unknown JSON Schema type {name!r}")


def _same(a: Any, b: Any) -> bool:
    """JSON equality, as `enum` means it: true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return bool(a == b)


def compile_schema(schema: dict[str, Any]) -> Check:
    """A function that is True exactly where jsonschema finds no error in `schema`."""
    checks: list[Check] = []
    unknown = set(schema) - ANNOTATIONS - {
        "type", "format", "properties", "additionalProperties", "required", "items", "enum",
        "minLength", "minimum", "propertyNames", "oneOf"}
    if unknown:
        raise ValueError(f"schema_check does not know {sorted(unknown)}: teach it, or jsonschema only")
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        checks.append(lambda v: any(_is_type(v, n) for n in names))
    if "format" in schema:
        bad = FORMATS[schema["format"]]
        checks.append(lambda v: not isinstance(v, str) or bad(v) is None)
    if "enum" in schema:
        allowed = schema["enum"]
        checks.append(lambda v: any(_same(v, a) for a in allowed))
    if "minLength" in schema:
        least = schema["minLength"]
        checks.append(lambda v: not isinstance(v, str) or len(v) >= least)
    if "minimum" in schema:
        low = schema["minimum"]
        checks.append(lambda v: not _is_type(v, "number") or v >= low)
    if "required" in schema:
        needed = schema["required"]
        checks.append(lambda v: not isinstance(v, dict) or all(k in v for k in needed))
    if "properties" in schema or "additionalProperties" in schema:
        checks.append(_object_check(schema))
    if "propertyNames" in schema:
        key_ok = compile_schema(schema["propertyNames"])
        checks.append(lambda v: not isinstance(v, dict) or all(key_ok(k) for k in v))
    if "items" in schema:
        item_ok = compile_schema(schema["items"])
        checks.append(lambda v: not isinstance(v, list) or all(item_ok(x) for x in v))
    if "oneOf" in schema:
        options = [compile_schema(s) for s in schema["oneOf"]]
        checks.append(lambda v: sum(1 for ok in options if ok(v)) == 1)
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(ok(v) for ok in checks)


def _object_check(schema: dict[str, Any]) -> Check:
    props = {k: compile_schema(s) for k, s in schema.get("properties", {}).items()}
    extra = schema.get("additionalProperties", True)
    extra_ok: Check | None = None
    if isinstance(extra, dict):
        extra_ok = compile_schema(extra)

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for key, item in value.items():
            ok = props.get(key)
            if ok is not None:
                if not ok(item):
                    return False
            elif extra is False or (extra_ok is not None and not extra_ok(item)):
                return False
        return True

    return check
