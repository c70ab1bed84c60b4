"""Checks of the newer runner and manager settings: executor, cache, escape hatches, metrics.

The escape hatches (`runner_config:`, `manager_config:`) are held to gitlab-runner's key
table (checks/runner_keys.py, plus the keys of the site's `flavor:`), so an unknown key is
an error with a did-you-mean instead of a setting the runner silently ignores.
"""

from __future__ import annotations

from collections.abc import Callable

from stackgen import model as m
from stackgen.checks import address_bad, path_bad
from stackgen.checks.runner_keys import (
    FLAVORS,
    SECRET_KEYS,
    docker_executors,
    global_spec,
    key_problems,
    known_executors,
    runner_spec,
)
from stackgen.errors import Finding, Origin, did_you_mean

Check = Callable[[str, tuple[str, str | None] | None], None]


def executor_problem(fleet: m.Fleet, runner: m.Runner) -> tuple[str, str | None] | None:
    known = known_executors(fleet.flavor)
    if runner.executor in known:
        return None
    forks = [f for f in FLAVORS if runner.executor in known_executors(f)]
    hint = (f"the {forks[0]} flavor adds it: set flavor: {forks[0]} in the site file" if forks
            else did_you_mean(runner.executor, known))
    return f"gitlab-runner has no executor {runner.executor!r}", hint


def _secret_literals(data: dict[str, object], prefix: str) -> list[tuple[str, str]]:
    """Secret-named keys whose value is not a ${VAR} reference (the layer scan refuses
    these in input files; this catches a model built by hand)."""
    out = []
    for key, value in data.items():
        here = f"{prefix}.{key}"
        if isinstance(value, dict):
            out += _secret_literals(value, here)
        elif key in SECRET_KEYS and isinstance(value, str) and not (
                value.startswith("${") and value.endswith("}")):
            out.append((here, f"{key} must be a ${{VAR}} reference, not a literal value"))
    return out


def _flavor_hint(where: str, hint: str | None, level: str) -> str | None:
    name = where.rsplit(".", 1)[-1]
    forks = [f for f, keys in FLAVORS.items() if name in keys[level]]
    return f"the {forks[0]} flavor adds it: set flavor: {forks[0]}" if forks else hint


# Job-container settings: only container executors have somewhere to put them.
CONTAINER_SETTINGS = ("privileged", "devices", "security_opt", "cap_add", "services")


def runner_problems(check: Check, fleet: m.Fleet, runner: m.Runner) -> None:
    key = f"runners.{runner.name}"
    check(f"{key}.executor", executor_problem(fleet, runner))
    if runner.executor not in docker_executors(fleet.flavor) | {"kubernetes"}:
        for name in CONTAINER_SETTINGS:
            if getattr(runner, name):
                check(f"{key}.{name}", (f"the {runner.executor} executor runs no job container, "
                                        f"so {name} would be dropped", "remove it, or use docker"))
    extra = m.table_dict(runner.runner_config)
    for where, message, hint in key_problems(extra, runner_spec(fleet.flavor), f"{key}.runner_config"):
        check(where, (message, _flavor_hint(where, hint, "runner")))
    for where, message in _secret_literals(extra, f"{key}.runner_config"):
        check(where, (message, "e.g. \"${CC_TOKEN}\": the deployment supplies the value"))
    cache = runner.cache
    if cache is None:
        return
    if not cache.bucket:
        name = "container_name" if cache.type == "azure" else "bucket_name"
        check(f"{key}.cache.{cache.type}.{name}", (f"the {cache.type} cache needs {name}", None))
    if cache.server_address:
        check(f"{key}.cache.s3.server_address", address_bad(cache.server_address,
                                                                 port_required=False))
    if cache.credentials_file:
        check(f"{key}.cache.gcs.credentials_file", path_bad(cache.credentials_file))


def manager_problems(check: Check, fleet: m.Fleet, manager: m.Manager) -> None:
    spec = {k: v for k, v in global_spec(fleet.flavor).items() if k != "runners"}
    extra = m.table_dict(manager.config)
    for where, message, hint in key_problems(extra, spec, "manager_config"):
        check(where, (message, _flavor_hint(where, hint, "global")))
    for where, message in _secret_literals(extra, "manager_config"):
        check(where, (message, None))
    if manager.metrics is not None:
        bad = address_bad(manager.metrics, host_required=False)
        check("manager.metrics.listen_address", bad)
        session = manager.session_server
        if not bad and session and manager.metrics_port == session.port:
            check("manager.metrics.listen_address",
                  (f"port {session.port} is the session server's too", "e.g. [::]:9252"))


def cache_trust_findings(fleet: m.Fleet, origin: Callable[[str], Origin | None]) -> list[Finding]:
    """Who talks to a cache server behind the site CA, and whether each trusts it.

    The helper container of each job downloads and uploads the archive over HTTPS (it gets
    the job's CA mounts and SSL_CERT_FILE only with trust_ca); the manager pre-signs the
    URLs, asking the server for the bucket's region unless BucketLocation is set, with its
    system trust store: with manager.trust_ca, swarm and compose mount the CA where the
    stock image's entrypoint adds it to that store, a host install puts it there by the
    notes, and the CA-baked image has it built in.
    """
    out = []
    for manager in fleet.managers:
        for runner in manager.runners:
            cache = runner.cache
            if not (cache and cache.type == "s3" and cache.server_address) or cache.insecure:
                continue
            covering = [c.name for c in fleet.certificates if cache.server_host in c.hosts]
            if not covering:
                continue
            key = f"runners.{runner.name}.cache.s3.server_address"
            if not runner.trust_ca:
                out.append(Finding(
                    f"the cache server {cache.server_host} uses the site CA {covering[0]!r}, but "
                    f"runner {runner.name!r} does not mount it into jobs, so the helper container "
                    "cannot download or upload the cache: set trust_ca: true (self-signed-certs)",
                    origin(key), key))
            if not (manager.trust_ca or manager.bake_ca):
                out.append(Finding(
                    f"the runner manager on {manager.name!r} signs cache URLs for "
                    f"{cache.server_host} (and asks it for the bucket region unless "
                    "bucket_location is set) with its system trust store, which lacks the "
                    "site CA: set manager.trust_ca (self-signed-certs; swarm and compose then "
                    "add it to the image's store, a host install follows NOTES.md) or "
                    "manager.bake_ca",
                    origin(key), key))
    return out
