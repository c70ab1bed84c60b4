"""One reviewable snapshot per generated file of each built-in profile x target, plus
composed sets; each is stored with the file's own extension.

The cases come from the profiles folder and the TARGETS registry, so a new profile or
target is covered without touching this file.
"""

from __future__ import annotations

from typing import Any

import pytest

import stackgen
from stackgen.errors import UserError
from tests.conftest import COMPOSED, ROLE_PROFILES, TARGETS

CASES = [(p,) for p in ROLE_PROFILES] + COMPOSED


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("profiles", CASES, ids="+".join)
def test_snapshot(profiles: tuple[str, ...], target: str, file_snapshot: Any) -> None:
    try:
        files = stackgen.generate(list(profiles), target)
    except UserError as exc:
        # a target may refuse what its consumer cannot express (helm: the docker socket);
        # the refusal is output too, so its wording is reviewed like the files
        files = {"error.txt": "".join(f"{p}\n" for p in exc.problems)}
    for path, text in files.items():
        assert text == file_snapshot(path), path
