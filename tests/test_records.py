"""stackgen.records.dataclass makes the classes dataclasses.dataclass would, and its
compiled methods come from the cache on a later start."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pickle
import pkgutil
import subprocess
import sys

import pytest

import stackgen
from stackgen.records import dataclass
from tests.conftest import ROOT


def _ours() -> list[type]:
    found = []
    for info in pkgutil.walk_packages(stackgen.__path__, "stackgen."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        found += [v for v in vars(module).values() if isinstance(v, type)
                  and "__dataclass_fields__" in v.__dict__ and v.__module__ == info.name]
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


CLASSES = _ours()


def _twin(cls: type) -> type:
    """The same class made by dataclasses itself."""
    spec = []
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            spec.append((f.name, f.type, dataclasses.field(default=f.default)))
        elif f.default_factory is not dataclasses.MISSING:
            spec.append((f.name, f.type, dataclasses.field(default_factory=f.default_factory)))
        else:
            spec.append((f.name, f.type))
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    return dataclasses.make_dataclass(cls.__name__, spec, namespace={"__qualname__": cls.__qualname__},
                                      frozen=params.frozen, slots="__slots__" in cls.__dict__)


def test_every_class_of_stackgen_is_found() -> None:
    names = {c.__qualname__ for c in CLASSES}
    assert {"Fleet", "Runner", "Origin", "Val", "ProfileSummary"} <= names, names
    assert len(CLASSES) >= 30


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_behaves_as_dataclasses_makes_it(cls: type) -> None:
    twin = _twin(cls)
    assert str(inspect.signature(cls)) == str(inspect.signature(twin))
    assert cls.__match_args__ == twin.__match_args__  # type: ignore[attr-defined]
    assert repr(cls.__dataclass_params__) == repr(twin.__dataclass_params__)  # type: ignore[attr-defined]
    assert inspect.get_annotations(cls.__init__) == inspect.get_annotations(twin.__init__)
    fields = dataclasses.fields(cls)
    args = [f"v{i}" for i in range(len(fields))]
    other = [*args[:-1], "other"] if args else args
    required = [a for a, f in zip(args, fields, strict=True)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    ours, theirs = cls(*args), twin(*args)
    assert repr(ours) == repr(theirs)
    assert repr(cls(*required)) == repr(twin(*required))
    assert ours == cls(*args) and (ours != cls(*other) or not args)
    assert ours.__eq__(theirs) is NotImplemented  # another class, as dataclasses compares
    assert cls.__hash__ is None if twin.__hash__ is None else hash(ours) == hash(theirs)
    assert dataclasses.replace(ours) == ours and dataclasses.astuple(ours) == dataclasses.astuple(theirs)
    assert pickle.loads(pickle.dumps(ours)) == ours
    if cls.__dataclass_params__.frozen and fields:  # type: ignore[attr-defined]
        for change in (lambda o: setattr(o, fields[0].name, 1), lambda o: delattr(o, fields[0].name),
                       lambda o: setattr(o, "new_name", 1)):
            with pytest.raises(dataclasses.FrozenInstanceError) as mine:
                change(ours)
            if "__slots__" in cls.__dict__:
                continue  # 3.11's frozen slots classes fail with a TypeError here (gh-90562)
            with pytest.raises(dataclasses.FrozenInstanceError) as std:
                change(theirs)
            assert str(mine.value) == str(std.value)


def test_a_factory_runs_for_each_instance_and_shows_as_dataclasses_shows_it() -> None:
    @dataclass
    class Bag:
        items: list[str] = dataclasses.field(default_factory=list)
        name: str = "bag"

    assert Bag().items is not Bag().items
    assert str(inspect.signature(Bag)) == "(items: 'list[str]' = <factory>, name: 'str' = 'bag') -> None"
    assert Bag.__hash__ is None  # eq without frozen, as dataclasses does
    bag = Bag()
    bag.name = "other"
    assert bag == Bag(name="other")


def test_what_it_does_not_do_is_refused() -> None:
    with pytest.raises(TypeError, match="supports plain fields"):
        @dataclass(frozen=True)
        class Hidden:
            secret: str = dataclasses.field(default="", repr=False)


def test_a_later_start_compiles_nothing(tmp_path: object) -> None:
    probe = ("import builtins, sys; seen = []; real = builtins.compile\n"
             "builtins.compile = lambda *a, **k: seen.append(a[1]) or real(*a, **k)\n"
             "import stackgen.model, stackgen.api, stackgen.layers.located\n"
             "print(sum(name == '<stackgen.records>' for name in seen))")
    env = {"STACKGEN_CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    runs = [subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                           check=True).stdout.strip() for _ in range(2)]
    assert int(runs[0]) > 10 and runs[1] == "0", runs
