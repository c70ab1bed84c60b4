"""Free text from the Jinja2 templates in templates/: Dockerfiles and operator notes.

Structured formats never come through here (they are data, dumped by serialize.yaml or
serialize.toml). StrictUndefined turns a misspelt variable into an error instead of blank text.
"""

from __future__ import annotations

import shlex
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jinja2 import Environment, Template


def render_template(name: str, **context: Any) -> str:
    """The template `name` (a file in templates/) rendered with `context`."""
    return _template(name).render(**context)


@cache
def _template(name: str) -> Template:
    # the templates ship with the package: no need for Jinja2's per-call lookup and
    # up-to-date check (a stat of the file), once per Helm release's README
    return _environment().get_template(name)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from stackgen.resources import data_dir

    env = Environment(
        loader=FileSystemLoader(str(data_dir("templates"))),
        bytecode_cache=_bytecode_cache(),
        undefined=StrictUndefined,
        autoescape=False,  # Dockerfiles and Markdown, not HTML
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # `{{ path | sh }}` in shell snippets people copy: a path with a space or ; stays one word
    env.filters["sh"] = shlex.quote
    env.filters["tick"] = lambda text: f"`{text}`"  # Markdown code span
    return env


def _bytecode_cache() -> Any:
    """Compiled templates kept between runs (keyed by template source and Jinja2 version),
    as Python keeps .pyc files: compiling them is a tenth of a short build. In
    $STACKGEN_CACHE_DIR, else $XDG_CACHE_HOME/stackgen or ~/.cache/stackgen; none when that
    cannot be made (a read-only home) or STACKGEN_CACHE_DIR is set empty."""
    import os
    from pathlib import Path

    from jinja2 import FileSystemBytecodeCache

    configured = os.environ.get("STACKGEN_CACHE_DIR")
    if configured == "":
        return None
    base = Path(configured) if configured else (
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stackgen")
    folder = base / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None

    class Cache(FileSystemBytecodeCache):
        def dump_bytecode(self, bucket: Any) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError:  # a full or read-only disk costs only the cache
                pass

    return Cache(str(folder))
