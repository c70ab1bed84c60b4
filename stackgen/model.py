"""The intermediate model: what a runner fleet *is*, independent of any target.

Composition builds one `Fleet`; every renderer reads only a `Fleet`. Nothing here knows
about profiles, site files or output formats, and this module imports nothing from the
rest of stackgen but its dataclass decorator (stackgen.records). All classes are frozen
and hold tuples, so a model is hashable, comparable and cannot be changed behind a
renderer's back.
"""

from __future__ import annotations

from dataclasses import field
from typing import Literal
from urllib.parse import urlsplit

from stackgen.records import dataclass

# The choices here are the only statement of them: the schema and validation read them.
PullPolicy = Literal["always", "if-not-present", "never"]
FuseMode = Literal["privileged", "device-plugin"]
LogLevel = Literal["debug", "info", "warn", "error", "fatal", "panic"]
CacheType = Literal["s3", "gcs", "azure"]
S3Auth = Literal["access-key", "iam"]
# A TOML table kept hashable: (key, value) pairs, nested tables as pairs, arrays as tuples.
Table = tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class Node:
    """A machine that hosts one runner manager (a swarm node, a compose host)."""

    name: str  # logical name from the site file, e.g. "processing"
    hostname: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    placement: tuple[str, ...] = ()  # extra swarm constraints from the site, e.g. node.role == worker

    def constraints(self) -> tuple[str, ...]:
        """Swarm placement constraints that select exactly this node."""
        if self.hostname:
            return (f"node.hostname == {self.hostname}", *self.placement)
        return (*(f"node.labels.{k} == {v}" for k, v in self.labels), *self.placement)


@dataclass(frozen=True)
class Certificate:
    """A PEM CA certificate and the hosts it is trusted for (GitLab, MinIO, Harbor...)."""

    name: str  # stem of the file name the targets write, e.g. "example-ca"
    pem: str  # the certificate text, normalised to end with one newline
    hosts: tuple[str, ...] = ()
    not_after: str | None = None  # ISO date, informational

    @property
    def filename(self) -> str:
        # update-ca-certificates only picks up files ending in .crt
        return f"{self.name}.crt"


@dataclass(frozen=True)
class Volume:
    """A volume in a job container: a host path, a named volume or an anonymous one."""

    target: str
    source: str | None = None  # absolute host path, a named volume, or None (anonymous)
    read_only: bool = False

    @property
    def is_host_path(self) -> bool:
        return bool(self.source) and self.source.startswith("/")  # type: ignore[union-attr]

    def spec(self) -> str:
        """The docker `[src:]dst[:ro]` form that `[runners.docker] volumes` takes."""
        text = f"{self.source}:{self.target}" if self.source else self.target
        return f"{text}:ro" if self.read_only else text


@dataclass(frozen=True)
class Service:
    """A service container started next to every job (e.g. docker:dind)."""

    name: str  # image reference
    alias: str | None = None
    command: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()


@dataclass(frozen=True)
class TokenRef:
    """Where a runner's authentication token comes from; never the token itself.

    config.toml names it as `${VAR}`: runners after 18.9 expand it themselves; the swarm and
    compose targets deliver the token as a secret file and write it in at container start;
    the Helm chart registers with the Secret its values name.
    """

    env: str


@dataclass(frozen=True)
class Cache:
    """The distributed cache (`[runners.cache]`): where the helper uploads cache archives.

    Credentials are environment variable names, never values: (runner key, variable), e.g.
    ("SecretKey", "CACHE_S3_SECRET_KEY"). Keys use the runner's CamelCase spelling.
    """

    type: CacheType = "s3"
    path: str = ""
    shared: bool = False
    bucket: str = ""  # BucketName (s3, gcs) or ContainerName (azure)
    server_address: str = ""  # s3: host[:port] of the object store (MinIO, Ceph, AWS)
    bucket_location: str = ""  # s3: the region; set, the manager need not ask the server
    insecure: bool = False  # s3: plain HTTP
    authentication_type: S3Auth = "access-key"  # s3: iam takes the instance's role instead
    credentials_file: str = ""  # gcs: a service account JSON file on the manager's host
    storage_domain: str = ""  # azure: blob.core.windows.net unless another cloud
    credentials: tuple[tuple[str, str], ...] = ()

    @property
    def server_host(self) -> str:
        """The object store's host name (no port), what a site certificate must cover."""
        address = self.server_address.rsplit("@", 1)[-1]
        return address.rsplit(":", 1)[0] if address.count(":") == 1 else address.strip("[]")


@dataclass(frozen=True)
class KubernetesOptions:
    """Job-pod settings used only where jobs run on Kubernetes."""

    namespace: str = "gitlab-ci"  # where job pods run (least privilege)
    manager_namespace: str = "gitlab-runner"  # where the manager pod runs
    node_selector: tuple[tuple[str, str], ...] = ()
    fuse: FuseMode = "privileged"  # how /dev/fuse reaches job pods when a runner needs it
    fuse_resource: str = "github.com/fuse"  # extended resource name of a FUSE device plugin
    data_claims: tuple[tuple[str, str], ...] = ()  # data name -> PVC claim name
    tolerations: tuple[str, ...] = ()  # taints the manager and job pods tolerate: key[=value]:Effect
    docker_config_secret: str | None = None  # dockerconfigjson Secret in the job namespace
    docker_config_path: str | None = None  # where jobs read it, e.g. /kaniko/.docker/config.json
    image_pull_secrets: tuple[str, ...] = ()  # dockerconfigjson Secrets for pulling job images
    pin_manager: bool = False  # also pin the manager pod to the node (it only talks to the API)


@dataclass(frozen=True)
class Runner:
    """One `[[runners]]` entry: a registered runner and the jobs it runs."""

    name: str
    description: str = ""
    tags: tuple[str, ...] = ()
    run_untagged: bool = False
    token: TokenRef = field(default_factory=lambda: TokenRef(env="RUNNER_TOKEN"))
    image: str = "alpine:3.20"  # the default for jobs that name none: a shell image
    privileged: bool = False
    devices: tuple[str, ...] = ()
    security_opt: tuple[str, ...] = ()
    cap_add: tuple[str, ...] = ()
    # the executor's cache directory persists only as a volume (`gitlab-runner register`
    # writes the same); `volumes: [!remove /cache]` drops it
    volumes: tuple[Volume, ...] = (Volume("/cache"),)
    services: tuple[Service, ...] = ()
    # tried in order; always asking the registry keeps one project from running an image
    # another project pulled with its own credentials, and :latest tags fresh
    pull_policy: tuple[PullPolicy, ...] = ("always",)
    environment: tuple[tuple[str, str], ...] = ()
    shm_size: int = 0
    limit: int = 0  # 0 = no per-runner limit
    helper_image: str | None = None
    trust_ca: bool = False  # mount the site CA bundle into job containers
    ca_job_path: str | None = None  # where jobs see the bundle (None: the fleet's default)
    kubernetes: KubernetesOptions = field(default_factory=KubernetesOptions)
    data: tuple[tuple[str, str], ...] = ()  # data names this runner mounts -> host path
    # docker (containers on the manager's host), shell (the host itself), kubernetes (job
    # pods), custom, or a fork's own executor name (Heptapod's clever-docker)
    executor: str = "docker"
    cache: Cache | None = None
    runner_config: Table = ()  # extra [[runners]] keys the model does not know (checked)

    @property
    def needs_fuse(self) -> bool:
        return "/dev/fuse" in self.devices or any(d.startswith("/dev/fuse:") for d in self.devices)

    @property
    def runs_docker_daemon(self) -> bool:
        """A docker:dind service runs its own daemon, which trusts registries via certs.d."""
        return any("dind" in s.name.rsplit("/", 1)[-1] for s in self.services)


@dataclass(frozen=True)
class SessionServer:
    """The interactive web terminal endpoint (`[session_server]`)."""

    listen_address: str = "[::]:8093"
    advertise_address: str = ""
    session_timeout: int = 1800

    @property
    def port(self) -> int:
        return int(self.listen_address.rsplit(":", 1)[1])


@dataclass(frozen=True)
class HostService:
    """A host-installed runner's systemd unit (config-toml target)."""

    # empty: `gitlab-runner run` as root, as `gitlab-runner install` sets it up: it reads
    # the root-only config and starts shell jobs as `job_user`
    command: tuple[str, ...] = ()
    user: str = ""  # the unit's User= (empty: root)
    job_user: str = "gitlab-runner"  # --user: who runs shell-executor jobs
    working_directory: str = "/home/gitlab-runner"
    config_path: str = "/etc/gitlab-runner/config.toml"
    environment_file: str = "/etc/gitlab-runner/tokens.env"  # root-only, read by systemd
    stop_signal: str = "SIGQUIT"  # gitlab-runner: take no new jobs, finish the running ones
    restart: str = "always"
    restart_sec: int = 5


@dataclass(frozen=True)
class Manager:
    """One gitlab-runner process (service, container or pod) and the runners it hosts."""

    name: str
    node: Node
    image: str  # the runner image that runs the manager
    runners: tuple[Runner, ...]
    concurrent: int = 4
    check_interval: int = 3
    shutdown_timeout: int = 30
    log_level: LogLevel = "info"
    session_server: SessionServer | None = None
    trust_ca: bool = False  # the manager itself trusts the site CA (TLS to GitLab)
    bake_ca: bool = False  # runs the CA-baked image (images.runner-ca) instead of the stock one
    stop_grace_period: str = "1h"  # time running jobs get to finish on SIGQUIT before a kill
    replicas: int = 1
    metrics: str | None = None  # listen_address of the Prometheus /metrics endpoint (off)
    config: Table = ()  # extra global config.toml keys (manager_config, checked)
    service: HostService = field(default_factory=HostService)

    @property
    def metrics_port(self) -> int | None:
        return int(self.metrics.rsplit(":", 1)[1]) if self.metrics else None


@dataclass(frozen=True)
class Fleet:
    """Everything the targets render: GitLab, trust, registry and the managers."""

    name: str
    gitlab_url: str
    managers: tuple[Manager, ...]
    certificates: tuple[Certificate, ...] = ()
    registry: str | None = None
    # the host's system bundle (with the site CA installed), mounted into jobs at a path of
    # its own: a bind over the job's /etc/ssl/certs/ca-certificates.crt would make
    # update-ca-certificates fail (EBUSY), and with it apt-get install ca-certificates
    ca_host_path: str = "/etc/ssl/certs/ca-certificates.crt"
    ca_job_path: str = "/etc/ssl/stackgen/ca-certificates.crt"
    runner_image_family: Literal["ubuntu", "alpine", "ubi"] | None = "ubuntu"  # None: unknown
    ca_image: str | None = None  # the CA-baked runner image built by the dockerfile target
    images: tuple[tuple[str, str], ...] = ()  # named image refs from the site (kaniko, dind...)
    flavor: str | None = None  # a runner fork whose extra config keys are allowed (heptapod)

    @property
    def gitlab_host(self) -> str:
        """GitLab's host name without port: the runner looks for certs/<host>.crt."""
        return urlsplit(self.gitlab_url).hostname or ""

    @property
    def runners(self) -> tuple[Runner, ...]:
        return tuple(r for m in self.managers for r in m.runners)

    @property
    def uses_ca(self) -> bool:
        return bool(self.certificates) and (
            any(m.trust_ca for m in self.managers) or any(r.trust_ca for r in self.runners)
        )

    def image(self, key: str) -> str | None:
        return dict(self.images).get(key)

    @property
    def ca_registries(self) -> tuple[str, ...]:
        """Registry addresses (`host[:port]`, docker's certs.d names) the site CA covers."""
        if not self.registry:
            return ()
        address = self.registry.split("/", 1)[0]
        host = address.rsplit(":", 1)[0] if address.count(":") == 1 else address
        covered = any(host in c.hosts or address in c.hosts for c in self.certificates)
        return (address,) if covered else ()


def freeze(data: object) -> object:
    """Plain TOML-like data (dicts, lists, scalars) as hashable tuples (see `Table`)."""
    if isinstance(data, dict):
        return tuple((str(k), freeze(v)) for k, v in data.items())
    if isinstance(data, list):
        return ("__array__", *(freeze(v) for v in data))
    return data


def thaw(data: object) -> object:
    """The plain data `freeze` made hashable."""
    if isinstance(data, tuple):
        if data[:1] == ("__array__",):
            return [thaw(v) for v in data[1:]]
        return {k: thaw(v) for k, v in data}
    return data


def table_dict(table: Table) -> dict[str, object]:
    return {k: thaw(v) for k, v in table}
