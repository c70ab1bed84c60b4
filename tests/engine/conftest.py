"""The engine tier's session fixtures: the engine, its images and the test site.

Every test under tests/engine is marked `engine`. Where no engine is reachable and none can
start (no root, no apt), the whole tier skips, and the session ends with one
`ENGINE TIER SKIPPED: <reason>` line; with STACKGEN_ENGINE=require (set by .ci/run) that is
a failure instead. STACKGEN_ENGINE=off skips the tier on purpose.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import certfactory
from tests.engine import daemon, images

ENGINE_DIR = Path(__file__).parent
REGISTRY = "harbor.test:5050"  # a registry with a port: docker's certs.d name is host:port
GITLAB_HOST = "gitlab.test"
# under the test registry, so tagging the stand-in never shadows a real image on a shared engine
RUNNER_IMAGE = f"{REGISTRY}/mirror/gitlab/gitlab-runner:v18.5.0"
RUNNER_CA_IMAGE = f"{REGISTRY}/ops/gitlab-runner-ca:v18.5.0"
_skip_reason: str | None = None
_engine_line: str | None = None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if ENGINE_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.engine)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _skip_reason is not None:
        terminalreporter.write_line(_skip_reason, red=True, bold=True)
    elif _engine_line is not None:
        terminalreporter.write_line(_engine_line)


@pytest.fixture(scope="session")
def engine() -> Iterator[daemon.Engine]:
    global _skip_reason, _engine_line
    if _skip_reason is not None:
        pytest.skip(_skip_reason)
    try:
        if os.environ.get("STACKGEN_ENGINE") == "off":
            raise daemon.NoEngine("STACKGEN_ENGINE=off")
        eng = daemon.find_or_start()
    except daemon.NoEngine as e:
        _skip_reason = f"ENGINE TIER SKIPPED: {e}"
        if os.environ.get("STACKGEN_ENGINE") == "require":
            pytest.fail(_skip_reason + " (STACKGEN_ENGINE=require)", pytrace=False)
        pytest.skip(_skip_reason)
    _engine_line = eng.describe()
    try:
        yield eng
    finally:
        daemon.stop(eng)


@dataclass(frozen=True)
class Images:
    debian: str  # the job image, and the stand-in base for the dockerfile target
    standin: str  # the gitlab-runner stand-in


@pytest.fixture(scope="session")
def engine_images(engine: daemon.Engine) -> Images:
    debian = images.debian_image(engine.client)
    standin = images.standin_image(engine.client, debian)
    for ref in (RUNNER_IMAGE, RUNNER_CA_IMAGE):
        images.tag(engine.client, standin, ref)
    return Images(debian, standin)


@dataclass(frozen=True)
class Site:
    """The test site: its file, the test CA and a leaf for GitLab, and the host paths."""

    root: Path
    file: Path
    ca_pem: bytes
    leaf_pem: bytes
    leaf_key_pem: bytes
    ca_bundle: Path  # the "host's system bundle" with the site CA installed (ca.host_path)
    data: dict[str, Path]
    hostname: str


SITE = """\
name: enginetest
gitlab: {{url: "https://{gitlab}"}}
registry: "{registry}"
nodes:
  data: {{hostname: "{hostname}", labels: {{role: data}}}}
  processing: {{hostname: "{hostname}", labels: {{role: processing}}}}
default_node: data
data:
  mri: "{mri}"
  dicoms: "{dicoms}"
certificates:
  test-ca: {{file: certs/test-ca.crt, hosts: ["{gitlab}", "{registry_host}"]}}
ca: {{host_path: "{bundle}"}}  # job_path: the default, a path of its own
images:
  runner: "{runner}"
  runner-ca: "{runner_ca}"
manager:
  concurrent: 2
"""


@pytest.fixture(scope="session")
def site(engine: daemon.Engine) -> Iterator[Site]:
    """A site whose nodes are all this engine's node (so swarm placement matches)."""
    root = Path(tempfile.mkdtemp(prefix="sg-site-"))
    os.chmod(root, 0o755)  # job containers run as root, but keep it readable for any user
    ca = certfactory.make("stackgen engine test CA", ca=True)
    leaf = certfactory.make(GITLAB_HOST, sans=[GITLAB_HOST, "localhost", "127.0.0.1"], issuer=ca)
    certfactory.write(root / "certs" / "test-ca.crt", ca.pem())
    # the Debian system bundle plus the site CA: what `update-ca-certificates` on a node
    # with the CA installed (NOTES.md) leaves at /etc/ssl/certs/ca-certificates.crt
    system = Path("/etc/ssl/certs/ca-certificates.crt")
    bundle = root / "host-ssl" / "ca-certificates.crt"
    certfactory.write(bundle, (system.read_bytes() if system.exists() else b"") + ca.pem())
    data = {"mri": root / "mnt" / "mri", "dicoms": root / "mnt" / "mri" / "ria-dicoms"}
    for path in data.values():
        path.mkdir(parents=True, exist_ok=True)
        (path / "README").write_text("raw data, read-only in jobs\n")
    hostname = engine.node_hostname or socket.gethostname()
    site_file = root / "stackgen.yaml"
    site_file.write_text(SITE.format(
        gitlab=GITLAB_HOST, registry=REGISTRY, registry_host=REGISTRY.split(":")[0], hostname=hostname,
        mri=data["mri"], dicoms=data["dicoms"], bundle=bundle, runner=RUNNER_IMAGE,
        runner_ca=RUNNER_CA_IMAGE))
    yield Site(root, site_file, ca.pem(), leaf.pem(), leaf.key_pem(), bundle, data, hostname)
    shutil.rmtree(root, ignore_errors=True)
