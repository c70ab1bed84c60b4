"""One CA bundle, every consumer: the compose, swarm, config-toml and dockerfile outputs agree.

For `bids preproc self-signed-certs` (and the kaniko/dind variants) every place that must
trust the site CA gets the same certificates: the runner image, the manager's TLS to
GitLab, job containers, kaniko's extra-certs directory and the dind daemon's certs.d.
"""

from __future__ import annotations

import tomllib
from typing import Any

import pytest
from cryptography import x509
from ruamel.yaml import YAML

import stackgen
from stackgen.model import Fleet

SETS = [
    ("bids", "preproc", "self-signed-certs"),
    ("bids", "preproc", "kaniko-harbor", "dind-build", "self-signed-certs"),
]
TARGETS = ("compose", "swarm", "config-toml", "dockerfile")


def fingerprints(pem: str) -> set[bytes]:
    return {c.fingerprint(c.signature_hash_algorithm) for c in x509.load_pem_x509_certificates(pem.encode())}  # type: ignore[arg-type]


def yaml(text: str) -> Any:
    return YAML(typ="safe").load(text)


@pytest.fixture(params=SETS, ids="+".join)
def rendered(request: pytest.FixtureRequest) -> tuple[Fleet, dict[str, dict[str, str]]]:
    fleet = stackgen.build(list(request.param))
    return fleet, {t: stackgen.render(fleet, t) for t in TARGETS}


def test_every_certificate_file_holds_the_site_ca(rendered: tuple[Fleet, dict[str, dict[str, str]]]) -> None:
    fleet, out = rendered
    site = fingerprints("".join(c.pem for c in fleet.certificates))
    for target, files in out.items():
        crts = {p: t for p, t in files.items() if p.endswith(".crt")}
        assert crts, target
        for path, text in crts.items():
            found = fingerprints(text)
            # the runner's file and the host bundle carry all of it; the image's system
            # store gets it one certificate per file, together all of it
            assert found <= site, (target, path)
        assert set().union(*(fingerprints(t) for t in crts.values())) == site, target


def test_config_toml_is_identical_for_every_deployment(rendered: tuple[Fleet, dict[str, dict[str, str]]]) -> None:
    fleet, out = rendered
    for manager in fleet.managers:
        path = f"{manager.name}/config.toml"
        docs = [tomllib.loads(out[t][path]) for t in ("compose", "swarm", "config-toml")]
        assert docs[0] == docs[1] == docs[2], path


def test_manager_tls_file_is_delivered_where_tls_ca_file_points(
    rendered: tuple[Fleet, dict[str, dict[str, str]]],
) -> None:
    fleet, out = rendered
    ca_path = f"/etc/gitlab-runner/certs/{fleet.gitlab_host}.crt"
    bundle = "".join(c.pem for c in fleet.certificates)
    stack = yaml(out["swarm"]["stack.yml"])
    for manager in fleet.managers:
        doc = tomllib.loads(out["config-toml"][f"{manager.name}/config.toml"])
        assert {r["tls-ca-file"] for r in doc["runners"]} == {ca_path}
        # config-toml: the node folder is /etc/gitlab-runner
        assert out["config-toml"][f"{manager.name}/certs/{fleet.gitlab_host}.crt"] == bundle
        # compose: a config mounted at that path from the node folder
        project = yaml(out["compose"][f"{manager.name}/compose.yml"])
        (mount,) = project["services"]["runner"]["configs"]
        assert mount["target"] == ca_path
        source = project["configs"][mount["source"]]["file"].removeprefix("./")
        assert out["compose"][f"{manager.name}/{source}"] == bundle
        # swarm: a config mounted at that path from certs/
        (smount,) = stack["services"][f"runner-{manager.name}"]["configs"]
        assert smount["target"] == ca_path
        assert out["swarm"][stack["configs"][smount["source"]]["file"].removeprefix("./")] == bundle
    # the image: the same bundle at the same path, the system store updated after the copy
    dockerfile = out["dockerfile"]["Dockerfile"]
    assert f"COPY gitlab-runner-certs/{fleet.gitlab_host}.crt {ca_path}\n" in dockerfile
    assert out["dockerfile"][f"gitlab-runner-certs/{fleet.gitlab_host}.crt"] == bundle
    assert dockerfile.index("/usr/local/share/ca-certificates/") < dockerfile.index("RUN update-ca-certificates")


def test_managers_run_the_stock_image_unless_baking_is_asked_for(
    rendered: tuple[Fleet, dict[str, dict[str, str]]],
) -> None:
    fleet, out = rendered
    assert fleet.ca_image
    stack = yaml(out["swarm"]["stack.yml"])
    for manager in fleet.managers:
        project = yaml(out["compose"][f"{manager.name}/compose.yml"])
        assert project["services"]["runner"]["image"] == fleet.image("runner")
        assert stack["services"][f"runner-{manager.name}"]["image"] == fleet.image("runner")
    baked = stackgen.build(["bids", "preproc", "self-signed-certs"], sets=["manager.bake_ca=true"])
    assert {m.image for m in baked.managers} == {fleet.ca_image}
    assert f"docker build -t {fleet.ca_image} ." in out["dockerfile"]["NOTES.md"]
    assert f"FROM {fleet.image('runner')}\n" in out["dockerfile"]["Dockerfile"]


def test_jobs_mount_the_host_file_the_notes_install(
    rendered: tuple[Fleet, dict[str, dict[str, str]]],
) -> None:
    fleet, out = rendered
    expected = {
        "bids": [fleet.ca_job_path],
        "preproc": [fleet.ca_job_path],
        "kaniko-harbor": ["/kaniko/ssl/certs/stackgen-ca.crt"],  # kaniko's extra-certs dir
        "dind-build": [fleet.ca_job_path],
    }
    for manager in fleet.managers:
        doc = tomllib.loads(out["config-toml"][f"{manager.name}/config.toml"])
        for runner in doc["runners"]:
            volumes = runner["docker"]["volumes"]
            mounts = [v for v in volumes if v.startswith(fleet.ca_host_path + ":")]
            assert mounts == [f"{fleet.ca_host_path}:{t}:ro" for t in expected[runner["name"]]]
            # never over the job's own bundle: update-ca-certificates renames over it
            assert not any(v.split(":")[1:2] == ["/etc/ssl/certs/ca-certificates.crt"] for v in volumes)
            env = dict(e.split("=", 1) for e in runner["environment"])
            assert env["SSL_CERT_FILE"] == env["GIT_SSL_CAINFO"] == expected[runner["name"]][0]
            # the dind service gets the job's binds: its daemon trusts Harbor through certs.d,
            # mounted as a directory (a registry port's ':' cannot be in a destination)
            dind = runner["name"] == "dind-build"
            assert ("/etc/docker/certs.d:/etc/docker/certs.d:ro" in volumes) is dind
    install = f"sudo install -m 0644 certs/ca-bundle.crt /usr/local/share/ca-certificates/stackgen-{fleet.name}.crt"
    for target in ("compose", "swarm", "config-toml"):
        notes = out[target]["NOTES.md"]
        assert install in notes and "sudo update-ca-certificates" in notes, target
        assert f"`{fleet.ca_host_path}` must include the site CA on" in notes, target
        assert "/etc/docker/certs.d/harbor.example.org/ca.crt" in notes, target
        # the bundle the notes install is in the output, at that path
        bundles = [p for p in out[target] if p.endswith("certs/ca-bundle.crt")]
        assert bundles and all(
            out[target][p] == "".join(c.pem for c in fleet.certificates) for p in bundles
        ), target


def test_trust_sections_say_the_same_thing(rendered: tuple[Fleet, dict[str, dict[str, str]]]) -> None:
    _, out = rendered

    def section(target: str) -> list[str]:
        text = out[target]["NOTES.md"]
        body = text[text.index("## The site CA"):].split("## The runner image")[0].rstrip()
        # only the sentence about how this target delivers the manager's file differs
        return [line for line in body.splitlines() if not line.startswith("Here ") and
                not line.startswith("Each node folder")]

    assert section("compose") == section("swarm") == section("config-toml")
