"""What the runner-manager deployments share: token secrets, the CA bundle, the notes.

swarm and compose hand each runner token to the manager as a secret file and ship
config.toml as a template still holding `${RUNNER_TOKEN_X}`; one wrapper script, run as the
service's entrypoint, writes the real config.toml from them before the runner starts.

config-toml, swarm and compose put the site CA in the same places for the same consumers:
the manager reads it at `/etc/gitlab-runner/certs/<gitlab-host>.crt` (`tls-ca-file`), and
job and service containers bind-mount `Fleet.ca_host_path` *from the Docker host*, because
the daemon, not the runner, resolves `[runners.docker] volumes` sources. No generated file
can put a file on a host, so each target writes the bundle plus a NOTES.md that says where
to install it; the notes come from one template, so the three targets say the same thing.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import Any

from stackgen.model import Fleet, Manager
from stackgen.records import dataclass
from stackgen.serialize.text import render_template
from stackgen.serialize.yaml import Literal
from stackgen.targets.extra_config import config_refs
from stackgen.targets.runner_config import CA_ENV_VARS, CONFIG_DIR, ca_job_targets, gitlab_ca_path

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


# Runner tokens reach the manager as secret files, never as environment variables: an
# environment value is readable in `docker inspect` / `docker service inspect` (and kept in
# swarm's raft store), and gitlab-runner only expands `${VAR}` in `token` since MR !6068
# (issue #39209), in no release up to v18.9.0 (the default image is v18.5.0), so the runner
# would send the literal text. The wrapper below writes config.toml at start instead.
SECRETS_DIR = "/run/secrets"  # where swarm and compose mount a secret without an absolute target
TEMPLATE_PATH = f"{CONFIG_DIR}/config.template.toml"
CONFIG_PATH = f"{CONFIG_DIR}/config.toml"
# The official image's ENTRYPOINT and CMD (gitlab-runner dockerfiles/runner/ubuntu/Dockerfile
# and alpine/Dockerfile). Setting `entrypoint:` drops the image's CMD, so both are restated.
IMAGE_ENTRYPOINT = ("/usr/bin/dumb-init", "/entrypoint")
IMAGE_COMMAND = ("run", "--user=gitlab-runner", "--working-directory=/home/gitlab-runner")
# glrt- tokens (routable ones too) are URL-safe base64 plus '.'. None of these characters is
# special in a sed replacement (`&`, `\`, the `|` delimiter) or in a TOML basic string.
TOKEN_CHARS = "A-Za-z0-9._-"
# Other credentials (S3 secret keys, a fork's API token) are base64 or hex: '+', '/', '='
# and '~' are still plain characters in a '|'-delimited sed replacement and a TOML string.
CREDENTIAL_CHARS = "A-Za-z0-9._~+/=-"


@dataclass(frozen=True)
class TokenSecret:
    """One runner token (or, with `runner=""`, another credential config.toml references,
    such as a cache's S3 keys) as a secret file: `env` is the `${VAR}` it stands for."""

    runner: str
    env: str

    @property
    def is_token(self) -> bool:
        return bool(self.runner)

    @property
    def key(self) -> str:
        """The secret's key in stack.yml / compose.yml, and its file name under /run/secrets."""
        if self.is_token:
            return f"runner-token-{self.runner}"
        return self.env.lower().replace("_", "-")

    @property
    def external_name(self) -> str:
        """The swarm secret the operator creates (at most 64 characters)."""
        return f"gitlab-runner-token-{self.runner}" if self.is_token else f"gitlab-runner-{self.key}"

    @property
    def path(self) -> str:
        return f"{SECRETS_DIR}/{self.key}"


def token_secrets(manager: Manager) -> list[TokenSecret]:
    """The manager's token secrets, one per token variable, in runner order.

    Two runners naming the same variable share one token, as they did in the environment.
    """
    secrets: dict[str, TokenSecret] = {}
    for r in manager.runners:
        secrets.setdefault(r.token.env, TokenSecret(r.name, r.token.env))
    for env in config_refs(manager):  # cache keys, ${VAR} in runner_config / manager_config
        secrets.setdefault(env, TokenSecret("", env))
    return list(secrets.values())


_READ_TOKEN = """\
read_token() {
  if [ ! -r "$1" ]; then
    echo "stackgen: cannot read $1, the runner token for $2" >&2
    exit 1
  fi
  t=$(cat "$1")
  case $t in
    '' | *[!CHARS]*)
      echo "stackgen: the runner token for $2 in $1 is empty or has characters other than CHARS" >&2
      exit 1 ;;
  esac
  printf '%s' "$t"
}
""".replace("CHARS", TOKEN_CHARS)
_READ_CREDENTIAL = (
    _READ_TOKEN.replace("read_token", "read_credential").replace("the runner token", "the credential")
    .replace(TOKEN_CHARS, CREDENTIAL_CHARS)
)


def wrapper_script(
    tokens: Sequence[tuple[str, str]],
    template: str = TEMPLATE_PATH,
    output: str = CONFIG_PATH,
    start: Sequence[str] = IMAGE_ENTRYPOINT,
    credentials: Sequence[tuple[str, str]] = (),
) -> str:
    """POSIX sh that writes `output` from `template` and then execs `start` with "$@".

    `tokens` are (variable, token file) pairs: each file must hold one token (a trailing
    newline, as `echo` leaves it, is dropped by $(...)), or the script exits 1 before it
    writes anything; `credentials` are the same for other secrets, with CREDENTIAL_CHARS.
    The paths are parameters so tests can run the script in a temp dir.
    """
    q = shlex.quote
    lines = [
        "# stackgen: write config.toml from its template and the token secrets, then start the runner",
        "set -eu",
        "umask 077",
        _READ_TOKEN.rstrip("\n"),
    ]
    if credentials:
        lines.append(_READ_CREDENTIAL.rstrip("\n"))
    every = [*((env, path, "read_token") for env, path in tokens),
             *((env, path, "read_credential") for env, path in credentials)]
    lines += [
        f"tok{i}=$({read} {q(path)} {env}) || exit 1" for i, (env, path, read) in enumerate(every)
    ]
    # [$] matches the literal dollar in any sed; '|' cannot occur in a checked token
    subs = [f"-e 's|[$]{{{env}}}|'\"$tok{i}\"'|g'" for i, (env, _, _) in enumerate(every)]
    lines.append(" \\\n  ".join(["sed", *subs, f"{q(template)} > {q(output + '.new')}"]))
    lines.append(f"mv -f {q(output + '.new')} {q(output)}")
    lines.append(" ".join(["exec", *map(q, start), '"$@"']))
    return "\n".join(lines) + "\n"


# Runner state beside config.toml that must outlive the container: .runner_system_id (else
# GitLab lists a new runner manager after every restart). The image declares
# /etc/gitlab-runner a VOLUME, so without a named volume each new container gets a fresh
# anonymous one. config.toml itself is rewritten from the secrets at every start.
STATE_VOLUME = "runner-state"


def state_mount(source: str) -> dict[str, Any]:
    """The named volume holding the manager's /etc/gitlab-runner state."""
    return {"type": "volume", "source": source, "target": CONFIG_DIR}


def token_entrypoint(manager: Manager) -> dict[str, Any]:
    """`entrypoint:` and `command:` for a manager service: the wrapper, then the image's own."""
    secrets = token_secrets(manager)
    script = wrapper_script(
        [(t.env, t.path) for t in secrets if t.is_token],
        credentials=[(t.env, t.path) for t in secrets if not t.is_token],
    )
    return {
        # sh -c SCRIPT NAME ARGS...: NAME becomes $0 and `command:` becomes "$@"
        "entrypoint": ["/bin/sh", "-c", Literal(escape_dollars(script)), "sh"],
        "command": list(IMAGE_COMMAND),
    }


def manager_trusts_ca(fleet: Fleet, manager: Manager) -> bool:
    """The manager's own TLS to GitLab uses the site CA (certs/<gitlab-host>.crt)."""
    return manager.trust_ca and bool(fleet.certificates)


def jobs_trust_ca(fleet: Fleet, manager: Manager) -> bool:
    """Some job container on this manager's node mounts the CA file from the host."""
    return any(ca_job_targets(fleet, r) for r in manager.runners)


# The official image's entrypoint adds a file at this path to the system trust store before
# the runner starts (dockerfiles/runner/*/entrypoint, CA_CERTIFICATES_PATH): the store the
# manager's Go HTTP client uses for the cache server, unlike tls-ca-file (GitLab only).
SYSTEM_CA_PATH = f"{CONFIG_DIR}/certs/ca.crt"


def cache_servers_behind_ca(fleet: Fleet, manager: Manager) -> list[str]:
    """S3 cache servers of this manager's runners that a site certificate covers."""
    hosts = {h for c in fleet.certificates for h in c.hosts}
    return sorted({
        r.cache.server_host for r in manager.runners
        if r.cache and r.cache.type == "s3" and not r.cache.insecure and r.cache.server_host in hosts
    })


CONTAINER_CACHE_TRUST = (
    f"here the bundle is also mounted at `{SYSTEM_CA_PATH}`, which the runner image's "
    "entrypoint adds to that store at start"
)


def manager_needs_system_ca(fleet: Fleet, manager: Manager) -> bool:
    """The stock image's manager must add the site CA to its store (a private cache server)."""
    return manager_trusts_ca(fleet, manager) and bool(cache_servers_behind_ca(fleet, manager))


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
        "ca_env": CA_ENV_VARS,
        # runners whose jobs push with a registry login at a known path (kaniko)
        "push_credentials": [
            (r.name, r.kubernetes.docker_config_path) for r in fleet.runners
            if r.kubernetes.docker_config_path
        ],
        "dind": any(r.runs_docker_daemon for m in job_nodes for r in m.runners),
        # S3 cache servers behind the site CA: the manager reaches them with its system store
        "cache_hosts": sorted({h for m in fleet.managers if manager_trusts_ca(fleet, m)
                               for h in cache_servers_behind_ca(fleet, m)}),
        "cache_delivery": CONTAINER_CACHE_TRUST,
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
