"""config.toml as gitlab-runner reads it: parses with tomllib, only real keys, strict types."""

from __future__ import annotations

import tomllib

import pytest

import stackgen
from tests.conftest import COMPOSED, ROLE_PROFILES
from tests.runner_keys import check_config

CASES = [(p,) for p in ROLE_PROFILES] + COMPOSED


@pytest.mark.parametrize("profiles", CASES, ids="+".join)
def test_every_config_loads_in_the_runner(profiles: tuple[str, ...]) -> None:
    files = stackgen.generate(list(profiles), "config-toml")
    configs = {p: t for p, t in files.items() if p.endswith("/config.toml")}
    assert configs
    # beside them only the site CA (runner's certs/<gitlab-host>.crt, host bundle) and notes
    nodes = {p.split("/")[0] for p in configs}
    assert set(files) - set(configs) <= {"NOTES.md", "certs/ca-bundle.crt"} | {
        f"{n}/{name}" for n in nodes
        for name in ("certs/gitlab.example.org.crt", "gitlab-runner.service", "heptapod-paas-runner.service")
    }
    for path, text in configs.items():
        doc = tomllib.loads(text)
        assert check_config(doc) == [], path
        assert len(doc["runners"]) >= 1


def test_preproc_privileges_are_job_settings() -> None:
    files = stackgen.generate(["preproc"], "config-toml")
    runner = tomllib.loads(files["processing/config.toml"])["runners"][0]
    assert runner["docker"]["devices"] == ["/dev/fuse"]
    assert runner["docker"]["security_opt"] == ["apparmor=unconfined", "seccomp=unconfined"]
    assert runner["docker"]["privileged"] is False
    assert runner["token"] == "${RUNNER_TOKEN_PREPROC}"


def test_one_config_per_node_with_its_runners() -> None:
    files = stackgen.generate(["default", "bids", "preproc"], "config-toml")
    assert sorted(files) == ["NOTES.md", "data/config.toml", "data/gitlab-runner.service",
                             "processing/config.toml", "processing/gitlab-runner.service"]
    data = tomllib.loads(files["data/config.toml"])
    assert [r["name"] for r in data["runners"]] == ["default", "bids"]
    assert data["session_server"]["advertise_address"] == "data01.example.org:8093"


def test_session_server_only_when_asked() -> None:
    files = stackgen.generate(["bids"], "config-toml", sets=["manager.session_server.enabled=false"])
    assert "session_server" not in tomllib.loads(files["data/config.toml"])


def test_self_signed_certs_wire_runner_and_jobs() -> None:
    doc = tomllib.loads(stackgen.generate(["bids", "self-signed-certs"], "config-toml")["data/config.toml"])
    runner = doc["runners"][0]
    assert runner["tls-ca-file"] == "/etc/gitlab-runner/certs/gitlab.example.org.crt"
    assert any(v.endswith(":ro") and "ca-certificates.crt" in v for v in runner["docker"]["volumes"])


def test_dind_services_are_tables() -> None:
    doc = tomllib.loads(stackgen.generate(["dind-build"], "config-toml")["data/config.toml"])
    docker = doc["runners"][0]["docker"]
    assert docker["privileged"] is True
    assert docker["services"][0]["name"].endswith("-dind")
    assert docker["services"][0]["alias"] == "docker"


def test_set_overrides_last_and_types_are_kept() -> None:
    doc = tomllib.loads(
        stackgen.generate(["bids"], "config-toml", sets=["manager.concurrent=8", "runners.bids.limit=2"])[
            "data/config.toml"
        ]
    )
    assert doc["concurrent"] == 8
    assert doc["runners"][0]["limit"] == 2


def test_notes_say_how_each_node_gets_its_tokens() -> None:
    notes = stackgen.generate(["default", "bids", "preproc"], "config-toml")["NOTES.md"]
    assert "sudo install -m 0600 /dev/null /etc/gitlab-runner/tokens.env" in notes
    assert "systemctl enable --now gitlab-runner.service" in notes
    # older runners read token literally: one envsubst line per node, naming its variables
    assert 'envsubst "\\$RUNNER_TOKEN_DEFAULT \\$RUNNER_TOKEN_BIDS" < data/config.toml' in notes
    assert 'envsubst "\\$RUNNER_TOKEN_PREPROC" < processing/config.toml' in notes
