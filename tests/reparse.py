"""Read generated files back the way their consumers do, for the property and escaping tests.

Each file is parsed by its format's own parser (tomllib, a YAML safe loader, json) and then
through the layer its consumer adds: compose and stack files are interpolated (`$$` is a
literal dollar, `${TOKEN:?...}` the one reference stackgen writes on purpose), the Helm
chart's `runners.config` goes through `tpl` (only the `{{ "{{" }}` escape may appear), and a
Dockerfile must be a sequence of known instructions. Anything else is an escaping bug.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

DOCKERFILE_INSTRUCTIONS = frozenset(
    "FROM RUN CMD LABEL MAINTAINER EXPOSE ENV ADD COPY ENTRYPOINT VOLUME USER WORKDIR ARG "
    "ONBUILD STOPSIGNAL HEALTHCHECK SHELL".split()
)
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


class ConsumerError(AssertionError):
    """A generated file that its consumer would reject or misread."""


@dataclass
class Parsed:
    """One generated file as its consumer sees it."""

    path: str
    kind: str  # toml, yaml, json, dockerfile, text
    data: Any = None
    runner_docs: list[dict[str, Any]] = field(default_factory=list)  # config.toml-shaped docs
    strings: list[str] = field(default_factory=list)  # every text value, consumer-unescaped


def yaml_load(text: str) -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(text)


def interpolate(text: str, allowed: set[str]) -> str:
    """compose-go's interpolation of one string, failing on references stackgen did not mean.

    `$$` is a literal `$`; `${NAME...}` is allowed only for the token variables; anything
    else after a `$` (a name, `{`, or nothing valid) means a user value was not escaped.
    """
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch != "$":
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1: i + 2]
        if nxt == "$":
            out.append("$")
            i += 2
            continue
        match = re.match(r"\$\{(" + _NAME + r")(:?[?-][^}]*)?\}", text[i:])
        if match and match.group(1) in allowed:
            out.append(f"<{match.group(1)}>")
            i += match.end()
            continue
        raise ConsumerError(f"unescaped $ in {text!r} at {i}: compose would interpolate it")
    return "".join(out)


_GO_STRING = r'"(?:[^"\\]|\\.)*"'


def helm_tpl(text: str) -> str:
    """Helm's `tpl` on text stackgen escaped: every action must print a string literal."""
    out, pos = [], 0
    for match in re.finditer(r"\{\{(.*?)\}\}", text, re.DOTALL):
        inner = match.group(1).strip()
        if not re.fullmatch(_GO_STRING, inner):
            raise ConsumerError(f"tpl would run the action {match.group(0)!r}")
        out.append(text[pos:match.start()])
        out.append(json.loads(inner))
        pos = match.end()
    rest = text[pos:]
    if "{{" in rest:
        raise ConsumerError("tpl would fail on an unclosed {{")
    out.append(rest)
    return "".join(out)


def dockerfile_instructions(text: str) -> list[str]:
    """The logical lines of a Dockerfile (continuations joined); each must be an instruction."""
    lines, current = [], ""
    for raw in text.split("\n"):
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue  # blank lines and comments (also parser directives)
        if current and stripped.startswith("#"):
            continue  # comment lines inside a continuation are skipped by docker
        current += raw
        if raw.endswith("\\"):
            current = current[:-1]
            continue
        lines.append(current)
        current = ""
    if current:
        lines.append(current)
    for line in lines:
        word = line.split(None, 1)[0].upper() if line.strip() else ""
        if word not in DOCKERFILE_INSTRUCTIONS:
            raise ConsumerError(f"Dockerfile line is not an instruction: {line!r}")
    return lines


def _strings(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str):
                yield key
            yield from _strings(value)
    elif isinstance(data, list):
        for item in data:
            yield from _strings(item)
    elif isinstance(data, str):
        yield data


def _map_strings(data: Any, fn: Any) -> Any:
    if isinstance(data, dict):
        return {(fn(k) if isinstance(k, str) else k): _map_strings(v, fn) for k, v in data.items()}
    if isinstance(data, list):
        return [_map_strings(v, fn) for v in data]
    return fn(data) if isinstance(data, str) else data


def parse(path: str, text: str, token_envs: set[str]) -> Parsed:
    """Parse one generated file like its consumer; raises ConsumerError or a parser error."""
    if "\x00" in text:
        raise ConsumerError(f"{path} contains a NUL character")
    text.encode("utf-8")  # lone surrogates cannot be written
    name = PurePosixPath(path).name
    suffix = PurePosixPath(path).suffix
    if suffix == ".toml":
        data = tomllib.loads(text)
        return Parsed(path, "toml", data, [data], list(_strings(data)))
    if suffix in (".yml", ".yaml"):
        data = yaml_load(text)
        parsed = Parsed(path, "yaml", data)
        if isinstance(data, dict) and "services" in data:
            data = _map_strings(data, lambda s: interpolate(s, token_envs))
            parsed.data = data
        runners = data.get("runners") if isinstance(data, dict) else None
        if isinstance(runners, dict) and isinstance(runners.get("config"), str):
            parsed.runner_docs.append(tomllib.loads(helm_tpl(runners["config"])))
        parsed.strings = list(_strings(data))
        for doc in parsed.runner_docs:
            parsed.strings += list(_strings(doc))
        return parsed
    if suffix == ".json":
        data = json.loads(text)
        return Parsed(path, "json", data, strings=list(_strings(data)))
    if name == "Dockerfile" or name.endswith(".Dockerfile"):
        return Parsed(path, "dockerfile", dockerfile_instructions(text))
    return Parsed(path, "text", text)
