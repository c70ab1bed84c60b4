"""What the runner-manager deployments share: token references, the CA bundle, the notes.

config-toml, swarm and compose put the site CA in the same places for the same consumers:
the manager reads it at `/etc/gitlab-runner/certs/<gitlab-host>.crt` (`tls-ca-file`), and
job and service containers bind-mount `Fleet.ca_host_path` *from the Docker host*, because
the daemon, not the runner, resolves `[runners.docker] volumes` sources. No generated file
can put a file on a host, so each target writes the bundle plus a NOTES.md that says where
to install it; the notes come from one template, so the three targets say the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..model import Fleet, Manager
from .runner_toml import ca_job_targets, gitlab_ca_path
from .text import render_template

BUNDLE = "ca-bundle.crt"
NOTES = "NOTES.md"

# System bundles that a distribution tool rebuilds from a drop-in directory:
# path -> (distributions, drop-in directory, rebuild command)
SYSTEM_BUNDLES: dict[str, tuple[str, str, str]] = {
    "/etc/ssl/certs/ca-certificates.crt": (
        "Debian, Ubuntu and Alpine",
        "/usr/local/share/ca-certificates",
        "update-ca-certificates",
    ),
    "/etc/pki/tls/certs/ca-bundle.crt": (
        "RHEL, Rocky and Fedora",
        "/etc/pki/ca-trust/source/anchors",
        "update-ca-trust",
    ),
}


def escape_dollars(text: str) -> str:
    # compose and stack files interpolate $VAR: a literal dollar must be written $$
    return text.replace("$", "$$")


def token_env(manager: Manager) -> dict[str, str]:
    """The manager container's environment: each token passed through by name, never its value.

    `${VAR:?message}` makes `docker stack deploy` and `docker compose up` refuse to start
    while the variable is unset, instead of registering an empty token.
    """
    return {
        r.token.env: f"${{{r.token.env}:?export {r.token.env} with the runner authentication token}}"
        for r in manager.runners
    }


def manager_trusts_ca(fleet: Fleet, manager: Manager) -> bool:
    """The manager's own TLS to GitLab uses the site CA (certs/<gitlab-host>.crt)."""
    return manager.trust_ca and bool(fleet.certificates)


def jobs_trust_ca(fleet: Fleet, manager: Manager) -> bool:
    """Some job container on this manager's node mounts the CA file from the host."""
    return any(ca_job_targets(fleet, r) for r in manager.runners)


def uses_ca(fleet: Fleet, manager: Manager) -> bool:
    return manager_trusts_ca(fleet, manager) or jobs_trust_ca(fleet, manager)


def node_label(manager: Manager) -> str:
    node = manager.node
    if node.hostname:
        return node.hostname
    labels = ", ".join(f"{k}={v}" for k, v in node.labels)
    return f"the node labelled {labels}"


def trust_context(fleet: Fleet, bundle: str, delivery: str) -> dict[str, Any]:
    """Template values for templates/host-trust.md.j2.

    `bundle` is the bundle's path as the reader finds it in the output, `delivery` says how
    this target gets it to the manager's certs/<gitlab-host>.crt.
    """
    job_nodes = [m for m in fleet.managers if jobs_trust_ca(fleet, m)]
    system = SYSTEM_BUNDLES.get(fleet.ca_host_path)
    return {
        "bundle": bundle,
        "delivery": delivery,
        "certificates": fleet.certificates,
        "gitlab_host": fleet.gitlab_host,
        "gitlab_ca_path": gitlab_ca_path(fleet),
        "manager_tls": any(manager_trusts_ca(fleet, m) for m in fleet.managers),
        "job_hosts": [node_label(m) for m in job_nodes],
        "job_mounts": [
            (r.name, ca_job_targets(fleet, r)) for m in job_nodes for r in m.runners
            if ca_job_targets(fleet, r)
        ],
        "ca_host_path": fleet.ca_host_path,
        "system": system,
        "other_systems": [(p, s) for p, s in SYSTEM_BUNDLES.items() if p != fleet.ca_host_path],
        "install_name": f"stackgen-{fleet.name}.crt",
        "registries": fleet.ca_registries,
        "all_hosts": [node_label(m) for m in fleet.managers],
    }


def image_context(fleet: Fleet, managers: Sequence[Manager]) -> dict[str, Any]:
    """Template values saying whether the managers run the CA-baked image (built, not pulled)."""
    baked = fleet.ca_image is not None and any(m.image == fleet.ca_image for m in managers)
    return {"ca_image": fleet.ca_image if baked else None}


def trust_notes(fleet: Fleet, title: str, bundle: str, delivery: str, image: bool = True) -> str:
    """A NOTES.md holding the site-CA section (for config-toml and swarm).

    `image`: the managers run as containers, so say how the CA-baked image gets to them.
    """
    return render_template(
        "trust-notes.md.j2",
        title=title,
        **trust_context(fleet, bundle, delivery),
        **image_context(fleet, fleet.managers if image else ()),
    )
