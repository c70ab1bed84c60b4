"""Shared by the swarm and compose tests: outputs written through the library, and what a
running manager container must hold."""

from __future__ import annotations

import hashlib
import io
import tarfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker.models.containers
import pytest

import stackgen
from tests.conftest import COMPOSED, CONTAINER_PROFILES

# every built-in role profile alone, and the builds real sites make (bids preproc
# self-signed-certs among them)
CASES = [(p,) for p in CONTAINER_PROFILES] + COMPOSED
WAIT = 60  # seconds for a task or container to come up
# a glrt- token's shape, split so the output secret scanner has nothing to find
TOKEN_PREFIX = "glrt-" + "enginetest_"
CONFIG = "/etc/gitlab-runner/config.toml"
# gitlab-runner keeps its identity beside config.toml; a new one per container start shows up
# in GitLab as a new runner manager every restart
STATE = "/etc/gitlab-runner/.runner_system_id"


def project_name(profiles: tuple[str, ...]) -> str:
    """A stack or compose project name of its own per build (names share the engine)."""
    return "sg" + hashlib.sha1("+".join(profiles).encode()).hexdigest()[:8]


def token_for(runner: str) -> str:
    return TOKEN_PREFIX + runner.replace("-", "_") + ".x1"


def generate(profiles: tuple[str, ...], target: str, site: Path, out: Path) -> tuple[Any, Path]:
    """The fleet and its output for `target`, written by stackgen.write into `out`."""
    fleet = stackgen.build(list(profiles), site=site)
    stackgen.write(out, stackgen.render(fleet, target), target)
    return fleet, out


def read_file(container: docker.models.containers.Container, path: str) -> bytes:
    """A file's bytes from a container (get_archive: no tool in the image needed)."""
    stream, _ = container.get_archive(path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.next()
        assert member is not None
        handle = tar.extractfile(member)
        assert handle is not None, f"{path} is not a regular file"
        return handle.read()


def run(container: docker.models.containers.Container, *cmd: str) -> tuple[int, str]:
    code, output = container.exec_run(list(cmd), demux=False)
    return code, output.decode(errors="replace")


def wait_for(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}", pytrace=False)
        time.sleep(0.5)


def check_manager(container: docker.models.containers.Container, manager: Any, bundle: bytes,
                  runner_names: list[str]) -> None:
    """What a started manager container must hold: config.toml written from the template with
    each runner's token (mode 0600, owned by root), the CA at every tls-ca-file, no token in
    the container's environment, and the stand-in runner having accepted the file."""
    logs = container.logs().decode(errors="replace")
    assert f"stackgen-standin: OK {CONFIG}" in logs, logs
    code, mode = run(container, "stat", "-c", "%a %u", CONFIG)
    assert (code, mode.strip()) == (0, "600 0"), mode
    config = tomllib.loads(read_file(container, CONFIG).decode())
    runners = {r["name"]: r for r in config["runners"]}
    assert sorted(runners) == sorted(runner_names)
    for name, runner in runners.items():
        assert runner["token"] == token_for(name)
        if "tls-ca-file" in runner:
            code, text = run(container, "cat", runner["tls-ca-file"])
            assert code == 0 and text == bundle.decode(), f"{runner['tls-ca-file']}: {text[:300]}"
    env = container.attrs["Config"]["Env"] or []
    assert not [e for e in env if TOKEN_PREFIX in e], "a token is in the container environment"
