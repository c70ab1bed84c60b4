"""Regex character classes that compile their non-ASCII part only for text that needs it.

A class reaching past U+00FF (surrogates, U+2028, U+FFFE...) takes `re` about 1 ms to
compile, a few percent of a short build's start, and almost all text stackgen reads and
writes is ASCII: such text is matched against the class's ASCII members alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable


class CharClass:
    """`[body]`, with `ascii_body` its members below U+0080 (tests/test_charclass.py checks
    that the two agree there)."""

    __slots__ = ("_ascii", "_body", "_full")

    def __init__(self, ascii_body: str, body: str) -> None:
        self._ascii = re.compile(f"[{ascii_body}]")
        self._body = body
        self._full: re.Pattern[str] | None = None

    def pattern(self, text: str) -> re.Pattern[str]:
        if text.isascii():  # a flag of the string: no scan
            return self._ascii
        if self._full is None:
            self._full = re.compile(f"[{self._body}]")
        return self._full

    def search(self, text: str) -> re.Match[str] | None:
        return self.pattern(text).search(text)

    def match(self, text: str) -> re.Match[str] | None:
        return self.pattern(text).match(text)

    def sub(self, repl: Callable[[re.Match[str]], str], text: str) -> str:
        return self.pattern(text).sub(repl, text)
