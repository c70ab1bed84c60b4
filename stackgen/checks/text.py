"""Names, text, tags, paths and Go durations: the grammars every layer shares."""

from __future__ import annotations

import re
import unicodedata

from stackgen.charclass import CharClass

Bad = tuple[str, str | None] | None  # (message, hint) or None when the value is fine


INT64_MAX = 2**63 - 1
# DNS-label-like names that become service, release and file names
NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?", re.ASCII)
# Node names end up in swarm secret names, gitlab-runner-<node>-config-<hash10>, which
# swarmkit caps at 64 characters.
NODE_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?", re.ASCII)
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)


# Every character of the categories below (Cc, Cs, Zl, Zp): one C-speed search clears the
# text almost every value is.
_SUSPECT = CharClass("\x00-\x1f\x7f", "\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff")


def text_bad(text: str, multiline: bool = False) -> Bad:
    """Control characters, lone surrogates and (unless `multiline`) line breaks."""
    if not _SUSPECT.search(text):
        return None
    for ch in text:
        if multiline and ch in "\n\t":
            continue
        cat = unicodedata.category(ch)
        if multiline and cat in ("Zl", "Zp"):
            continue  # U+2028/U+2029: unicode line breaks, escaped by every emitter
        if cat == "Cs":
            return "contains an invalid character (a lone surrogate, not UTF-8 text)", None
        if cat in ("Cc", "Zl", "Zp"):
            if ch == "\n" or cat in ("Zl", "Zp") or ch in "\r\x0b\x0c\x85":
                return "must be a single line", "remove the line break"
            return f"contains the control character {ch!r}", None
    return None


_UNITS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9,
          "m": 60 * 10**9, "h": 3600 * 10**9}
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")


def duration_ns(text: str) -> float | None:
    """Nanoseconds of a Go duration (time.ParseDuration: `1h30m`, `.5s`), None if invalid."""
    pos, total = 0, 0.0
    while pos < len(text):
        part = _DURATION_PART.match(text, pos)
        if part is None:
            return None
        total += float(part.group(1)) * _UNITS[part.group(2)]
        pos = part.end()
    return total if text else None


def duration_bad(text: str) -> Bad:
    """A Go duration that fits int64 nanoseconds, e.g. `1h30m`."""
    total = duration_ns(text)
    if total is None:
        what = "the duration is empty" if not text else f"{text!r} is not a Go duration"
        return what, "a Go duration such as 90s, 15m or 1h30m"
    if total > INT64_MAX:
        return f"{text!r} is longer than Go's maximum duration (about 292 years)", None
    return None


def name_bad(name: str) -> Bad:
    if not NAME.fullmatch(name):
        return (
            f"name {name!r} is not valid",
            "lowercase letters, digits and '-', starting and ending with a letter or digit, "
            "at most 42 characters",
        )
    return None


def node_name_bad(name: str) -> Bad:
    if not NODE_NAME.fullmatch(name):
        return (
            f"node name {name!r} is not valid",
            "lowercase letters, digits and '-', starting and ending with a letter or digit, "
            "at most 32 characters (swarm caps the secret names made from it)",
        )
    return None


def env_name_bad(name: str) -> Bad:
    if not ENV_NAME.fullmatch(name):
        return f"{name!r} is not a variable name", "letters, digits and '_', not starting with a digit"
    return None


def path_bad(path: str) -> Bad:
    """An absolute path that can sit in a docker `src:dst:mode` spec."""
    if not path.startswith("/"):
        return f"{path!r} must be an absolute path", None
    if ":" in path:
        return f"{path!r} must not contain ':' (docker splits volume specs on it)", None
    return None


TAG = re.compile(r"[^,\s]+")


def tag_bad(tag: str) -> Bad:
    if not TAG.fullmatch(tag) or len(tag) > 255:
        return f"tag {tag!r} is not valid", "a tag has no spaces or commas: GitLab splits on them"
    return None


EXECUTOR = re.compile(r"[a-z][a-z0-9+_-]{0,40}", re.ASCII)


def executor_bad(value: str) -> Bad:
    """An executor name as config.toml spells it (docker, docker+machine, clever-docker)."""
    if EXECUTOR.fullmatch(value):
        return None
    return f"{value!r} is not an executor name", "e.g. docker, shell, kubernetes, custom"
