"""Merging layers into one tree: a fold over defaults, profiles, the site file and `--set`.

The rules (also in README, and tested table-driven in tests/test_merge.py):

| earlier \\ later   | rule                                                                 |
|-------------------|----------------------------------------------------------------------|
| map, map          | merge key by key                                                     |
| list, list        | append items not already present, order kept; `!remove x` drops x    |
| ordered list      | (`ORDERED_LISTS`: the order or the whole list is the meaning) merged  |
|                   | like a scalar: one layer's list replaces the other's                  |
| scalar, scalar    | equal: keep. Different: the later layer wins if it is the site file, |
|                   | `--set`, or a profile that includes the earlier one, or if the earlier |
|                   | value is a built-in default; two unrelated profiles are a conflict     |
| anything, !reset  | the later value replaces the earlier one outright                    |
"""

from __future__ import annotations

from collections.abc import Mapping

from stackgen.errors import Origin, Problem, Problems
from stackgen.layers.located import Val, dotted

# Kinds that override whatever came before them, in order of precedence.
AUTHORITATIVE = ("site", "set", "flag")

# Lists whose order, or whole value, is their meaning: gitlab-runner tries pull policies in
# order until one succeeds, and an entrypoint or command is one argv. Appending two layers'
# lists would mean neither (`[if-not-present, always]` behaves as if-not-present), so these
# merge like scalars.
ORDERED_LISTS = frozenset({"pull_policy", "entrypoint", "command"})


def is_ordered_list(path: tuple[str | int, ...]) -> bool:
    """The list at `path` is replaced whole, never appended to (see ORDERED_LISTS)."""
    return bool(path) and path[-1] in ORDERED_LISTS


def _wins(earlier: Origin, later: Origin, includes: Mapping[str, frozenset[str]]) -> bool:
    if later.kind in AUTHORITATIVE or earlier.kind == "default":
        return True
    if later.kind == "profile" and earlier.kind == "profile":
        if later.profile == earlier.profile:
            return True
        return earlier.profile in includes.get(later.profile or "", frozenset())
    return earlier.kind not in AUTHORITATIVE


_NESTED = (dict, list)


def _strip(val: Val) -> Val:
    """The value with ops reset to merge. `!remove` items stay as markers: the
    `defaults:` section is merged under each runner after the fold, and a runner's
    `!remove /cache` must still drop the inherited item there (see `finish`). What holds no
    other op is returned as it is, not copied: values are immutable, and a 10,000-runner
    layer copied whole was 20 MB more (the tree then shares the layer's values)."""
    value = val.value
    if isinstance(value, dict):
        out: dict[str, Val] | None = None
        for key, child in value.items():
            # a plain scalar is its own result: no call for most values
            new = _strip(child) if child.op != "merge" or isinstance(child.value, _NESTED) else child
            if new is not child:
                out = dict(value) if out is None else out
                out[key] = new
        if out is None and val.op == "merge":
            return val
        return Val(value if out is None else out, val.src, val.at)
    if isinstance(value, list):
        items: list[Val] | None = None
        for i, child in enumerate(value):
            if child.op == "remove" or (child.op == "merge" and not isinstance(child.value, _NESTED)):
                continue
            new = _strip(child)
            if new is not child:
                items = list(value) if items is None else items
                items[i] = new
        if items is None and val.op == "merge":
            return val
        return Val(value if items is None else items, val.src, val.at)
    return val if val.op == "merge" else Val(value, val.src, val.at)


def _marker(item: Val) -> Val:
    return Val(item.value, item.src, item.at, "remove")


def finish(val: Val) -> Val:
    """The merged value with the remaining `!remove` markers dropped; what holds none is
    returned as it is (values are immutable), not copied."""
    value = val.value
    if isinstance(value, dict):
        out: dict[str, Val] | None = None
        for key, child in value.items():
            if isinstance(child.value, _NESTED) and (new := finish(child)) is not child:
                out = dict(value) if out is None else out
                out[key] = new
        return val if out is None else Val(out, val.src, val.at, val.op)
    if isinstance(value, list):
        kept = [finish(v) if isinstance(v.value, _NESTED) else v for v in value if v.op != "remove"]
        if len(kept) == len(value) and all(a is b for a, b in zip(kept, value, strict=True)):
            return val
        return Val(kept, val.src, val.at, val.op)
    return val


def merge(
    earlier: Val | None,
    later: Val,
    problems: Problems,
    includes: Mapping[str, frozenset[str]] | None = None,
    path: tuple[str | int, ...] = (),
    later_wins: bool = False,
) -> Val:
    """Merge `later` onto `earlier` following the rules above; conflicts go to `problems`.

    `later_wins` makes every scalar of `later` win (a runner's own settings over the
    `defaults:` section every runner inherits).
    """
    includes = includes or {}
    if earlier is None or later.op == "reset":
        return _strip(later)
    if isinstance(earlier.value, dict) and isinstance(later.value, dict):
        out = dict(earlier.value)
        for key, val in later.value.items():
            out[key] = merge(out.get(key), val, problems, includes, (*path, key), later_wins)
        return Val(out, earlier.src, earlier.at)
    if isinstance(earlier.value, list) and isinstance(later.value, list) and not is_ordered_list(path):
        items = list(earlier.value)
        for item in later.value:
            plain = item.plain()
            if item.op == "remove":
                items = [i for i in items if i.plain() != plain]
                items.append(_marker(item))  # for layers merged under this one later
                continue
            items = [i for i in items if i.op != "remove" or i.plain() != plain]
            if all(i.plain() != plain for i in items):
                items.append(_strip(item))
        return Val(items, earlier.src, earlier.at)
    if earlier.plain() == later.plain():
        # equal values: credit the more specific layer rather than a built-in default
        return _strip(later) if earlier.src.kind == "default" else earlier
    # kind and profile are the file's: no Origin is made for the value itself
    if later_wins or _wins(earlier.src, later.src, includes):
        return _strip(later)
    problems.items.append(
        Problem(
            f"conflicting values: {_show(later)} here, but {_show(earlier)} at {earlier.origin}",
            later.origin,
            dotted(path),
            hint="set it in the site file or with --set to decide, or drop one of the profiles",
        )
    )
    return earlier


def _show(val: Val) -> str:
    plain = val.plain()
    if isinstance(plain, dict):
        return "a mapping"
    if isinstance(plain, list):
        return "a list"
    return repr(plain)


def fold(
    layers: list[Val], includes: Mapping[str, frozenset[str]] | None = None, markers: bool = False
) -> tuple[Val, Problems]:
    """Merge the layers in order; returns the tree and any conflicts found.

    `markers` keeps `!remove` markers in the tree for a later merge (then call `finish`).
    """
    problems = Problems()
    result: Val | None = None
    for layer in layers:
        result = merge(result, layer, problems, includes)
    assert result is not None, "fold needs at least the defaults layer"
    return (result if markers else finish(result)), problems
