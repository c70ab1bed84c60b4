"""Parsed YAML kept between runs (stackgen.cache), so that a build whose inputs did not
change loads neither ruamel.yaml nor its parser: together they are about a tenth of a short
build, and the profiles and site file of a Make target or pre-commit hook rarely change.

An entry is the parse of one text: every value with its position and its key's (`Val.at`)
and its merge directive. The rest of an Origin (kind, file, profile) comes from the
caller, so one entry serves a text wherever it is read from. Only texts that parse are
kept, and none that holds what looks like a secret (the build refuses it; the cache must
not keep a copy): a refusal is found and worded by the parser every time.
"""

from __future__ import annotations

from stackgen import cache
from stackgen.errors import Origin
from stackgen.layers.located import Val

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# the reader's own code is in stackgen's stamp; ruamel's version decides what a text means
_READER = ("ruamel/yaml/__init__.py",)
_FOLDER = "yaml"
# Bigger texts are parsed every time. An entry is about 4.5 times its text (a 10,000-runner
# profile: 1.3 MB of text, a 6 MB entry, read back in a fifth of the parse's time and with
# no more peak memory); past this, its entry would near the cache's 64 MiB limit.
MAX_KEPT = 8 << 20


def _key(text: str, document: bool) -> tuple[object, ...]:
    return ("yaml", document, text, cache.package_stamp(), cache.library_stamp(_READER))


def load(text: str, document: bool, root: Origin) -> tuple[Val | None] | None:
    """The kept parse of `text` (a 1-tuple: the parse may be None, an empty text), or None
    when there is none."""
    if len(text) > MAX_KEPT:
        return None
    kept = cache.load(cache.folder(_FOLDER), _key(text, document))
    if not isinstance(kept, tuple) or len(kept) != 1:
        return None
    try:
        return (None if kept[0] is None else _decode(kept[0], root),)
    except (TypeError, ValueError):  # not what this module writes: parse again
        return None


def store(text: str, document: bool, val: Val | None) -> None:
    from stackgen.secrets import find_secret

    # a pasted token is refused by the build; it must not stay behind in the cache either
    if len(text) > MAX_KEPT or find_secret(text) is not None:
        return
    cache.store(cache.folder(_FOLDER), _key(text, document),
                (None if val is None else _encode(val),))


def _encode(val: Val) -> tuple[Any, ...]:
    value = val.value
    if isinstance(value, dict):
        value = {k: _encode(v) for k, v in value.items()}
    elif isinstance(value, list):
        value = [_encode(v) for v in value]
    return (value, val.at, val.op)  # `at` holds no Origin: the file's is `root`


def _decode(entry: tuple[Any, ...], root: Origin) -> Val:
    def build(item: tuple[Any, ...]) -> Val:
        value, at, op = item
        if type(value) is dict:
            value = {k: build(v) for k, v in value.items()}
        elif type(value) is list:
            value = [build(v) for v in value]
        return Val(value, root, at, op)

    return build(entry)
