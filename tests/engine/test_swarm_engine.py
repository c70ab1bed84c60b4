"""`docker stack deploy` of the swarm output, for real, on a one-node swarm.

The token secrets are created as stack.yml's header and the README tell operators to; the
runner image is the stand-in (deployed with --resolve-image never, as NOTES.md says for a
locally built image). Each manager task must reach `running` and its container must hold a
config.toml the runner accepts. A rejected or failed task fails with the engine's own error.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from tests.engine import managers
from tests.engine.conftest import Images, Site
from tests.engine.daemon import Engine

BAD_STATES = {"failed", "rejected", "orphaned"}


@pytest.fixture
def swarm(engine: Engine) -> Engine:
    if not engine.swarm:
        pytest.skip(f"the engine at {engine.url} is not a swarm manager (docker swarm init)")
    return engine


def secret_commands(stack_yml: str) -> list[tuple[str, str]]:
    """(secret name, token variable) from the header's `docker secret create` lines."""
    found = re.findall(r'printf \'%s\' "\$(\w+)" \| docker secret create (\S+) -', stack_yml)
    return [(secret, variable) for variable, secret in found]


def task_state(engine: Engine, service: Any) -> str | None:
    """'running' once a task runs; fails the test with the engine's error for a bad task."""
    for task in service.tasks():
        status = task["Status"]
        if status["State"] in BAD_STATES:
            logs = ""
            container = status.get("ContainerStatus", {}).get("ContainerID")
            if container:
                try:
                    logs = engine.client.containers.get(container).logs().decode(errors="replace")
                except docker.errors.NotFound:
                    pass
            pytest.fail(f"task of {service.name} {status['State']}: {status.get('Err', status['Message'])}"
                        + (f"\ncontainer output:\n{logs}" if logs else ""), pytrace=False)
        if status["State"] == "running" and task["DesiredState"] == "running":
            container = str(status["ContainerStatus"]["ContainerID"])
            try:
                engine.client.containers.get(container)
            except docker.errors.NotFound:
                continue  # a task on its way out
            return container
    return None


def remove_stack(engine: Engine, name: str, secrets: list[str]) -> None:
    """`docker stack rm`, then the external token secrets (the stack's own secrets, configs
    and services go with it; its exiting containers are not waited for)."""
    engine.cli("stack", "rm", name)
    for secret in secrets:
        for _ in range(40):
            try:
                engine.client.secrets.get(secret).remove()
                break
            except docker.errors.NotFound:
                break
            except docker.errors.APIError:
                time.sleep(0.25)  # still referenced by a service being removed


@pytest.mark.parametrize("profiles", managers.CASES, ids="+".join)
def test_stack_deploys_and_every_manager_runs(profiles: tuple[str, ...], swarm: Engine, engine_images: Images,
                                             site: Site, tmp_path: Path) -> None:
    fleet, out = managers.generate(profiles, "swarm", site.file, tmp_path / "swarm")
    stack_yml = (out / "stack.yml").read_text()
    commands = secret_commands(stack_yml)
    assert {name for name, _ in commands} == {f"gitlab-runner-token-{r.name}" for m in fleet.managers
                                               for r in m.runners}
    name = managers.project_name(profiles)
    try:
        for secret, variable in commands:
            runner = variable.removeprefix("RUNNER_TOKEN_").lower().replace("_", "-")
            result = swarm.cli("secret", "create", secret, "-", input=managers.token_for(runner))
            assert result.returncode == 0, result.stderr
        result = swarm.cli("stack", "deploy", "--resolve-image", "never", "-c", "stack.yml", name, cwd=out)
        assert result.returncode == 0, result.stderr
        for manager in fleet.managers:
            service = swarm.client.services.get(f"{name}_runner-{manager.name}")
            container_id = managers.wait_for(lambda s=service: task_state(swarm, s),
                                             f"a running task of {service.name}")
            container = swarm.client.containers.get(container_id)
            managers.wait_for(lambda c=container: b"stackgen-standin" in c.logs(), "the runner to start")
            managers.check_manager(container, manager, (out / "certs" / "ca-bundle.crt").read_bytes()
                                   if (out / "certs" / "ca-bundle.crt").exists() else b"",
                                   [r.name for r in manager.runners])
    finally:
        remove_stack(swarm, name, [secret for secret, _ in commands])


def test_a_missing_token_secret_is_refused_by_deploy(swarm: Engine, engine_images: Images, site: Site,
                                                     tmp_path: Path) -> None:
    """The README's promise: without the secret, deploy fails naming it."""
    _, out = managers.generate(("default",), "swarm", site.file, tmp_path / "swarm")
    result = swarm.cli("stack", "deploy", "--resolve-image", "never", "-c", "stack.yml", "sgnosecret", cwd=out)
    try:
        assert result.returncode != 0
        assert "secret not found: gitlab-runner-token-default" in result.stderr
    finally:
        remove_stack(swarm, "sgnosecret", [])


def test_runner_state_survives_a_new_task(swarm: Engine, engine_images: Images, site: Site,
                                          tmp_path: Path) -> None:
    fleet, out = managers.generate(("default",), "swarm", site.file, tmp_path / "swarm")
    name, secret = "sgstate", "gitlab-runner-token-default"
    try:
        swarm.cli("secret", "create", secret, "-", input=managers.token_for("default"))
        result = swarm.cli("stack", "deploy", "--resolve-image", "never", "-c", "stack.yml", name, cwd=out)
        assert result.returncode == 0, result.stderr
        service = swarm.client.services.get(f"{name}_runner-data")
        first = managers.wait_for(lambda: task_state(swarm, service), "a running task")
        code, out_ = managers.run(swarm.client.containers.get(first), "sh", "-c",
                                  f"echo s_enginetest > {managers.STATE}")
        assert code == 0, out_
        result = swarm.cli("service", "update", "--force", "--detach", service.name)
        assert result.returncode == 0, result.stderr
        second = managers.wait_for(lambda: (task_state(swarm, service) or first) != first
                                   and task_state(swarm, service), "a new running task")
        code, out_ = managers.run(swarm.client.containers.get(second), "cat", managers.STATE)
        assert (code, out_.strip()) == (0, "s_enginetest"), f"{managers.STATE} after a new task: {out_}"
    finally:
        remove_stack(swarm, name, [secret])
