"""The runner's config.toml, built as data (stackgen.serialize.toml): the one TOML code path.

`config-toml`, `swarm`, `compose` and `helm` all call this, so a runner setting is
spelled one way everywhere. Only keys GitLab Runner reads are emitted, with the types its
strict decoder wants (https://docs.gitlab.com/runner/configuration/advanced-configuration/):
hyphenated `tls-ca-file` in `[[runners]]`, snake_case in `[runners.docker]`.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

from stackgen.checks.runner_keys import docker_executors
from stackgen.model import Cache, Fleet, Manager, Runner
from stackgen.serialize.toml import AoT, Table, dumps
from stackgen.targets.extra_config import merge_manager, merge_runner

# Where the runner looks for the CA of GitLab: certs/<host>.crt beside config.toml.
CONFIG_DIR = "/etc/gitlab-runner"


def gitlab_ca_path(fleet: Fleet) -> str:
    return f"{CONFIG_DIR}/certs/{fleet.gitlab_host}.crt"


def ca_bundle_pem(fleet: Fleet) -> str:
    """All site CA certificates in one PEM bundle, in site-file order."""
    return "".join(c.pem for c in fleet.certificates)


def token_ref(runner: Runner) -> str:
    # a reference, never the value: runners after 18.9 expand it at load time (MR !6068);
    # swarm and compose substitute it at container start (targets/docker_host.py wrapper_script)
    return "${" + runner.token.env + "}"


# Where the host's Docker daemon (and a docker:dind service) looks up a registry's CA:
# certs.d/<host[:port]>/ca.crt. The whole directory is mounted, never one file, because a
# bind destination cannot hold the ':' of a registry port (the engine and gitlab-runner's
# volume parser both refuse it).
CERTS_D = "/etc/docker/certs.d"

# Clients that read a CA bundle path from the environment: OpenSSL (and so wget, Python's
# ssl), git, curl, Python requests, Node.js. The job keeps its own system bundle untouched,
# so `update-ca-certificates` (run by any apt-get install of CA packages) still works.
CA_ENV_VARS = ("SSL_CERT_FILE", "GIT_SSL_CAINFO", "CURL_CA_BUNDLE", "REQUESTS_CA_BUNDLE",
               "NODE_EXTRA_CA_CERTS")


def ca_job_targets(fleet: Fleet, runner: Runner) -> list[str]:
    """Where job and service containers of `runner` see the CA (none: no trust).

    The first is the bundle the CA_ENV_VARS point at; a runner with a docker:dind service
    also gets each covered registry's certs.d/<host:port>/ca.crt.
    """
    if not (runner.trust_ca and fleet.certificates):
        return []
    targets = [runner.ca_job_path or fleet.ca_job_path]
    if runner.runs_docker_daemon:
        # the executor gives service containers the same binds as the job container
        # (gitlab-runner executors/docker/docker.go createHostConfigForService)
        targets += [f"{CERTS_D}/{r}/ca.crt" for r in fleet.ca_registries]
    return targets


def ca_environment(fleet: Fleet, runner: Runner) -> list[tuple[str, str]]:
    """The CA_ENV_VARS pointing at the job's CA bundle, except those the runner sets itself."""
    targets = ca_job_targets(fleet, runner)
    if not targets:
        return []
    own = {k for k, _ in runner.environment}
    return [(k, targets[0]) for k in CA_ENV_VARS if k not in own]


def docker_volumes(fleet: Fleet, runner: Runner) -> list[str]:
    """Job-container volumes, with the CA bundle from the host where the runner trusts it."""
    specs = [v.spec() for v in runner.volumes]
    targets = ca_job_targets(fleet, runner)
    if targets:
        # the source is a path on the Docker host: the daemon, not the runner, resolves it
        specs.append(f"{fleet.ca_host_path}:{targets[0]}:ro")
    if targets[1:]:
        specs.append(f"{CERTS_D}:{CERTS_D}:ro")
    return specs


def _table(items: dict[str, Any], table: Table | None = None) -> Table:
    """A table of the set values, in the given order (None and empty lists are left out);
    `table`: add them to this one instead."""
    table = Table() if table is None else table
    for key, value in items.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            if not value:
                continue
            if isinstance(value, tuple):
                value = list(value)
        table.add(key, value)
    return table


def _docker_table(fleet: Fleet, runner: Runner) -> Table:
    table = _table(
        {
            "image": runner.image,
            "privileged": runner.privileged,
            "tls_verify": False,  # TLS between runner and the local daemon socket
            "devices": runner.devices,
            "security_opt": runner.security_opt,
            "cap_add": runner.cap_add,
            "volumes": docker_volumes(fleet, runner),
            "pull_policy": runner.pull_policy,
            "shm_size": runner.shm_size,
            "helper_image": runner.helper_image,
        }
    )
    if runner.services:
        table.add("services", services_aot(runner))
    return table


def data_table(items: dict[str, Any], table: Table | None = None) -> Table:
    """A table of the set values, in order: for executor tables built outside this module."""
    return _table(items, table)


def services_aot(runner: Runner) -> AoT:
    """`[[runners.<executor>.services]]`: docker and kubernetes share the Service struct."""
    services = AoT()
    for svc in runner.services:
        services.append(
            _table(
                {
                    "name": svc.name,
                    "alias": svc.alias,
                    "command": svc.command,
                    "entrypoint": svc.entrypoint,
                }
            )
        )
    return services


def cache_table(cache: Cache, credentials: bool = True) -> Table:
    """`[runners.cache]` in the runner's CamelCase spelling, with the backend's own table.

    Keys are references (`${CACHE_S3_SECRET_KEY}`), never values; `credentials=False`
    leaves them out for the Helm chart, which sets them from its cache Secret.
    """
    table = _table({"Type": cache.type, "Path": cache.path or None, "Shared": cache.shared})
    if cache.type == "s3":
        backend = {
            "ServerAddress": cache.server_address or None,
            "BucketName": cache.bucket or None,
            "BucketLocation": cache.bucket_location or None,
            "Insecure": cache.insecure,
            "AuthenticationType": cache.authentication_type,
        }
    elif cache.type == "gcs":
        backend = {"BucketName": cache.bucket or None,
                   "CredentialsFile": cache.credentials_file or None}
    else:
        backend = {"ContainerName": cache.bucket or None,
                   "StorageDomain": cache.storage_domain or None}
    if credentials:
        backend.update((key, "${" + env + "}") for key, env in cache.credentials)
    table.add(cache.type, _table(backend))
    return table


def runner_table(
    fleet: Fleet,
    runner: Runner,
    executor: str | None = None,
    executor_table: Table | None = None,
    tls_ca_file: str | None = None,
    credentials: bool = True,
    feature_flags: dict[str, bool] | None = None,
) -> Table:
    """One `[[runners]]` entry; kubernetes callers pass their own `[runners.kubernetes]`.

    `credentials=False` leaves out url, token and cache keys, for a registration template
    whose deployment supplies them (the Helm chart's gitlabUrl and Secrets). The runner's
    `runner_config` is merged last; the typed settings win a conflict (an error).
    """
    executor = executor or runner.executor
    table = _table(
        {
            "name": runner.name,
            "url": fleet.gitlab_url if credentials else None,
            "token": token_ref(runner) if credentials else None,
            "executor": executor,
            "tls-ca-file": tls_ca_file,
            "limit": runner.limit or None,
            "environment": [
                f"{k}={v}" for k, v in (*runner.environment, *ca_environment(fleet, runner))
            ],
        }
    )
    if runner.cache:
        table.add("cache", cache_table(runner.cache, credentials))
    # shell and custom executors have no executor table; a fork's docker executor
    # (Heptapod's clever-docker) reads the standard [runners.docker]
    if executor in docker_executors(fleet.flavor):
        table.add("docker", _docker_table(fleet, runner))
    elif executor_table is not None:
        table.add("kubernetes", executor_table)
    if feature_flags:
        table.add("feature_flags", _table(feature_flags))
    merge_runner(table, runner)
    return table


def global_items(manager: Manager) -> dict[str, Any]:
    return {
        "concurrent": manager.concurrent,
        "check_interval": manager.check_interval,
        "shutdown_timeout": manager.shutdown_timeout,
        "log_level": manager.log_level,
        # the Prometheus endpoint (and /debug/jobs/list) of the manager process
        "listen_address": manager.metrics,
    }


def config_document(
    fleet: Fleet, manager: Manager, runners: Sequence[Table], header: str = ""
) -> str:
    """A whole config.toml: globals, `[session_server]` when enabled, then the runners."""
    doc = Table()
    if header:
        for line in header.splitlines():
            doc.comment(line)
    for key, value in global_items(manager).items():
        if value is not None:
            doc.add(key, value)
    merge_manager(doc, manager)
    if manager.session_server:
        s = manager.session_server
        doc.add(
            "session_server",
            _table(
                {
                    "listen_address": s.listen_address,
                    "advertise_address": s.advertise_address,
                    "session_timeout": s.session_timeout,
                }
            ),
        )
    doc.add("runners", AoT(runners))
    return dumps(doc)


def template_document(runner: Table, header: str = "") -> str:
    """A registration template (`gitlab-runner register --template-config`): one
    `[[runners]]` entry and nothing global; the deployment writes the global section."""
    doc = Table()
    for line in header.splitlines():
        doc.comment(line)
    doc.add("runners", AoT([runner]))
    return dumps(doc)


def manager_config(fleet: Fleet, manager: Manager, header: str = "") -> str:
    """config.toml for a manager, each runner with its own executor's table.

    config-toml, swarm and compose each write it under their own header comment; the rest
    is built once per model (which is immutable), and only for the latest model."""
    heading = Table()
    for line in header.splitlines():
        heading.comment(line)
    if _LATEST[0]() is not fleet:
        _LATEST[:] = [weakref.ref(fleet), {}]
    bodies: dict[int, tuple[Manager, str]] = _LATEST[1]
    hit = bodies.get(id(manager))
    if hit is None or hit[0] is not manager:
        hit = bodies[id(manager)] = (manager, _manager_body(fleet, manager))
    return (dumps(heading) if header else "") + hit[1]


_LATEST: list[Any] = [lambda: None, {}]  # [weakref to a Fleet, {id(manager): (manager, text)}]


def _manager_body(fleet: Fleet, manager: Manager) -> str:
    tls = gitlab_ca_path(fleet) if manager.trust_ca and fleet.certificates else None
    tables = []
    for runner in manager.runners:
        pod = None
        if runner.executor == "kubernetes":
            # the job pod as the helm target builds it (lazy: helm imports this module)
            from stackgen.targets.helm.kubernetes import job_pod

            pod = job_pod(fleet, manager, runner).table
        tables.append(runner_table(fleet, runner, executor_table=pod, tls_ca_file=tls))
    return config_document(fleet, manager, tables)


def refuse_executors(fleet: Fleet, allowed: frozenset[str] | set[str], target: str, why: str) -> None:
    """UserError naming every runner whose executor `target` cannot run, and why."""
    from stackgen.errors import Problem, UserError

    problems = [
        Problem(
            f"the {target} target cannot run runner {r.name!r} with the {r.executor!r} "
            f"executor: {why}",
            key=f"runners.{r.name}.executor",
            hint="build this runner with --target config-toml (any executor), or use "
            + (" or ".join(sorted(allowed)) if len(allowed) < 4 else "one of gitlab-runner's own"),
        )
        for r in fleet.runners
        if r.executor not in allowed
    ]
    if problems:
        raise UserError(problems)
