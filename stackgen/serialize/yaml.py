"""Deterministic YAML output with ruamel.yaml: key order as built, no timestamps, no aliases."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq


class Commented:
    """A scalar with an end-of-line comment, e.g. `mode: 256  # 0400`."""

    def __init__(self, value: Any, comment: str) -> None:
        self.value, self.comment = value, comment


# ruamel writes NEL, LS and PS raw into plain, single-quoted and literal scalars, where
# YAML 1.1 readers (and ruamel itself) take them as line breaks, and a literal block (`|`)
# keeps control characters raw, which no reader accepts. Double quotes escape them all.
def _needs_double_quotes(text: str) -> bool:
    return any(
        ch in "\x85\u2028\u2029" or (ch < " " and ch not in "\n\t") or "\x7f" <= ch <= "\x9f"
        for ch in text
    )


def _convert(data: Any) -> Any:
    if isinstance(data, dict):
        out = CommentedMap()
        for key, value in data.items():
            key = _convert(key)
            if isinstance(value, Commented):
                out[key] = _convert(value.value)
                # a comment ends at the line break: keep it on one line
                out.yaml_add_eol_comment(" ".join(str(value.comment).splitlines()), key)
            else:
                out[key] = _convert(value)
        return out
    if isinstance(data, (list, tuple)):
        return CommentedSeq(_convert(v) for v in data)
    if isinstance(data, str) and _needs_double_quotes(data):
        from ruamel.yaml.scalarstring import DoubleQuotedScalarString

        return DoubleQuotedScalarString(str(data))
    return data


def dump(data: Any, header: str = "") -> str:
    """YAML text for plain data; `header` lines become leading comments."""
    yaml = YAML(typ="rt")
    yaml.width = 4096  # never fold long strings (folding changes nothing, but reads badly)
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.ignore_aliases = lambda *_: True
    stream = io.StringIO()
    yaml.dump(_convert(data), stream)
    prefix = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return prefix + stream.getvalue()


def content_hash(text: str, length: int = 10) -> str:
    """Short content hash for names of immutable swarm secrets and configs."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]
