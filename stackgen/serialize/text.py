"""Free text from the Jinja2 templates in templates/: Dockerfiles and operator notes.

Structured formats never come through here (they are data, dumped by serialize.yaml or
serialize.toml). StrictUndefined turns a misspelt variable into an error instead of blank text.
"""

from __future__ import annotations

import functools
import os
import shlex
from dataclasses import fields, is_dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from stackgen import cache

if TYPE_CHECKING:
    from jinja2 import Environment, Template

# A render is kept only for a context of at most this many values: walking a bigger one
# (a whole fleet) for every render would cost more than rendering.
KEY_BUDGET = 4000
_LIBRARIES = ("jinja2/__init__.py", "markupsafe/__init__.py")


def render_template(name: str, **context: Any) -> str:
    """The template `name` (a file in templates/) rendered with `context`.

    A render is a function of the template files, Jinja2 and the context, so it is kept in
    the cache (stackgen.cache) under all of them when the context is plain data (text,
    numbers, lists, mappings and the model's frozen dataclasses): a build whose notes did
    not change does not load Jinja2, a fifth of its start-up."""
    key = _render_key(name, context)
    where = cache.folder("renders") if key is not None else None
    kept = cache.load(where, key)
    if isinstance(kept, str):
        return kept
    text = _template(name).render(**context)
    if where is not None:
        from stackgen.secrets import find_secret

        # the build refuses a render holding a secret; the cache must not keep a copy
        if find_secret(text) is None:
            cache.store(where, key, text)
    return text


def render_each(name: str, /, **context: Any) -> str:
    """`render_template` for a text that differs for every runner (the Helm README): an
    entry kept for each would be read back once per build, for more than rendering costs."""
    return _template(name).render(**context)


class _NotPlain(Exception):
    pass


def _render_key(name: str, context: dict[str, Any]) -> tuple[object, ...] | None:
    if any(callable(v) and not is_dataclass(v) for v in context.values()):
        return None  # a helper function (helm's README): nothing to key it by
    budget = [KEY_BUDGET]
    try:
        plain = _plain(context, budget)
    except _NotPlain:
        return None
    return ("render", name, plain, _templates_stamp(), cache.package_stamp(),
            cache.library_stamp(_LIBRARIES))


def _plain(value: Any, budget: list[int]) -> object:
    """`value` as marshal-able data that is equal only for equal values: types are named,
    since True == 1 == 1.0 in Python and each prints differently."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _NotPlain
    kind = type(value)
    if kind is str or kind is int or value is None:
        return value
    if kind is bool or kind is float:
        return (kind.__name__, repr(value))
    if kind is tuple or kind is list:
        return (kind.__name__, *[_plain(v, budget) for v in value])
    if kind is dict:
        return ("dict", *[(_plain(k, budget), _plain(v, budget)) for k, v in value.items()])
    if is_dataclass(value) and not isinstance(value, type):
        return (kind.__module__, kind.__qualname__,
                *[_plain(getattr(value, f.name), budget) for f in fields(value)])
    raise _NotPlain


@lru_cache(maxsize=1)
def _templates_stamp() -> tuple[tuple[str, int, int], ...]:
    """Every template file with its size and time (a template may include another)."""
    from stackgen.resources import data_path

    folder = data_path("templates")
    found = []
    for name in sorted(os.listdir(folder)):
        st = os.stat(os.path.join(folder, name))
        found.append((name, st.st_mtime_ns, st.st_size))
    return tuple(found)


@functools.cache  # (stackgen.cache is the module imported as `cache` here)
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
    # `map("tick") | join(", ")` in one Python call: Jinja's map and join cost more than this
    env.filters["ticks"] = lambda items: ", ".join(f"`{text}`" for text in items)
    return env


def _bytecode_cache() -> Any:
    """Compiled templates kept between runs (keyed by template source and Jinja2 version),
    as Python keeps .pyc files: compiling them is a tenth of a short build. In stackgen's
    cache folder (stackgen.cache); none when caches are off or the folder cannot be made."""
    from jinja2 import FileSystemBytecodeCache

    from stackgen.cache import folder

    where = folder("templates")
    if where is None:
        return None

    class Cache(FileSystemBytecodeCache):
        def dump_bytecode(self, bucket: Any) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError:  # a full or read-only disk costs only the cache
                pass

    return Cache(where)
