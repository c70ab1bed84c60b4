"""Scalar styles for the YAML emitter in stackgen.serialize.yaml.

The text must stay what ruamel.yaml 0.19 wrote (round-trip dumper, YAML 1.2, allow_unicode),
so these rules follow its emitter's `analyze_scalar` and `choose_scalar_style`, cut down to
block context: stackgen writes no flow collections but the empty `{}` and `[]`. Scalars are
never folded (ruamel folded past column 4096, and could lose or add a space doing so).
"""

from __future__ import annotations

import re
from functools import lru_cache

from stackgen.charclass import CharClass

# Text YAML 1.2 would read as something else than a string (ruamel's implicit resolvers).
# ruamel picks the resolvers by the first character, so e.g. `_1` stays a string although
# the int pattern matches it: keep that grouping.
_RESOLVERS: list[tuple[str, str]] = [
    ("tTfF", r"true|True|TRUE|false|False|FALSE"),
    ("-+0123456789.", r"""[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN)"""),
    ("-+0123456789", r"[-+]?0b[0-1_]+ |[-+]?0o?[0-7_]+ |[-+]?[0-9_]+ |[-+]?0x[0-9a-fA-F_]+"),
    ("<", r"<<"),
    ("~nN", r"~|null|Null|NULL"),
    ("0123456789", r"""[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
        (?:[Tt]|[ \t]+)[0-9][0-9]?
        :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
        (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?"""),
    ("=", r"="),
    ("!&*", r"!|&|\*"),
]


def _by_first_char() -> dict[str, tuple[int, ...]]:
    groups: dict[str, list[int]] = {}
    for i, (firsts, _) in enumerate(_RESOLVERS):
        for ch in firsts:
            groups.setdefault(ch, []).append(i)
    return {ch: tuple(indexes) for ch, indexes in groups.items()}


_IMPLICIT = _by_first_char()
_COMPILED: dict[int, re.Pattern[str]] = {}


def _resolves(text: str) -> bool:
    """A resolver of `text`'s first character reads it as something else than a string.
    Each pattern compiles when first needed, on its own: `^(?:A|B)$` matches where `^(?:A)$`
    or `^(?:B)$` does, and the number patterns took a short build 2 ms to compile together."""
    for i in _IMPLICIT.get(text[0], ()):
        pattern = _COMPILED.get(i)
        if pattern is None:
            # `$` as in ruamel: it also matches before a final line break
            pattern = _COMPILED[i] = re.compile(f"^(?:{_RESOLVERS[i][1]})$", re.X)
        if pattern.match(text):
            return True
    return False


# not printable for ruamel (so only double quotes can carry it): C0 and C1 controls but LF
# and NEL, DEL, surrogates, U+FEFF, U+FFFE and U+FFFF. Named, not as the complement of
# the printable ranges: compiling that class took a tenth of a short build.
_SPECIAL = CharClass(r"\x00-\x09\x0b-\x1f\x7f",
                     r"\x00-\x09\x0b-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufeff\ufffe\uffff")
# stackgen's own rule (was `_needs_double_quotes`): NEL, LS and PS would be written raw as
# line breaks by the other styles, and a literal block cannot carry control characters or
# non-characters (the other styles quote those anyway)
_FORCE_DOUBLE = CharClass(r"\x00-\x08\x0b-\x1f\x7f",
                          r"\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff")
_BREAKS = CharClass(r"\n", r"\n\x85\u2028\u2029")
_LINE_START = re.compile(r"\n(?=[^\n])")
# a plain scalar cannot start with an indicator
_BAD_START = frozenset("#,[]{}&*!|>'\"%@`")
_ESCAPES = {
    "\0": "0", "\x07": "a", "\x08": "b", "\t": "t", "\n": "n", "\x0b": "v", "\x0c": "f",
    "\r": "r", "\x1b": "e", '"': '"', "\\": "\\", "\x85": "N", "\u2028": "L", "\u2029": "P",
}
# what the double-quoted writer escapes: `"`, `\\`, NEL, LS, PS, U+FEFF and all that is
# not printable (the complement of printable ASCII and printable unicode)
_NEEDS_ESCAPE = CharClass(r'"\\\x00-\x1f\x7f',
                          r'"\\\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff')
_CACHED = 256  # strings up to this length keep their rendering (keys and values repeat)


def force_double(text: str) -> bool:
    """Only double quotes may carry `text` (see _FORCE_DOUBLE)."""
    return _FORCE_DOUBLE.search(text) is not None


# ruamel writes a key as `? key` and `: value` when it has a line break or when it and its
# (unwritten) tag `!!str` are 128 characters or more
MAX_SIMPLE_KEY = 128 - len("!!str")


def key_text(key: str) -> str | None:
    """The key as written before `:`, or None when it needs the explicit `? ` form."""
    return None if len(key) >= MAX_SIMPLE_KEY else _short_key_text(key)


@lru_cache(maxsize=4096)
def _short_key_text(key: str) -> str | None:
    return None if _BREAKS.search(key) else _text(key)


def _plain_ok(text: str) -> bool:
    """ruamel would write `text` unquoted in block context (allow_block_plain, and it reads
    back as a string)."""
    if not text or text[0] == " " or text[-1] == " " or text[0] in _BAD_START:
        return False
    if text[0] in "?:-" and (len(text) == 1 or text[1] == " "):
        return False
    if text.startswith(("---", "...")) or text[-1] == ":" or ": " in text or " #" in text:
        return False
    if _SPECIAL.search(text) or _BREAKS.search(text):
        return False
    return not _resolves(text)


def _escape(ch: str) -> str:
    if ch in _ESCAPES:
        return "\\" + _ESCAPES[ch]
    code = ord(ch)
    return f"\\x{code:02X}" if code <= 0xFF else f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def double_quoted(text: str) -> str:
    """`text` in double quotes, escaped as ruamel did (`\\t`, `\\xXX`, `\\uXXXX`, ...)."""
    return '"' + _NEEDS_ESCAPE.sub(lambda m: _escape(m.group()), text) + '"'


def string(text: str) -> str:
    """A plain Python string as written on one line: plain, single- or double-quoted."""
    return _cached_text(text) if len(text) <= _CACHED else _text(text)


def _text(text: str) -> str:
    if _FORCE_DOUBLE.search(text):
        return double_quoted(text)
    if _plain_ok(text):
        return text
    if "'" in text or "\n" in text or _SPECIAL.search(text):
        return double_quoted(text)
    return "'" + text + "'"  # no quote inside: ruamel takes double quotes then


_cached_text = lru_cache(maxsize=4096)(_text)


def float_text(value: float) -> str:
    """ruamel's float: repr, lowercased, and YAML's names for the special values."""
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    return repr(value).lower()


def literal(text: str, indent: int) -> str:
    """A `|` block: the indicator line (no leading space) and the lines at `indent`."""
    if not text:
        return "|\n"
    hints = "2" if text[0] in " \n" else ""  # ruamel always said 2 (relative to the parent)
    hints += "-" if text[-1] != "\n" else "+" if keeps_trailing_lines(text) else ""
    pad = " " * indent
    # every line but an empty one is indented; the block ends with a line break
    return ("|" + hints + "\n" + ("" if text[0] == "\n" else pad)
            + _LINE_START.sub("\n" + pad, text) + ("" if text[-1] == "\n" else "\n"))


def keeps_trailing_lines(text: str) -> bool:
    """The block is written `|+`: ruamel then ends an open-ended document with `...`."""
    return text.endswith("\n") and (len(text) == 1 or text[-2] == "\n")
