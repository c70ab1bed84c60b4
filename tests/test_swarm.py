"""Swarm stacks as `docker stack config` (docker/cli's own stack loader) reads them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import stackgen
from tests.conftest import COMPOSED, ROLE_PROFILES

CASES = [(p,) for p in ROLE_PROFILES] + COMPOSED
DOCKER = shutil.which("docker")
# keys swarm ignores on a service: job privileges placed there would silently do nothing
IGNORED_BY_SWARM = {"build", "devices", "privileged", "security_opt", "restart", "container_name",
                    "network_mode", "shm_size", "depends_on"}


def write(files: dict[str, str], root: Path) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root / "stack.yml"


def token_env(fleet: stackgen.Fleet) -> dict[str, str]:
    return {r.token.env: "from-the-environment" for r in fleet.runners}


@pytest.mark.skipif(DOCKER is None, reason="docker CLI not installed")
@pytest.mark.parametrize("profiles", CASES, ids="+".join)
def test_docker_stack_config_accepts_every_stack(profiles: tuple[str, ...], tmp_path: Path) -> None:
    fleet = stackgen.build(list(profiles))
    stack = write(stackgen.render(fleet, "swarm"), tmp_path)
    env = {**os.environ, **token_env(fleet)}
    result = subprocess.run([DOCKER, "stack", "config", "-c", str(stack)],  # type: ignore[list-item]
                            capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    resolved = YAML(typ="safe").load(result.stdout)
    for name, service in resolved["services"].items():
        assert not IGNORED_BY_SWARM & set(service), name
        assert service["deploy"]["placement"]["constraints"]


@pytest.mark.skipif(DOCKER is None, reason="docker CLI not installed")
def test_stack_refuses_to_deploy_without_tokens(tmp_path: Path) -> None:
    fleet = stackgen.build(["preproc"])
    stack = write(stackgen.render(fleet, "swarm"), tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNNER_TOKEN")}
    result = subprocess.run([DOCKER, "stack", "config", "-c", str(stack)],  # type: ignore[list-item]
                            capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode != 0
    assert "RUNNER_TOKEN_PREPROC" in result.stderr


def test_preproc_is_pinned_to_the_processing_node() -> None:
    files = stackgen.generate(["preproc"], "swarm")
    stack = YAML(typ="safe").load(files["stack.yml"])
    service = stack["services"]["runner-processing"]
    assert service["deploy"]["placement"]["constraints"] == ["node.hostname == proc01.example.org"]
    assert service["secrets"][0]["target"] == "/etc/gitlab-runner/config.toml"
    assert stack["version"] == "3.8"
    assert files["stack.yml"].count('version: "3.8"') == 1
    # the job privileges are in config.toml, which ships as a secret with a content hash
    assert "/dev/fuse" in files["processing/config.toml"]
    assert stack["secrets"]["processing-config"]["name"].startswith("gitlab-runner-processing-config-")


def test_one_manager_per_node_with_ca_wired_in() -> None:
    files = stackgen.generate(["bids", "preproc", "self-signed-certs"], "swarm")
    stack = YAML(typ="safe").load(files["stack.yml"])
    assert sorted(stack["services"]) == ["runner-data", "runner-processing"]
    for service in stack["services"].values():
        assert service["configs"][0]["target"] == "/etc/gitlab-runner/certs/gitlab.example.org.crt"
        assert service["stop_signal"] == "SIGQUIT"
    assert stack["configs"]["ca-bundle"]["file"] == "./certs/ca-bundle.crt"
    assert files["certs/ca-bundle.crt"].startswith("-----BEGIN CERTIFICATE-----")


def test_content_hash_changes_with_config() -> None:
    a = YAML(typ="safe").load(stackgen.generate(["bids"], "swarm")["stack.yml"])
    b = YAML(typ="safe").load(stackgen.generate(["bids"], "swarm", sets=["manager.concurrent=9"])["stack.yml"])
    assert a["secrets"]["data-config"]["name"] != b["secrets"]["data-config"]["name"]
