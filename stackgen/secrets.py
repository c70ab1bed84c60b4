"""Keeping secret values out of every generated file.

stackgen writes where a token comes from (`${RUNNER_TOKEN_PREPROC}`, a swarm secret, a
Kubernetes Secret), never the token. Two checks hold that line:

* `layers.secret_scan.scan_layer` looks at every key and string of every input layer
  (profile, site file, each `--set`) before schema validation, so a pasted token is
  refused with its file:line:col and key path, and no later error message can echo it;
* `api.render` looks at every rendered file (`secret_hits`), the last guard before
  anything is printed or written; a hit there is a bug or a value that slipped past.

This module holds the patterns and `redact`, which every message passes through; it
imports nothing from stackgen, so errors.py can use it.

Messages name the kind of secret and where it is, never the value (CI logs are public).

There is deliberately no opt-in for literal secrets, not even for throwaway labs: the
model has nowhere to keep one (a runner's token is a `TokenRef`), every target already
works with a reference, and `export RUNNER_TOKEN_X=...` is one line, while an opt-in flag
ends up copied into CI scripts. Keeping "never" absolute keeps the output guard simple.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence

# https://docs.gitlab.com/security/tokens/#token-prefixes ; an instance may put its own
# prefix in front ("acme-glrt-..."), hence no word boundary on the left of the dash.
# Bodies are at least 20 URL-safe characters (legacy tokens are exactly 20), so a host
# name such as "gldt-server.example.org" is not mistaken for a deploy token.
_GITLAB = {
    "glpat": "GitLab personal access token",
    "glrt": "GitLab runner authentication token",
    "glrtr": "GitLab runner authentication token",
    "gldt": "GitLab deploy token",
    "glptt": "GitLab pipeline trigger token",
    "glcbt": "GitLab CI/CD job token",
    "glft": "GitLab feed token",
    "glimt": "GitLab incoming mail token",
    "glagent": "GitLab agent for Kubernetes token",
    "gloas": "GitLab OAuth application secret",
    "glsoat": "GitLab service account token",
    "glffct": "GitLab feature flags client token",
    "glwt": "GitLab workspace token",
}
# (kind, regex): compiled on first need (see _candidates), as most runs need none of them.
# Each starts with its literal, the "not after a letter or digit" lookbehind after it, so the
# regex engine scans for the literal at memory speed instead of trying every position.
SECRET_PATTERNS: tuple[tuple[str, str], ...] = (
    *(
        (f"{what} ({prefix}-...)", rf"{prefix}-(?<![A-Za-z0-9]{prefix}-)[A-Za-z0-9_-]{{20,}}")
        for prefix, what in _GITLAB.items()
    ),
    # Runner registration tokens: RUNNERS_TOKEN_PREFIX in GitLab's runners_token_prefixable.rb
    ("GitLab runner registration token (GR1348941...)",
     r"GR1348941(?<![A-Za-z0-9]GR1348941)[A-Za-z0-9_-]{20,}"),
    ("private key (PEM)", r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"),
    ("GitHub token", r"(?:gh[pousr]_(?<![A-Za-z0-9]gh[pousr]_)[A-Za-z0-9]{36,}"
                     r"|github_pat_(?<![A-Za-z0-9]github_pat_)\w{40,})"),
    ("Docker Hub access token (dckr_pat_...)", r"dckr_pat_(?<![A-Za-z0-9]dckr_pat_)[\w-]{20,}"),
    # user:password@ in a URL, unless the password is itself a $VAR reference
    ("password in a URL", r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:(?!\$\{?\w+\}?@)[^/\s@]+@"),
)
# Text each pattern cannot match without: `in` (a C substring search) skips most patterns
# for most texts before any regex runs, so a fleet's output is scanned at memory speed.
_NEEDLES: tuple[tuple[str, ...], ...] = (
    *((f"{prefix}-",) for prefix in _GITLAB),
    ("GR1348941",),
    ("PRIVATE KEY",),
    ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ("dckr_pat_",),
    ("@",),
)




@functools.cache
def _any_needle() -> re.Pattern[str]:
    # one search for any needle: for the many short keys and values of an input layer,
    # cheaper than a substring search per pattern
    return re.compile("|".join(re.escape(n) for needles in _NEEDLES for n in needles))


@functools.cache
def _needle_scans() -> tuple[tuple[tuple[str, ...], re.Pattern[str] | None], ...]:
    """The needles grouped by first character, each group with one regex (its alternation,
    factored by common prefixes) or None for a group of one, found with `in`.

    A pattern that starts with a literal character lets the regex engine skip to it at
    memory speed; one alternation of all the needles has no such start, and took three
    times as long over a fleet's output. A group's findall is sound only if no two of its
    needles can overlap (else it could skip one): such a group is searched needle by needle.
    """
    groups: dict[str, list[str]] = {}
    for word in sorted({n for needles in _NEEDLES for n in needles}):
        groups.setdefault(word[0], []).append(word)
    scans: list[tuple[tuple[str, ...], re.Pattern[str] | None]] = []
    for words in groups.values():
        if len(words) > 1 and not _overlap(words):
            scans.append((tuple(words), re.compile(_alternation(words))))
        else:
            scans.extend(((word,), None) for word in words)
    return tuple(scans)


def _overlap(words: list[str]) -> bool:
    """Two needles overlap when one holds another, or when a tail of one starts another."""
    starts = {w[:i] for w in words for i in range(1, len(w) + 1)}
    return any(b != a and b in a for a in words for b in words) or any(
        a[k:] in starts for a in words for k in range(1, len(a)))


def _alternation(words: list[str]) -> str:
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[:1], []).append(word[1:])
    parts = [re.escape(first) + _alternation(rest) if first else "" for first, rest in groups.items()]
    return parts[0] if len(parts) == 1 else f"(?:{'|'.join(parts)})"


def _candidates(text: str, among: Sequence[int] = range(len(SECRET_PATTERNS))
                ) -> Iterator[tuple[str, re.Pattern[str]]]:
    for i in among:
        if any(n in text for n in _NEEDLES[i]):
            kind, source = SECRET_PATTERNS[i]
            yield kind, re.compile(source)  # re caches it

def find_secret(text: str) -> tuple[str, int] | None:
    """The kind of the first secret value in `text` and its offset, or None."""
    if not _any_needle().search(text):
        return None
    hits = [(m.start(), kind) for kind, rx in _candidates(text) if (m := rx.search(text))]
    if not hits:
        return None
    start, kind = min(hits)
    return kind, start


def redact(text: str) -> str:
    """`text` with every secret value replaced by `<redacted KIND>`: the same patterns that
    guard rendered files, applied to every message stackgen shows (CI logs are public)."""
    for kind, rx in list(_candidates(text)):
        text = rx.sub(f"<redacted {kind.split(' (')[0]}>", text)
    return text


def secret_hits(files: Mapping[str, str]) -> Iterator[tuple[str, int, str]]:
    """(path, line, kind) of every secret value in rendered files."""
    # the needles are looked for in many files at once (a fleet's output is thousands of
    # files; chunks keep the copy small); a file is searched only for the patterns whose
    # needles occur somewhere
    texts, found = list(files.values()), set[str]()
    for start in range(0, len(texts), 256):
        blob = "\0".join(texts[start:start + 256])
        for words, scan in _needle_scans():
            if scan is not None:
                if not found.issuperset(words):
                    found.update(scan.findall(blob))
            elif words[0] not in found and words[0] in blob:
                found.add(words[0])
    among = [i for i, needles in enumerate(_NEEDLES) if found.intersection(needles)]
    if not among:
        return
    for rel, text in sorted(files.items()):
        for i in among:
            lines = _lines_with(text, _NEEDLES[i])
            if not lines:
                continue
            kind, rx = SECRET_PATTERNS[i][0], re.compile(SECRET_PATTERNS[i][1])  # re caches it
            for first, last in lines:
                for match in rx.finditer(text, first, last):
                    yield rel, text.count("\n", 0, match.start()) + 1, kind


def _lines_with(text: str, needles: Sequence[str]) -> list[tuple[int, int]]:
    """(start, end) of each line of `text` holding one of `needles`, in order.

    A match of every pattern holds its needle and no line feed (tested), so searching
    these lines finds what searching the whole text finds: in a fleet's output a needle
    such as `@` ("$$@" in a shell line) occurs once in half a megabyte, and a pattern
    without a literal start would otherwise walk all of it."""
    spans: dict[int, int] = {}
    for needle in needles:
        at = text.find(needle)
        while at >= 0:
            first = text.rfind("\n", 0, at) + 1
            last = spans.get(first)
            if last is None:
                last = text.find("\n", at)
                last = spans[first] = len(text) if last < 0 else last
            at = text.find(needle, last)
    return sorted(spans.items())
