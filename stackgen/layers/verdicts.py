"""Verdicts on big input layers kept between runs (stackgen.cache): a layer that passed
validation once passes again, so its checks need not run. For 1,000 runners they cost
about 80 ms, a tenth of the build; a small layer is checked faster than an entry is read.

Every check of a layer (schema, secret scan, layer_problems) reads only its keys and
values (positions only word the messages), and the schema and the checkers are stackgen's
own code: so a pass is a function of the plain data, the layer's kind and the package. The
data is keyed by the SHA-256 of its repr, which tells True, 1 and 1.0 apart and, unlike
marshal's bytes, does not depend on which equal strings are one object (a parse or a
parse-cache hit); no value is kept, so neither is a secret. Only passes are kept: a
refusal is found and worded by the checks every time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stackgen import cache
from stackgen.errors import Problem

KEPT_FROM = 16 << 10  # characters of the repr of a layer's data
_FOLDER = "verdicts"


def checked(data: Any, kind: str, problems: Callable[[], list[Problem]]) -> list[Problem]:
    """`problems()` of a layer whose plain data is `data`, or none for a kept pass."""
    entry = _entry(data, kind)
    if entry is not None and cache.load(*entry) is True:
        return []
    found = problems()
    if entry is not None and not found:
        cache.store(*entry, True)
    return found


def _entry(data: Any, kind: str) -> tuple[str, tuple[object, ...]] | None:
    where = cache.folder(_FOLDER)
    if where is None:
        return None
    text = repr(data)
    if len(text) < KEPT_FROM:
        return None
    from stackgen.digest import sha256_hex

    digest = sha256_hex(text.encode("utf-8", "surrogatepass"))
    return where, ("layer passed", kind, digest, cache.package_stamp())
