"""Compose projects as the compose-spec schema and a careful operator read them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

import stackgen
from tests.conftest import COMPOSED, CONTAINER_PROFILES

CASES = [(p,) for p in CONTAINER_PROFILES] + COMPOSED
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")


def load(text: str) -> Any:
    return YAML(typ="safe").load(text)


def write(files: dict[str, str], root: Path) -> list[Path]:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return sorted(root.glob("**/compose.yml"))


@pytest.mark.skipif(not CHECK_JSONSCHEMA.exists(), reason="check-jsonschema not installed")
def test_every_project_is_valid_compose_spec(tmp_path: Path) -> None:
    composes: list[Path] = []
    for profiles in CASES:
        composes += write(stackgen.generate(list(profiles), "compose"), tmp_path / "+".join(profiles))
    # one run for all files keeps the suite fast
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", *map(str, composes)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(not CHECK_JSONSCHEMA.exists(), reason="check-jsonschema not installed")
def test_schema_check_is_not_vacuous(tmp_path: Path) -> None:
    bad = tmp_path / "compose.yml"
    bad.write_text("services:\n  runner:\n    image: x:1\n    restart: sometimes\n    privilged: true\n")
    result = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(bad)],
        capture_output=True, text=True,
    )
    assert result.returncode == 1


@pytest.mark.parametrize("profiles", CASES, ids="+".join)
def test_references_resolve_and_files_exist(profiles: tuple[str, ...]) -> None:
    files = stackgen.generate(list(profiles), "compose")
    for path in (p for p in files if p.endswith("/compose.yml")):
        folder = path.rsplit("/", 1)[0]
        doc = load(files[path])
        assert "version" not in doc  # obsolete in the compose spec
        assert doc["name"] == f"gitlab-runner-{folder}"
        for kind in ("secrets", "configs", "volumes"):
            defined = doc.get(kind, {})
            for service in doc["services"].values():
                for ref in service.get(kind, []):
                    if kind == "volumes" and ref["type"] == "bind":
                        # only absolute bind sources: nothing relative
                        assert ref["source"].startswith("/")
                        continue
                    assert ref["source"] in defined, (path, kind, ref)
            for spec in defined.values():
                if "environment" in spec:  # a token secret, from the operator's environment
                    assert spec["environment"].startswith("RUNNER_TOKEN_"), (path, spec)
                    continue
                if kind == "volumes":  # named volumes: the manager's state, local to the host
                    assert spec == {}
                    continue
                rel = spec["file"].removeprefix("./")
                assert f"{folder}/{rel}" in files, (path, rel)


def test_runner_service_for_a_single_host() -> None:
    files = stackgen.generate(["bids", "preproc", "self-signed-certs"], "compose")
    fleet = stackgen.build(["bids", "preproc", "self-signed-certs"])
    doc = load(files["processing/compose.yml"])
    service = doc["services"]["runner"]
    # the stock image: the manager trusts GitLab through tls-ca-file and the mounted CA
    assert service["image"] == fleet.image("runner") != fleet.ca_image
    assert {"type": "volume", "source": "runner-state", "target": "/etc/gitlab-runner"} in service["volumes"]
    assert doc["volumes"] == {"runner-state": {}}
    assert service["restart"] == "unless-stopped"
    assert service["stop_signal"] == "SIGQUIT"
    assert service["stop_grace_period"] == "1h"
    assert {"type": "bind", "source": "/var/run/docker.sock",
            "target": "/var/run/docker.sock"} in service["volumes"]
    assert service["ports"] == [{"target": 8093, "published": 8093, "protocol": "tcp"}]
    assert service["secrets"] == [
        {"source": "runner-config", "target": "/etc/gitlab-runner/config.template.toml"},
        {"source": "runner-token-preproc"},
    ]
    assert service["command"] == ["run", "--user=gitlab-runner", "--working-directory=/home/gitlab-runner"]
    assert service["configs"] == [
        {"source": "ca-bundle", "target": "/etc/gitlab-runner/certs/gitlab.example.org.crt"}
    ]
    # job privileges belong to the jobs (config.toml), not to the manager container
    assert not {"privileged", "devices", "security_opt"} & set(service)
    runner = tomllib.loads(files["processing/config.toml"])["runners"][0]
    assert runner["docker"]["devices"] == ["/dev/fuse"]


def test_tokens_are_secrets_never_environment() -> None:
    files = stackgen.generate(["default", "bids", "preproc"], "compose")
    doc = load(files["data/compose.yml"])
    service = doc["services"]["runner"]
    assert "environment" not in service  # `docker inspect` would show the value
    assert doc["secrets"]["runner-token-default"] == {"environment": "RUNNER_TOKEN_DEFAULT"}
    assert doc["secrets"]["runner-token-bids"] == {"environment": "RUNNER_TOKEN_BIDS"}
    assert {"source": "runner-token-bids"} in service["secrets"]
    script = service["entrypoint"][2]
    assert "read_token /run/secrets/runner-token-bids RUNNER_TOKEN_BIDS)" in script
    assert "RUNNER_TOKEN_PREPROC" not in files["data/compose.yml"]  # another node's token
    toml = tomllib.loads(files["data/config.toml"])
    assert [r["token"] for r in toml["runners"]] == ["${RUNNER_TOKEN_DEFAULT}", "${RUNNER_TOKEN_BIDS}"]
    assert "glrt-" not in "".join(files.values()).replace("glrt-...", "")


def test_config_toml_is_the_one_code_path() -> None:
    profiles = ["kaniko-harbor", "dind-build", "self-signed-certs"]
    compose = stackgen.generate(profiles, "compose")
    plain = stackgen.generate(profiles, "config-toml")
    assert tomllib.loads(compose["data/config.toml"]) == tomllib.loads(plain["data/config.toml"])


def test_session_port_only_when_configured() -> None:
    files = stackgen.generate(["bids"], "compose", sets=["manager.session_server.enabled=false"])
    assert "ports" not in load(files["data/compose.yml"])["services"]["runner"]


def test_no_ca_no_certificate_files() -> None:
    files = stackgen.generate(["bids"], "compose")
    assert sorted(files) == ["NOTES.md", "data/compose.yml", "data/config.toml"]
    assert "configs" not in load(files["data/compose.yml"])
    assert "## The site CA" not in files["NOTES.md"]


def test_content_label_follows_config_and_ca() -> None:
    def label(*sets: str) -> str:
        files = stackgen.generate(["bids", "self-signed-certs"], "compose", sets=list(sets))
        return str(load(files["data/compose.yml"])["services"]["runner"]["labels"][
            "io.stackgen.content-hash"])

    assert label() == label()
    assert label() != label("manager.concurrent=7")


@pytest.mark.skipif(shutil.which("docker") is None, reason="docker CLI not installed")
def test_docker_compose_config_when_available(tmp_path: Path) -> None:
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("the docker compose plugin is not installed")
    write(stackgen.generate(["preproc", "self-signed-certs"], "compose"), tmp_path)
    result = subprocess.run(
        ["docker", "compose", "-f", "processing/compose.yml", "config", "--quiet"],
        cwd=tmp_path, capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "RUNNER_TOKEN_PREPROC": "x"},
    )
    assert result.returncode == 0, result.stderr
