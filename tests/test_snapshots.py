"""One reviewable snapshot per built-in profile x target, plus composed sets.

The cases come from the profiles folder and the TARGETS registry, so a new profile or
target is covered without touching this file.
"""

from __future__ import annotations

from typing import Any

import pytest

import stackgen
from tests.conftest import COMPOSED, ROLE_PROFILES, TARGETS, joined

CASES = [(p,) for p in ROLE_PROFILES] + COMPOSED


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("profiles", CASES, ids="+".join)
def test_snapshot(profiles: tuple[str, ...], target: str, target_snapshot: Any) -> None:
    files = stackgen.generate(list(profiles), target)
    assert joined(files) == target_snapshot(target)
