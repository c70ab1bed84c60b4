"""The config.toml keys GitLab Runner reads, with the Go types its strict decoder wants.

From the runner's config structs (common/config.go: Config, SessionServer, RunnerSettings,
DockerConfig, DockerService) and https://docs.gitlab.com/runner/configuration/advanced-configuration/.
The runner silently ignores unknown keys, so a typo would go unnoticed at deploy time:
tests hold every generated config.toml to this list.
"""

from __future__ import annotations

from typing import Any

STRINGS = "list[str]"

GLOBAL: dict[str, Any] = {
    "concurrent": int,
    "check_interval": int,
    "shutdown_timeout": int,
    "log_level": str,
    "log_format": str,
    "listen_address": str,
    "connection_max_age": str,
    "session_server": "session_server",
    "runners": "runners",
}
SESSION_SERVER = {"listen_address": str, "advertise_address": str, "session_timeout": int}
RUNNER: dict[str, Any] = {
    "name": str,
    "url": str,
    "token": str,
    "executor": str,
    "tls-ca-file": str,
    "tls-cert-file": str,
    "tls-key-file": str,
    "limit": int,
    "request_concurrency": int,
    "environment": STRINGS,
    "builds_dir": str,
    "cache_dir": str,
    "docker": "docker",
    "kubernetes": "kubernetes",
    "cache": dict,
}
DOCKER: dict[str, Any] = {
    "image": str,
    "privileged": bool,
    "tls_verify": bool,
    "devices": STRINGS,
    "security_opt": STRINGS,
    "cap_add": STRINGS,
    "cap_drop": STRINGS,
    "volumes": STRINGS,
    "pull_policy": STRINGS,
    "shm_size": int,
    "helper_image": str,
    "network_mode": str,
    "services": "services",
}
SERVICE = {"name": str, "alias": str, "command": STRINGS, "entrypoint": STRINGS}
PULL_POLICIES = {"always", "if-not-present", "never"}


def _check_table(table: dict[str, Any], spec: dict[str, Any], where: str) -> list[str]:
    errors = []
    for key, value in table.items():
        want = spec.get(key)
        if want is None:
            errors.append(f"{where}.{key}: not a key gitlab-runner reads")
        elif want == STRINGS:
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                errors.append(f"{where}.{key}: must be an array of strings, got {value!r}")
        elif isinstance(want, type):
            # bool is an int in Python; the Go decoder does not agree
            if not isinstance(value, want) or (want is int and isinstance(value, bool)):
                errors.append(f"{where}.{key}: must be {want.__name__}, got {value!r}")
    return errors


def check_config(doc: dict[str, Any]) -> list[str]:
    """Every problem gitlab-runner would have loading `doc` (an already parsed config.toml)."""
    errors = _check_table(doc, GLOBAL, "")
    if "session_server" in doc:
        errors += _check_table(doc["session_server"], SESSION_SERVER, "session_server")
    if doc.get("concurrent", 1) < 1:
        errors.append("concurrent must be >= 1")
    for i, runner in enumerate(doc.get("runners", [])):
        where = f"runners[{i}]"
        errors += _check_table(runner, RUNNER, where)
        docker = runner.get("docker")
        if runner.get("executor") == "docker" and docker is None:
            errors.append(f"{where}: docker executor without [runners.docker]")
        if docker is not None:
            errors += _check_table(docker, DOCKER, f"{where}.docker")
            for policy in docker.get("pull_policy", []):
                if policy not in PULL_POLICIES:
                    errors.append(f"{where}.docker.pull_policy: {policy!r}")
            targets = [v.split(":")[1 if ":" in v else 0].rstrip("/") or "/" for v in docker.get("volumes", [])]
            if len(targets) != len(set(targets)):
                errors.append(f"{where}.docker.volumes: duplicate destinations {targets}")
            for j, svc in enumerate(docker.get("services", [])):
                errors += _check_table(svc, SERVICE, f"{where}.docker.services[{j}]")
        if not str(runner.get("token", "")).startswith("${"):
            errors.append(f"{where}.token: must be an environment reference, not a literal")
    return errors
