"""`dockerfile`: the gitlab-runner image with the site CA baked in, as a complete build context.

`docker build <dir>` needs nothing else: the Dockerfile (templates/Dockerfile.j2), every
certificate it copies, a .dockerignore that sends only those files, and NOTES.md on how
to build it on, or push it for, the nodes (`images.runner-ca` is the tag swarm and compose
run). The base is the site's pinned `images.runner`; its OS family (Ubuntu for
`gitlab/gitlab-runner:<tag>`, Alpine for `:alpine-<tag>`) decides nothing that could go
wrong on the other one: both ship ca-certificates and update-ca-certificates, and no
package manager is called, so no `apk` on Ubuntu (seed 000) and no network at build time.
"""

from __future__ import annotations

from stackgen.checks import runner_image_pin_bad
from stackgen.checks.runner_keys import EXECUTORS
from stackgen.errors import Problem, UserError
from stackgen.model import Fleet
from stackgen.records import dataclass
from stackgen.serialize.text import render_template
from stackgen.targets.docker_host import node_label
from stackgen.targets.runner_config import ca_bundle_pem, gitlab_ca_path, refuse_executors

FAMILIES = {"ubuntu": "Ubuntu", "alpine": "Alpine"}
# update-ca-certificates (Debian and Alpine alike) reads *.crt directly in this directory
SYSTEM_CA_DIR = "/usr/local/share/ca-certificates"
PEM_END = "-----END CERTIFICATE-----\n"


@dataclass(frozen=True)
class CaFile:
    """One certificate file of the build context and where the image gets it."""

    source: str  # path in the build context
    dest: str  # absolute path in the image
    pem: str
    about: str


def _fail(message: str, hint: str) -> UserError:
    return UserError(Problem(message, None, "images.runner", hint))


def _base_image(fleet: Fleet) -> str:
    base = fleet.image("runner") or ""
    if fleet.runner_image_family is None:
        raise _fail(
            f"cannot tell the OS family of runner image {base!r}: the dockerfile target knows "
            "gitlab/gitlab-runner:<tag> (Ubuntu) and gitlab/gitlab-runner:alpine-<tag> (Alpine)",
            "use one of those (a mirror path ending in gitlab-runner is fine) as images.runner",
        )
    if fleet.runner_image_family == "ubi":
        # UBI keeps its trust in /etc/pki/ca-trust/source/anchors/ (update-ca-trust, no
        # update-ca-certificates) and runs as a non-root user: another recipe entirely
        raise _fail(
            f"runner image {base!r} is Red Hat UBI based, which the dockerfile target does not "
            "support (its trust store is /etc/pki/ca-trust with update-ca-trust)",
            "bake the CA into gitlab/gitlab-runner:v<version> or alpine-v<version>, or keep the "
            "stock UBI image: the manager trusts GitLab through tls-ca-file without baking",
        )
    bad = runner_image_pin_bad(base)
    if bad:
        raise _fail(bad[0], bad[1] or "")
    return base


def registry_host(ref: str) -> str | None:
    """The registry part of an image reference, as `docker login` takes it (None: Docker Hub)."""
    first, slash, _ = ref.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return None


def _tag(ref: str) -> str:
    return ref.split("@", 1)[0].rsplit("/", 1)[-1].partition(":")[2]


def ca_files(fleet: Fleet) -> list[CaFile]:
    """The system-store files (one certificate each) and the runner's certs/<host>.crt."""
    files = []
    for cert in fleet.certificates:
        blocks = [b + PEM_END for b in cert.pem.split(PEM_END) if b.strip()]
        for i, block in enumerate(blocks, start=1):
            # one certificate per file: openssl rehash links only a file's first one; the
            # "stackgen-" prefix keeps clear of ca.crt, which the image's entrypoint
            # overwrites from /etc/gitlab-runner/certs/ca.crt
            stem = f"stackgen-{cert.name}" + (f"-{i}" if len(blocks) > 1 else "")
            hosts = ", ".join(cert.hosts) or "no declared hosts"
            files.append(
                CaFile(f"ca-certificates/{stem}.crt", f"{SYSTEM_CA_DIR}/{stem}.crt", block,
                       f"{cert.name} ({hosts}), valid until {cert.not_after}")
            )
    target = gitlab_ca_path(fleet)
    files.append(
        CaFile(f"gitlab-runner-certs/{fleet.gitlab_host}.crt", target, ca_bundle_pem(fleet),
               f"the whole site bundle, for the runner's TLS to {fleet.gitlab_host}")
    )
    return files


def render(fleet: Fleet) -> dict[str, str]:
    refuse_executors(fleet, EXECUTORS, "dockerfile", "the image is gitlab-runner's, and a "
                     "fork's executor runs only in that fork's own program")
    base = _base_image(fleet)
    if not fleet.certificates:
        raise UserError(
            Problem(
                "the site file lists no certificates: the dockerfile target has no CA to bake in",
                None,
                "certificates",
                "certificates: {site-ca: {file: certs/ca.crt, hosts: [gitlab.example.org]}}",
            )
        )
    family = fleet.runner_image_family
    assert family is not None  # _base_image refused None
    files = ca_files(fleet)
    tag = fleet.ca_image or f"gitlab-runner-ca:{_tag(base) or 'local'}"
    context = {
        "base_image": base,
        "family": family,
        "family_label": FAMILIES[family],
        "fleet_name": fleet.name,
        "gitlab_host": fleet.gitlab_host,
        "system_files": files[:-1],
        "runner_file": files[-1],
        "system_dir": SYSTEM_CA_DIR,
        "tag": tag,
        "push_registry": registry_host(tag),
        "tag_configured": fleet.ca_image is not None,
        # swarm and compose run this image only where a manager trusts the CA (self-signed-certs)
        "in_use": any(m.image == fleet.ca_image for m in fleet.managers),
        "runner_image": fleet.image("runner"),
        "registries": fleet.ca_registries,
        "nodes": [
            (m.name, m.node.hostname or f"<host of node {m.name}>", node_label(m))
            for m in fleet.managers
        ],
    }
    out = {f.source: f.pem for f in files}
    out["Dockerfile"] = render_template("Dockerfile.j2", **context)
    out["NOTES.md"] = render_template("dockerfile-notes.md.j2", **context)
    # send only the files the Dockerfile copies: a stray key in this folder stays out
    out[".dockerignore"] = "\n".join(
        ["# Generated by stackgen: the build context is the Dockerfile's COPY sources only", "*"]
        + [f"!{f.source}" for f in files]
    ) + "\n"
    return dict(sorted(out.items()))
