"""Shared fixtures: the built-in profiles, the example site, and a text snapshot format."""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

import stackgen as _stackgen
from stackgen.resources import data_dir
from stackgen.targets import TARGETS

ROOT = Path(__file__).resolve().parent.parent
# compiled templates go to a throwaway cache, not the developer's ~/.cache/stackgen
os.environ.setdefault("STACKGEN_CACHE_DIR", tempfile.mkdtemp(prefix="stackgen-test-cache-"))

# HYPOTHESIS_PROFILE=thorough (make test-thorough) runs the property tests at full size;
# tests/test_properties.py scales its own budgets by the same variable.
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

BUILTIN_PROFILES = sorted(p.stem for p in data_dir("profiles").glob("*.yaml"))
# Capability profiles add to role profiles; alone they define no runner.
CAPABILITIES = {"self-signed-certs"}
ROLE_PROFILES = [p for p in BUILTIN_PROFILES if p not in CAPABILITIES]
# Profiles whose runners only a host install can run (a fork's executor, shell): the
# container targets refuse them (tests/test_coverage.py), so their container tests use the
# others. Read off the model, so a new profile is sorted without touching this file.
HOST_ONLY = {p for p in ROLE_PROFILES
             if any(r.executor != "docker" for r in _stackgen.build([p]).runners)}
CONTAINER_PROFILES = [p for p in ROLE_PROFILES if p not in HOST_ONLY]
# Profile sets that real sites build together (issue examples, seeds 000 and 002).
COMPOSED = [
    ("bids", "preproc", "self-signed-certs"),
    ("default", "bids", "preproc"),
    ("kaniko-harbor", "self-signed-certs"),
    ("dind-build", "self-signed-certs"),
]



@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # no ./stackgen.yaml or build/ from the checkout may leak into a test
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STACKGEN_PROFILE_PATH", raising=False)


@functools.cache
def text_snapshot_extension(file_extension: str) -> type[SingleFileSnapshotExtension]:
    """Snapshots stored as plain files with the generated file's own extension, so each
    reads (and diffs) like the real stack.yml, config.toml or Dockerfile."""

    class TextSnapshot(SingleFileSnapshotExtension):
        _write_mode = WriteMode.TEXT

    TextSnapshot.file_extension = file_extension
    return TextSnapshot


def snapshot_extension_of(path: str) -> str:
    name = PurePosixPath(path).name
    return name.rsplit(".", 1)[1] if "." in name.lstrip(".") else name.lstrip(".")


@pytest.fixture
def file_snapshot(snapshot: Any) -> Any:
    """`file_snapshot(path)`: the snapshot of one generated file, named after its path."""

    def use(path: str) -> Any:
        extension = text_snapshot_extension(snapshot_extension_of(path))
        return snapshot(name=path.replace("/", "__"), extension_class=extension)

    return use


__all__ = ["BUILTIN_PROFILES", "COMPOSED", "CONTAINER_PROFILES", "HOST_ONLY", "ROLE_PROFILES", "ROOT",
           "TARGETS"]
