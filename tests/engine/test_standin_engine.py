"""The gitlab-runner stand-in is not vacuous: it refuses what the real runner could not use,
so a manager that starts in the swarm and compose tests had a usable config.toml."""

from __future__ import annotations

import io
import tarfile

import docker.errors
import pytest

from tests.engine.conftest import RUNNER_IMAGE, Images
from tests.engine.daemon import Engine

GOOD = """concurrent = 1
[[runners]]
name = "a"
url = "https://gitlab.test"
token = "glrt-x"
executor = "docker"
tls-ca-file = "/etc/gitlab-runner/certs/gitlab.test.crt"
"""
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def run_standin(engine: Engine, config: str | None, ca: str | None) -> tuple[int, str]:
    """The stand-in, as the image starts (its own ENTRYPOINT and CMD), with these files."""
    container = engine.client.containers.create(RUNNER_IMAGE, labels={"io.stackgen.engine-test": "standin"})
    try:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for name, text in (("config.toml", config), ("certs/gitlab.test.crt", ca)):
                if text is not None:
                    info = tarfile.TarInfo(name)
                    info.size = len(text.encode())
                    tar.addfile(info, io.BytesIO(text.encode()))
        container.put_archive("/etc/gitlab-runner", buf.getvalue())
        container.start()
        try:
            status = container.wait(timeout=5)["StatusCode"]
        except Exception:
            status = None  # still running: it accepted the file
        return status, container.logs().decode(errors="replace")
    finally:
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass


def test_the_standin_accepts_a_usable_config(engine: Engine, engine_images: Images) -> None:
    status, logs = run_standin(engine, GOOD, PEM)
    assert status is None and "stackgen-standin: OK /etc/gitlab-runner/config.toml" in logs, logs


@pytest.mark.parametrize(("config", "ca", "message"), [
    (None, PEM, "cannot read /etc/gitlab-runner/config.toml"),
    ("concurrent = [", PEM, "is not valid TOML"),
    (GOOD.replace("glrt-x", "${RUNNER_TOKEN_A}"), PEM, "unexpanded reference '${RUNNER_TOKEN_A}'"),
    (GOOD.replace('token = "glrt-x"\n', ""), PEM, "runner a: no token"),
    (GOOD, None, "tls-ca-file /etc/gitlab-runner/certs/gitlab.test.crt: No such file or directory"),
    (GOOD, "not a certificate\n", "holds no PEM certificate"),
], ids=["missing", "not-toml", "reference-left", "no-token", "no-ca", "ca-not-pem"])
def test_the_standin_refuses_what_the_runner_could_not_use(config: str | None, ca: str | None, message: str,
                                                            engine: Engine, engine_images: Images) -> None:
    status, logs = run_standin(engine, config, ca)
    assert status == 1 and message in logs, logs
