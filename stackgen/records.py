"""`dataclass` for stackgen's own classes: the standard one, with its methods compiled once.

Python 3.11's `dataclasses.dataclass` compiles each method it writes (`__init__`,
`__repr__`, `__eq__`, `__hash__`, and for a frozen class `__setattr__` and `__delattr__`)
with an `exec` of its own: about 1 ms a class, some 30 ms of a build's start for stackgen's
classes. This one lets `dataclasses` process the fields (so `fields`, `replace`, `asdict`
and `is_dataclass` work as before, and the class is a dataclass to every reader), then
writes the same methods as one source, whose compiled code the cache keeps between runs,
as Python keeps a module's in a .pyc file. Code is run from the cache on the terms Python
runs a .pyc on: stackgen.cache reads only a folder of the user's own that no one else can
write, and an entry counts only under its whole key (the Python version and the source).

Only what stackgen uses is supported: `frozen` and `slots`, and fields that are plain or
have a default or a default factory. Anything else is refused when the class is made.
"""

from __future__ import annotations

import dataclasses
import sys

from stackgen import cache

TYPE_CHECKING = False
if TYPE_CHECKING:
    # type checkers see the standard decorator, whose meaning this one keeps
    from dataclasses import dataclass as dataclass
    from typing import Any
else:
    def dataclass(cls: type | None = None, /, *, frozen: bool = False, slots: bool = False) -> object:
        """As `dataclasses.dataclass(cls, frozen=frozen, slots=slots)`."""
        if cls is None:
            return lambda c: _make(c, frozen, slots)
        return _make(cls, frozen, slots)


class _Factory:
    """The default of a parameter whose field has a default factory, as dataclasses shows it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<factory>"


_HAS_FACTORY = _Factory()
_CODE_TYPE = type(_Factory.__repr__.__code__)


def _make(cls: type, frozen: bool, slots: bool) -> type:
    documented = bool(cls.__dict__.get("__doc__"))
    # fields, __match_args__ and (with slots) the new class; no method is written here
    cls = dataclasses.dataclass(cls, init=False, repr=False, eq=False, slots=slots)
    fields = dataclasses.fields(cls)
    for f in fields:
        if not (f.init and f.repr and f.compare and f.hash is None and not f.kw_only):
            raise TypeError(f"{cls.__qualname__}.{f.name}: stackgen.records.dataclass supports "
                            "plain fields with a default or a default factory only")
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    params.init = params.repr = params.eq = True
    params.frozen = frozen
    names = [f.name for f in fields]
    defaults = [f.default if f.default is not dataclasses.MISSING else f.default_factory for f in fields]
    text = _source(names, [_kind(f) for f in fields], frozen, slots)
    methods = _compiled(text)(cls, defaults, dataclasses.FrozenInstanceError, _HAS_FACTORY)
    for fn in methods:
        fn.__qualname__ = f"{cls.__qualname__}.{fn.__name__}"
        setattr(cls, fn.__name__, fn)
    # as dataclasses annotates it (inspect.signature, typing.get_type_hints)
    cls.__dict__["__init__"].__annotations__ = {**{f.name: f.type for f in fields}, "return": None}
    if not frozen:
        cls.__hash__ = None  # type: ignore[assignment]  # eq without frozen: unhashable
    if not documented:
        import inspect

        cls.__doc__ = cls.__name__ + str(inspect.signature(cls)).replace(" -> None", "")
    return cls


def _kind(f: dataclasses.Field[object]) -> str:
    if f.default is not dataclasses.MISSING:
        return "default"
    return "plain" if f.default_factory is dataclasses.MISSING else "factory"


def _source(names: list[str], kinds: list[str], frozen: bool, slots: bool) -> str:
    """The methods dataclasses would write, as one function that returns them."""
    params, body = ["self"], []
    for i, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        params.append(name if kind == "plain" else
                      f"{name}=__defaults[{i}]" if kind == "default" else f"{name}=__has_factory")
        value = f"__defaults[{i}]() if {name} is __has_factory else {name}" if kind == "factory" else name
        body.append(f"__setattr(self, {name!r}, {value})" if frozen else f"self.{name} = {value}")
    own = "".join(f"self.{n}," for n in names)
    theirs = "".join(f"other.{n}," for n in names)
    shown = ", ".join(f"{n}={{self.{n}!r}}" for n in names)
    lines = [
        "def __create(__cls, __defaults, __frozen_error, __has_factory):",
        "    __setattr = object.__setattr__",
        f"    def __init__({', '.join(params)}):",
        *(f"        {line}" for line in body or ["pass"]),
        "    def __repr__(self):",
        f"        return self.__class__.__qualname__ + f'({shown})'",
        "    def __eq__(self, other):",
        "        if other.__class__ is self.__class__:",
        f"            return ({own}) == ({theirs})",
        "        return NotImplemented",
    ]
    made = ["__init__", "__repr__", "__eq__"]
    if frozen:
        fields = "".join(f"{n!r}," for n in names)
        lines += [
            "    def __hash__(self):",
            f"        return hash(({own}))",
            "    def __setattr__(self, name, value):",
            f"        if type(self) is __cls or name in ({fields}):",
            "            raise __frozen_error(f'cannot assign to field {name!r}')",
            "        super(__cls, self).__setattr__(name, value)",
            "    def __delattr__(self, name):",
            f"        if type(self) is __cls or name in ({fields}):",
            "            raise __frozen_error(f'cannot delete field {name!r}')",
            "        super(__cls, self).__delattr__(name)",
        ]
        made += ["__hash__", "__setattr__", "__delattr__"]
        if slots:  # frozen slots refuse the default way of unpickling
            lines += [
                "    def __getstate__(self):",
                f"        return [{own}]",
                "    def __setstate__(self, state):",
                f"        for name, value in zip(({fields}), state):",
                "            __setattr(self, name, value)",
            ]
            made += ["__getstate__", "__setstate__"]
    lines.append(f"    return {', '.join(made)}")
    return "\n".join(lines) + "\n"


def _compiled(text: str) -> Any:
    """The function `text` defines, compiled at most once per cache."""
    where = cache.folder("records")
    key = ("records", sys.version, text)  # code objects are one Python's own
    code = cache.load(where, key)
    if type(code) is not _CODE_TYPE:
        code = compile(text, "<stackgen.records>", "exec")
        cache.store(where, key, code)
    namespace: dict[str, object] = {}
    exec(code, {"__builtins__": __builtins__}, namespace)  # noqa: S102 - our own source
    return namespace["__create"]
