"""Shared fixtures: the built-in profiles, the example site, and a text snapshot format."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from stackgen.resources import data_dir
from stackgen.targets import TARGETS

ROOT = Path(__file__).resolve().parent.parent

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
# Profile sets that real sites build together (issue examples, seeds 000 and 002).
COMPOSED = [
    ("bids", "preproc", "self-signed-certs"),
    ("default", "bids", "preproc"),
    ("kaniko-harbor", "self-signed-certs"),
    ("dind-build", "self-signed-certs"),
]

EXTENSIONS = {"config-toml": "toml", "swarm": "yml", "compose": "yml", "helm": "yaml",
              "dockerfile": "Dockerfile"}


def joined(files: dict[str, str]) -> str:
    """All files of one render in one reviewable text, each under a `# --- path ---` line."""
    return "".join(f"# --- {path} ---\n{text}" for path, text in files.items())


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # no ./stackgen.yaml or build/ from the checkout may leak into a test
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STACKGEN_PROFILE_PATH", raising=False)


def text_snapshot_extension(target: str) -> type[SingleFileSnapshotExtension]:
    class TextSnapshot(SingleFileSnapshotExtension):
        _write_mode = WriteMode.TEXT
        file_extension = EXTENSIONS.get(target, "txt")

    return TextSnapshot


@pytest.fixture
def target_snapshot(snapshot: Any) -> Any:
    def use(target: str) -> Any:
        return snapshot.use_extension(text_snapshot_extension(target))

    return use


__all__ = ["BUILTIN_PROFILES", "COMPOSED", "ROLE_PROFILES", "ROOT", "TARGETS", "joined"]
