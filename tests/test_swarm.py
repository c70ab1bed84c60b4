"""Swarm stacks as `docker stack config` (docker/cli's own stack loader) reads them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

import stackgen
from tests.conftest import COMPOSED, CONTAINER_PROFILES

CASES = [(p,) for p in CONTAINER_PROFILES] + COMPOSED
DOCKER = shutil.which("docker")
# keys swarm ignores on a service: job privileges placed there would silently do nothing
IGNORED_BY_SWARM = {"build", "devices", "privileged", "security_opt", "restart", "container_name",
                    "network_mode", "shm_size", "depends_on"}


def write(files: dict[str, str], root: Path) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root / "stack.yml"


@pytest.mark.skipif(DOCKER is None, reason="docker CLI not installed")
@pytest.mark.parametrize("profiles", CASES, ids="+".join)
def test_docker_stack_config_accepts_every_stack(profiles: tuple[str, ...], tmp_path: Path) -> None:
    fleet = stackgen.build(list(profiles))
    stack = write(stackgen.render(fleet, "swarm"), tmp_path)
    # no token in the deploying shell: the stack needs none, the tokens are swarm secrets
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNNER_TOKEN")}
    result = subprocess.run([DOCKER, "stack", "config", "-c", str(stack)],  # type: ignore[list-item]
                            capture_output=True, text=True, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    resolved = YAML(typ="safe").load(result.stdout)
    for name, service in resolved["services"].items():
        assert not IGNORED_BY_SWARM & set(service), name
        assert service["deploy"]["placement"]["constraints"]
        assert service["entrypoint"][:2] == ["/bin/sh", "-c"]


@pytest.mark.parametrize("profiles", CASES, ids="+".join)
def test_tokens_are_secrets_never_environment(profiles: tuple[str, ...]) -> None:
    fleet = stackgen.build(list(profiles))
    files = stackgen.render(fleet, "swarm")
    stack = YAML(typ="safe").load(files["stack.yml"])
    for manager in fleet.managers:
        service = stack["services"][f"runner-{manager.name}"]
        assert not any("TOKEN" in key for key in service.get("environment", {}))
        mounted = {s["source"]: s for s in service["secrets"]}
        script = service["entrypoint"][2]
        for runner in manager.runners:
            key = f"runner-token-{runner.name}"
            assert stack["secrets"][key] == {"external": True, "name": f"gitlab-runner-token-{runner.name}"}
            assert len(stack["secrets"][key]["name"]) <= 64  # swarmkit's limit on names
            assert mounted[key] == {"source": key, "mode": 0o400}
            assert f"read_token /run/secrets/{key} {runner.token.env})" in script
            assert f"[$$]{{{runner.token.env}}}" in script  # the reference in the template
            # the operator's command to create it, in the header
            assert (f"printf '%s' \"${runner.token.env}\" | docker secret create "
                    f"gitlab-runner-token-{runner.name} -") in files["stack.yml"]
        template = mounted[f"{manager.name}-config"]
        assert template["target"] == "/etc/gitlab-runner/config.template.toml"
        assert "/etc/gitlab-runner/config.toml" in script


def test_secret_names_fit_for_the_longest_runner_name() -> None:
    from stackgen.targets.swarm import secret_name

    assert len(secret_name("r" * 42)) <= 64


def test_preproc_is_pinned_to_the_processing_node() -> None:
    files = stackgen.generate(["preproc"], "swarm")
    stack = YAML(typ="safe").load(files["stack.yml"])
    service = stack["services"]["runner-processing"]
    assert service["deploy"]["placement"]["constraints"] == ["node.hostname == proc01.example.org"]
    assert service["secrets"][0]["target"] == "/etc/gitlab-runner/config.template.toml"
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
