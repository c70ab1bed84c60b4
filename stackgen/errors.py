"""Errors and warnings that speak to the user, each pinned to where the value came from.

Library code raises `StackgenError` (or its subclasses) and never prints; the CLI turns
them into one clear paragraph per problem and exit code 2. Anything else escaping is a
bug: exit code 3 and one line asking to report it (the traceback with --debug). Every
message passes through `secrets.redact`, as rendered files do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from stackgen.records import dataclass

OriginKind = Literal["default", "profile", "site", "set", "flag"]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a value came from: a file position, a `--set` flag, or a built-in default."""

    kind: OriginKind
    file: str | None = None  # display path of the file, or the flag text
    line: int | None = None  # 1-based
    col: int | None = None  # 1-based
    profile: str | None = None  # profile name when kind == "profile"

    def __str__(self) -> str:
        if self.kind == "default":
            return "default"
        if self.kind in ("set", "flag"):
            return self.file or "--set"
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        return where


DEFAULT = Origin("default")


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A 'did you mean ...?' hint from close spellings, or None."""
    import difflib  # only when there is something to suggest or show

    close = difflib.get_close_matches(word, sorted(set(choices)), n=3, cutoff=0.6)
    if not close:
        return None
    return "did you mean " + " or ".join(repr(c) for c in close) + "?"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, where it is, and how to fix it."""

    message: str
    origin: Origin | None = None
    key: str = ""  # dotted key path
    hint: str | None = None

    def __str__(self) -> str:
        parts = []
        if self.origin is not None:
            parts.append(f"{self.origin}:")
        if self.key:
            parts.append(f"{self.key}:")
        parts.append(self.message)
        text = " ".join(parts)
        if self.hint:
            text += f" ({self.hint})"
        from stackgen.secrets import redact  # no message repeats a secret, whatever it quotes

        return redact(text)


class StackgenError(Exception):
    """Root of every error stackgen raises on purpose."""


class StackgenWarning(UserWarning):
    """A `Finding` as a Python warning, for library callers of `build()` and `generate()`
    (`assemble()` returns the findings as data instead)."""


class UserError(StackgenError):
    """Bad input: one or more problems, all reported at once."""

    def __init__(self, problems: Sequence[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SecretLeak(UserError):
    """A rendered file would carry a secret value: never a mere refusal by one target."""


class Problems:
    """Collects problems so a stage can report all of them, then fail once."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(
        self, message: str, origin: Origin | None = None, key: str = "", hint: str | None = None
    ) -> None:
        self.items.append(Problem(message, origin, key, hint))

    def extend(self, other: Iterable[Problem]) -> None:
        self.items.extend(other)

    def raise_if_any(self) -> None:
        if self.items:
            # stable order: by file, line, then message
            def sort_key(p: Problem) -> tuple[str, int, int, str]:
                o = p.origin
                return (
                    (o.file or "") if o else "",
                    (o.line or 0) if o else 0,
                    (o.col or 0) if o else 0,
                    str(p),
                )

            unique = dict.fromkeys(sorted(self.items, key=sort_key))
            raise UserError(list(unique))

    def __bool__(self) -> bool:
        return bool(self.items)


@dataclass(frozen=True)
class Finding:
    """A warning: the output is valid but deserves a second look (security lint etc.)."""

    message: str
    origin: Origin | None = None
    key: str = ""

    def __str__(self) -> str:
        return str(Problem(self.message, self.origin, self.key))
