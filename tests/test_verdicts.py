"""Verdicts kept for big input layers (stackgen.layers.verdicts): a pass is kept under the
layer's plain data, a refusal never is, and with caches off nothing is read or written."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackgen.errors import Origin
from stackgen.layers import schema
from stackgen.layers.located import Val, from_plain

ORIGIN = Origin("profile", "big.yaml", profile="big")


def big_layer(**runner: object) -> Val:
    runners = {f"r{i:04d}": {"image": "alpine:3.20", "tags": [f"t{i % 7}"], **runner}
               for i in range(600)}
    return from_plain({"runners": runners}, ORIGIN)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """The kinds of the layers whose checks ran."""
    monkeypatch.setenv("STACKGEN_CACHE_DIR", str(tmp_path))
    runs: list[str] = []
    check = schema._problems
    monkeypatch.setattr(schema, "_problems",
                        lambda doc, data, kind: runs.append(kind) or check(doc, data, kind))
    return runs


def test_a_big_layer_that_passed_is_not_checked_again(counted: list[str]) -> None:
    assert schema.validate(big_layer(), "profile", "big.yaml") == []
    assert schema.validate(big_layer(), "profile", "big.yaml") == []
    assert counted == ["profile"]
    # another kind, or other data (true is not 1), is checked on its own
    assert schema.validate(big_layer(), "site", "big.yaml") == []
    assert schema.validate(big_layer(limit=1), "profile", "big.yaml") == []
    assert schema.validate(big_layer(limit=True), "profile", "big.yaml") != []
    assert counted == ["profile", "site", "profile", "profile"]


def test_a_refused_layer_is_checked_every_time(counted: list[str]) -> None:
    for _ in range(2):
        problems = schema.validate(big_layer(imag="x"), "profile", "big.yaml")
        assert len(problems) == 600 and "unknown key 'imag'" in problems[0].message
    assert counted == ["profile", "profile"]


def test_a_token_in_a_big_layer_is_refused_every_time(counted: list[str]) -> None:
    token = "glrt-Zx8kQ2mWv4LpN7rTb3Yc"
    for _ in range(2):
        problems = schema.validate(big_layer(environment={"X": token}), "profile", "big.yaml")
        assert problems and all(token not in p.message for p in problems)
    assert counted == ["profile", "profile"]


def test_small_layers_and_caches_off_keep_nothing(counted: list[str], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    small = from_plain({"runners": {"a": {"image": "alpine:3.20"}}}, ORIGIN)
    for _ in range(2):
        assert schema.validate(small, "profile", "small.yaml") == []
    monkeypatch.setenv("STACKGEN_CACHE_DIR", "")
    for _ in range(2):
        assert schema.validate(big_layer(), "profile", "big.yaml") == []
    assert counted == ["profile"] * 4
    assert not (tmp_path / "verdicts").exists() or not any((tmp_path / "verdicts").iterdir())


def test_equal_data_has_one_entry_however_its_strings_are_shared(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import marshal

    from stackgen.layers.verdicts import _entry

    monkeypatch.setenv("STACKGEN_CACHE_DIR", str(tmp_path))
    data = big_layer().plain()
    shared = {"runners": {name: {**r, "image": data["runners"]["r0000"]["image"]}
                          for name, r in data["runners"].items()}}
    entry = _entry(data, "profile")
    assert entry is not None
    assert entry == _entry(shared, "profile") == _entry(marshal.loads(marshal.dumps(data)), "profile")
