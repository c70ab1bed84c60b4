"""Checks on one input layer that the JSON Schema cannot express, run before merging.

What only the raw YAML shows: text with control characters, `4.0` where a whole number is
meant (gitlab-runner's strict TOML decoder rejects a float for `concurrent`), numbers too
big for Go's int64.
"""

from __future__ import annotations

import re

from stackgen.checks import INT64_MAX, text_bad
from stackgen.errors import Problem
from stackgen.layers.located import Val, dotted, walk

# Fields whose text may span lines; every other text is one line. The last element of the
# key path is matched, so `runners.x.environment.FOO` is multi-line through "environment".
MULTILINE = frozenset({"description", "environment", "command", "entrypoint", "pem"})


def multiline_key(key: str) -> bool:
    parts = re.split(r"[.\[]", key)
    if parts[0] in ("runners", "nodes", "certificates", "images", "data"):
        parts = parts[2:]  # skip the user's name: a runner may be called "description"
    return any(p in MULTILINE for p in parts)


def layer_problems(doc: Val) -> list[Problem]:
    """Checks on one input layer that the JSON Schema cannot express."""
    problems: list[Problem] = []
    for path, node in walk(doc):
        value = node.value
        if isinstance(value, dict):
            for name, child in value.items():
                bad = text_bad(name)
                if bad:
                    sub = dotted((*path, name))
                    problems.append(Problem(f"key {name!r} {bad[0]}", child.origin, sub, bad[1]))
            continue
        if isinstance(value, list) or value is None or isinstance(value, bool):
            continue
        if isinstance(value, str):
            # a multi-line field only allows more: the key is looked at only for a suspect
            if text_bad(value) and (bad := text_bad(value, multiline_key(key := dotted(path)))):
                problems.append(Problem(f"{value!r} {bad[0]}", node.origin, key, bad[1]))
            continue
        key = dotted(path)
        if isinstance(value, float):
            # jsonschema counts 4.0 as an integer; gitlab-runner's TOML decoder does not
            problems.append(
                Problem(
                    f"{value!r} is a decimal number; stackgen takes whole numbers and text only",
                    node.origin,
                    key,
                    f"write {int(value)}" if value.is_integer() and abs(value) < 1e15
                    else "quote it to keep it as text",
                )
            )
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT64_MAX:
            problems.append(Problem(f"{value} is too large (Go's int64)", node.origin, key))
    return problems
