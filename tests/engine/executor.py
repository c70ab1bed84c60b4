"""Job containers as gitlab-runner's docker executor creates them from `[runners.docker]`.

The executor (executors/docker in gitlab-runner) calls ContainerCreate with a HostConfig
built from config.toml: `volumes` with a host part become Binds verbatim, those without one
become container volumes; `devices` become device mappings; `security_opt`, `cap_add`,
`cap_drop`, `privileged`, `shm_size` pass through; `[runners] environment` is the job's
environment. It keeps the image's ENTRYPOINT and passes its shell-detection script as the
command. Services run on a per-job network under their aliases, with the same Binds and
`privileged`, but not the job's devices or security options (those have services_* keys).

Job images named in config.toml cannot be pulled here: the Debian image stands in for them
(and for service images), which is what the checks inside need (a shell, openssl, Python).
"""

from __future__ import annotations

import io
import tarfile
import uuid
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors

# the executor's shell detection (shells/bash.go, BashDetectShellScript), abridged: it
# picks the first shell the image has and runs the job script with it
DETECT_SHELL = (
    'if [ -x /usr/local/bin/bash ]; then exec /usr/local/bin/bash -c "echo job-started:bash"; '
    'elif [ -x /usr/bin/bash ]; then exec /usr/bin/bash -c "echo job-started:bash"; '
    'elif [ -x /bin/bash ]; then exec /bin/bash -c "echo job-started:bash"; '
    'elif [ -x /bin/sh ]; then exec /bin/sh -c "echo job-started:sh"; '
    'else echo shell not found; exit 1; fi'
)
KEEP_RUNNING = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
CAPS_REFUSED = "operation not permitted"  # runc here cannot apply a privileged container's caps


@dataclass
class Volumes:
    binds: list[str] = field(default_factory=list)  # host part: verbatim
    anonymous: list[str] = field(default_factory=list)  # destinations
    read_only: list[str] = field(default_factory=list)  # destinations mounted :ro


def split_volumes(specs: list[str]) -> Volumes:
    """`[src:]dst[:mode]` as the executor sorts them (the daemon parses the Binds itself)."""
    out = Volumes()
    for spec in specs:
        parts = spec.split(":")
        mode = parts[-1] if len(parts) > 1 and parts[-1] in ("ro", "rw") else None
        rest = parts[:-1] if mode else parts
        if len(rest) == 1:
            out.anonymous.append(rest[0])
        else:
            out.binds.append(spec)
        if mode == "ro":
            out.read_only.append(":".join(rest[1:]) if len(rest) > 1 else rest[0])
    return out


def device_paths(specs: list[str]) -> list[str]:
    """The container paths of `host[:container[:perms]]` device specs."""
    return [(spec.split(":") + [spec])[1] if ":" in spec else spec for spec in specs]


def host_config(api: docker.APIClient, table: dict[str, Any], *, privileged: bool | None = None,
                network: str | None = None) -> dict[str, Any]:
    vols = split_volumes(list(table.get("volumes", [])))
    shm = table.get("shm_size", 0)
    return api.create_host_config(  # type: ignore[no-any-return]
        binds=vols.binds or None,
        devices=[d if d.count(":") else f"{d}:{d}:rwm" for d in table.get("devices", [])] or None,
        security_opt=list(table.get("security_opt", [])) or None,
        cap_add=list(table.get("cap_add", [])) or None,
        cap_drop=list(table.get("cap_drop", [])) or None,
        privileged=table.get("privileged", False) if privileged is None else privileged,
        shm_size=shm or None,
        network_mode=network,
    )


def service_host_config(api: docker.APIClient, table: dict[str, Any], network: str, *,
                        privileged: bool | None = None) -> dict[str, Any]:
    vols = split_volumes(list(table.get("volumes", [])))
    return api.create_host_config(  # type: ignore[no-any-return]
        binds=vols.binds or None,
        privileged=table.get("privileged", False) if privileged is None else privileged,
        shm_size=table.get("shm_size", 0) or None,
        network_mode=network,
    )


def service_aliases(service: dict[str, Any]) -> list[str]:
    """The names a service answers to: its alias, and the name derived from its image
    (docker:27.3-dind -> docker, and the executor's `/` -> `__` and `-` variants)."""
    image = service["name"].split("@")[0]
    repo = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    names = [service["alias"]] if service.get("alias") else []
    names += [repo.replace("/", "__"), repo.replace("/", "-")]
    return list(dict.fromkeys(names))


@dataclass
class Job:
    """One runner's job: its containers on the engine, and what happened creating them."""

    runner: dict[str, Any]
    image: str
    error: str | None = None  # the engine's refusal, verbatim
    notes: list[str] = field(default_factory=list)
    container: Any = None  # the running container the checks exec in
    created: list[Any] = field(default_factory=list)
    network: Any = None

    @property
    def table(self) -> dict[str, Any]:
        return dict(self.runner.get("docker", {}))


def _create(client: docker.DockerClient, image: str, hc: dict[str, Any], *, command: list[str],
            env: list[str], anonymous: list[str], network: str | None, aliases: list[str] | None,
            name: str) -> Any:
    api = client.api
    networking = api.create_networking_config({network: api.create_endpoint_config(aliases=aliases)}) \
        if network else None
    created = api.create_container(image, command=command, environment=env or None, volumes=anonymous or None,
                                   host_config=hc, networking_config=networking, name=name,
                                   labels={"io.stackgen.engine-test": "job"})
    return client.containers.get(created["Id"])


def start_job(client: docker.DockerClient, runner: dict[str, Any], image: str, *,
              command: list[str] | None = None, with_services: bool = True) -> Job:
    """Create and start `runner`'s job container (and services) as the executor would.

    A privileged container is created with its full HostConfig (the engine accepts or
    refuses it); where runc cannot start privileged containers (this sandbox: "unable to
    apply caps: operation not permitted"), an unprivileged twin with the same mounts,
    devices and options starts instead, so the checks inside still run. Job.notes says so.
    """
    job = Job(runner, image)
    table = job.table
    vols = split_volumes(list(table.get("volumes", [])))
    env = list(runner.get("environment", []))
    uid = uuid.uuid4().hex[:10]
    network = None
    try:
        if with_services and table.get("services"):
            job.network = client.networks.create(f"sg-job-{uid}", driver="bridge",
                                                 labels={"io.stackgen.engine-test": "job"})
            network = job.network.name
            for i, service in enumerate(table["services"]):
                svc_image = service["name"] if _has(client, service["name"]) else image
                if svc_image != service["name"]:
                    job.notes.append(f"service image {service['name']} is not on this engine: "
                                     f"the Debian image stands in for it")
                hc = service_host_config(client.api, table, network)
                svc = _create(client, svc_image, hc, command=KEEP_RUNNING, env=[], anonymous=vols.anonymous,
                              network=network, aliases=service_aliases(service), name=f"sg-job-{uid}-svc{i}")
                job.created.append(svc)
                _start(client, job, svc, lambda: service_host_config(client.api, table, network, privileged=False),
                       svc_image, KEEP_RUNNING, [], vols.anonymous, network, service_aliases(service),
                       f"sg-job-{uid}-svc{i}-unpriv")
        hc = host_config(client.api, table, network=network)
        job.container = _create(client, image, hc, command=command or KEEP_RUNNING, env=env,
                                anonymous=vols.anonymous, network=network, aliases=None, name=f"sg-job-{uid}")
        job.created.append(job.container)
        job.container = _start(client, job, job.container,
                               lambda: host_config(client.api, table, privileged=False, network=network),
                               image, command or KEEP_RUNNING, env, vols.anonymous, network, None,
                               f"sg-job-{uid}-unpriv")
    except docker.errors.APIError as e:
        job.error = str(e.explanation or e)
    return job


def _start(client: docker.DockerClient, job: Job, container: Any, unprivileged: Any, image: str,
           command: list[str], env: list[str], anonymous: list[str], network: str | None,
           aliases: list[str] | None, name: str) -> Any:
    try:
        container.start()
        return container
    except docker.errors.APIError as e:
        if not (container.attrs["HostConfig"].get("Privileged") and CAPS_REFUSED in str(e)):
            raise
    job.notes.append(f"{container.name}: privileged container created, but this engine cannot start "
                     "privileged containers; its checks run in an unprivileged twin with the same mounts")
    twin = _create(client, image, unprivileged(), command=command, env=env, anonymous=anonymous,
                   network=network, aliases=aliases, name=name)
    job.created.append(twin)
    twin.start()
    return twin


def _has(client: docker.DockerClient, ref: str) -> bool:
    try:
        client.images.get(ref)
        return True
    except docker.errors.ImageNotFound:
        return False


def remove(job: Job) -> None:
    for container in reversed(job.created):
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
    if job.network is not None:
        job.network.remove()


def put_file(container: Any, path: str, data: bytes, mode: int = 0o644) -> None:
    directory, _, name = path.rpartition("/")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), mode
        tar.addfile(info, io.BytesIO(data))
    container.exec_run(["mkdir", "-p", directory])
    assert container.put_archive(directory or "/", buf.getvalue())


def sh(container: Any, script: str) -> tuple[int, str]:
    code, output = container.exec_run(["sh", "-c", script])
    return code, output.decode(errors="replace")
