"""Each CharClass's ASCII part is its class's members below U+0080."""

from __future__ import annotations

import re

import pytest

from stackgen.charclass import CharClass
from stackgen.checks import text
from stackgen.serialize import yaml_scalar

CLASSES = {"yaml_scalar._SPECIAL": yaml_scalar._SPECIAL, "yaml_scalar._FORCE_DOUBLE": yaml_scalar._FORCE_DOUBLE,
           "yaml_scalar._BREAKS": yaml_scalar._BREAKS, "yaml_scalar._NEEDS_ESCAPE": yaml_scalar._NEEDS_ESCAPE,
           "text._SUSPECT": text._SUSPECT}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_the_ascii_part_agrees_with_the_whole_class(name: str) -> None:
    chars = CLASSES[name]
    whole = re.compile(f"[{chars._body}]")
    for code in range(0x80):
        ch = chr(code)
        assert bool(chars.match(ch)) is bool(whole.match(ch)), hex(code)
    # and a text with one non-ASCII character is matched by the whole class
    assert chars.pattern("é").pattern == whole.pattern != chars.pattern("e").pattern


def test_text_past_ascii_is_searched_with_the_whole_class() -> None:
    breaks = CharClass(r"\n", r"\n\u2028")
    assert breaks.search("a\u2028b") and not breaks.search("a b")
    assert breaks.sub(lambda m: "|", "a\u2028b\nc") == "a|b|c"
