"""The config.toml keys gitlab-runner reads, with the Go types its strict decoder wants.

Source: gitlab-runner v18.5.0 (tag v18.5.0, commit bda84871762de5fb1573f4495940e044e8a5a010,
read from the gitlabhq/gitlab-runner mirror), common/config.go (Config, Experimental,
UsageLogger, SessionServer, RunnerConfig, RunnerCredentials, RunnerSettings, DockerConfig
with helpers/docker.Credentials, Service, KubernetesConfig and its volume/pod_spec structs,
CacheConfig, CacheS3Config, CacheGCSConfig, CacheAzureConfig, CustomConfig, CustomBuildDir),
decoded by github.com/BurntSushi/toml v1.4.0. Not every key of every executor is listed
(autoscaler, machine, instance, virtualbox, parallels and ssh tables are absent on purpose,
and some nested tables such as security contexts, affinity, referees and monitoring are
free-form here): a key missing here is refused with a did-you-mean, never written blind. The
runner silently ignores unknown keys and stops on a wrong type, so the escape hatches
(`runner_config:`, `manager_config:`) and every generated config.toml are held to this table.

A spec maps a key to a type: a Python type (`str`, `int`, `bool`, `float`, `datetime`),
`STRINGS` (array of strings), `STR_OR_STRINGS` (a string or an array of strings: the
runner's StringOrArray), `INTS`, `STR_MAP` / `BOOL_MAP` / `INT_MAP` / `STRINGS_MAP` (a table
of string / bool / integer / string-array values), a nested spec (a table) or `[spec]` (an
array of tables). Go `time.Duration` fields are typed `str` here ("1h30m", Go duration
syntax): the decoder would also take an integer, but as nanoseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

STRINGS = "array of strings"
STR_OR_STRINGS = "string or array of strings"
INTS = "array of integers"
STR_MAP = "table of strings"
BOOL_MAP = "table of booleans"
INT_MAP = "table of integers"
STRINGS_MAP = "table of string arrays"
ANY_TABLE = "table"  # free-form (security contexts, affinity...), values not checked

SESSION_SERVER = {"listen_address": str, "advertise_address": str, "session_timeout": int}

SERVICE = {
    "name": str, "alias": str, "command": STRINGS, "entrypoint": STRINGS, "environment": STRINGS,
}

DOCKER: dict[str, Any] = {
    "host": str, "tls_cert_path": str, "tls_verify": bool,
    "hostname": str, "image": str, "runtime": str, "memory": str, "memory_swap": str,
    "memory_reservation": str, "cgroup_parent": str, "cpuset_cpus": str, "cpuset_mems": str,
    "cpus": str, "cpu_shares": int, "dns": STRINGS, "dns_search": STRINGS, "privileged": bool,
    "services_privileged": bool, "disable_entrypoint_overwrite": bool, "user": str,
    "allowed_users": STRINGS, "group_add": STRINGS, "userns_mode": str, "cap_add": STRINGS,
    "cap_drop": STRINGS, "oom_kill_disable": bool, "oom_score_adjust": int,
    "security_opt": STRINGS, "services_security_opt": STRINGS, "devices": STRINGS,
    "device_cgroup_rules": STRINGS, "gpus": str, "services_devices": STRINGS_MAP,
    "disable_cache": bool, "volumes": STRINGS, "volume_driver": str, "volume_driver_ops": STR_MAP,
    "cache_dir": str, "extra_hosts": STRINGS, "volumes_from": STRINGS, "network_mode": str,
    "ipcmode": str, "mac_address": str, "links": STRINGS, "services": [SERVICE],
    "services_limit": int, "service_memory": str, "service_memory_swap": str,
    "service_memory_reservation": str, "service_cgroup_parent": str,
    "service_cpuset_cpus": str, "service_cpus": str, "service_cpu_shares": int,
    "service_gpus": str, "wait_for_services_timeout": int, "allowed_images": STRINGS,
    "allowed_privileged_images": STRINGS, "allowed_privileged_services": STRINGS,
    "allowed_pull_policies": STRINGS, "allowed_services": STRINGS,
    "pull_policy": STR_OR_STRINGS, "isolation": str, "shm_size": int, "tmpfs": STR_MAP,
    "services_tmpfs": STR_MAP, "sysctls": STR_MAP, "helper_image": str,
    "helper_image_flavor": str, "container_labels": STR_MAP, "enable_ipv6": bool,
    "ulimit": STR_MAP, "network_mtu": int,
}

_KUBE_MOUNT = {"name": str, "mount_path": str, "sub_path": str}
_KUBE_VOLUME_COMMON = {**_KUBE_MOUNT, "read_only": bool}
# resource quantities ("500m", "1Gi"), each with its *_overwrite_max_allowed cap
_KUBE_QUANTITIES = [
    f"{who}{what}_{kind}"
    for who in ("", "service_", "helper_")
    for what in ("cpu", "memory", "ephemeral_storage")
    for kind in ("limit", "request")
]
KUBERNETES: dict[str, Any] = {
    "host": str, "context": str, "cert_file": str, "key_file": str, "ca_file": str,
    "bearer_token_overwrite_allowed": bool, "bearer_token": str, "image": str,
    "namespace": str, "namespace_overwrite_allowed": str, "namespace_per_job": bool,
    "privileged": bool, "runtime_class_name": str, "allow_privilege_escalation": bool,
    **{key: str for key in _KUBE_QUANTITIES},
    **{f"{key}_overwrite_max_allowed": str for key in _KUBE_QUANTITIES},
    "allowed_images": STRINGS, "allowed_pull_policies": STRINGS, "allowed_services": STRINGS,
    "allowed_users": STRINGS, "allowed_groups": STRINGS, "pull_policy": STR_OR_STRINGS,
    "node_selector": STR_MAP, "node_selector_overwrite_allowed": str,
    "node_tolerations": STR_MAP, "node_tolerations_overwrite_allowed": str,
    "affinity": ANY_TABLE, "image_pull_secrets": STRINGS,
    "use_service_account_image_pull_secrets": bool, "helper_image": str,
    "helper_image_flavor": str, "helper_image_autoset_arch_and_os": bool,
    "pod_termination_grace_period_seconds": int, "cleanup_grace_period_seconds": int,
    "cleanup_resources_timeout": str, "poll_interval": int, "poll_timeout": int,
    "resource_availability_check_max_attempts": int, "retry_limit": int,
    "retry_backoff_max": int, "retry_limits": INT_MAP, "pod_labels": STR_MAP,
    "pod_labels_overwrite_allowed": str, "scheduler_name": str, "service_account": str,
    "service_account_overwrite_allowed": str, "automount_service_account_token": bool,
    "pod_annotations": STR_MAP, "pod_annotations_overwrite_allowed": str,
    "pod_security_context": ANY_TABLE, "init_permissions_container_security_context": ANY_TABLE,
    "build_container_security_context": ANY_TABLE, "helper_container_security_context": ANY_TABLE,
    "service_container_security_context": ANY_TABLE,
    "volumes": {
        "host_path": [{**_KUBE_VOLUME_COMMON, "host_path": str, "mount_propagation": str}],
        "pvc": [{**_KUBE_VOLUME_COMMON, "mount_propagation": str}],
        "config_map": [{**_KUBE_VOLUME_COMMON, "items": STR_MAP}],
        "secret": [{**_KUBE_VOLUME_COMMON, "items": STR_MAP}],
        "empty_dir": [{**_KUBE_MOUNT, "medium": str, "size_limit": str}],
        "csi": [{**_KUBE_VOLUME_COMMON, "driver": str, "fs_type": str, "volume_attributes": STR_MAP}],
    },
    "host_aliases": [{"ip": str, "hostnames": STRINGS}], "services": [SERVICE],
    "cap_add": STRINGS, "cap_drop": STRINGS, "dns_policy": str, "dns_config": ANY_TABLE,
    "container_lifecycle": ANY_TABLE, "priority_class_name": str,
    "pod_spec": [{"name": str, "patch_path": str, "patch": str, "patch_type": str}],
    "logs_base_dir": str, "scripts_base_dir": str, "print_pod_warning_events": bool,
}

CACHE_S3 = {
    "ServerAddress": str, "AccessKey": str, "SecretKey": str, "SessionToken": str,
    "BucketName": str, "BucketLocation": str, "Insecure": bool, "AuthenticationType": str,
    "ServerSideEncryption": str, "ServerSideEncryptionKeyID": str, "DualStack": bool,
    "PathStyle": bool, "Accelerate": bool, "RoleARN": str, "UploadRoleARN": str,
}
CACHE_GCS = {"AccessID": str, "PrivateKey": str, "CredentialsFile": str, "BucketName": str}
CACHE_AZURE = {"AccountName": str, "AccountKey": str, "ContainerName": str, "StorageDomain": str}
CACHE: dict[str, Any] = {
    "Type": str, "Path": str, "Shared": bool, "MaxUploadedArchiveSize": int,
    "s3": CACHE_S3, "gcs": CACHE_GCS, "azure": CACHE_AZURE,
}

CUSTOM = {
    "config_exec": str, "config_args": STRINGS, "config_exec_timeout": int,
    "prepare_exec": str, "prepare_args": STRINGS, "prepare_exec_timeout": int,
    "run_exec": str, "run_args": STRINGS, "cleanup_exec": str, "cleanup_args": STRINGS,
    "cleanup_exec_timeout": int, "graceful_kill_timeout": int, "force_kill_timeout": int,
}

RUNNER: dict[str, Any] = {
    # RunnerConfig
    "name": str, "limit": int, "output_limit": int, "request_concurrency": int,
    "unhealthy_requests_limit": int, "unhealthy_interval": str,
    "job_status_final_update_retry_limit": int,
    # RunnerCredentials
    "url": str, "id": int, "token": str, "token_obtained_at": datetime,
    "token_expires_at": datetime, "tls-ca-file": str, "tls-cert-file": str, "tls-key-file": str,
    # RunnerSettings
    "labels": STR_MAP, "executor": str, "builds_dir": str, "cache_dir": str, "clone_url": str,
    "environment": STRINGS, "proxy_exec": bool, "pre_get_sources_script": str,
    "post_get_sources_script": str, "pre_build_script": str, "post_build_script": str,
    "debug_trace_disabled": bool, "safe_directory_checkout": bool, "clean_git_config": bool,
    "shell": str, "custom_build_dir": {"enabled": bool}, "referees": ANY_TABLE,
    "cache": CACHE, "feature_flags": BOOL_MAP, "monitoring": ANY_TABLE, "docker": DOCKER,
    "kubernetes": KUBERNETES, "custom": CUSTOM, "step_runner_image": str,
}

GLOBAL: dict[str, Any] = {
    "listen_address": str, "session_server": SESSION_SERVER, "labels": STR_MAP,
    "concurrent": int, "check_interval": int, "log_level": str, "log_format": str,
    "user": str, "runners": [RUNNER], "sentry_dsn": str, "connection_max_age": str,
    "experimental": {"usage_logger": {
        "enabled": bool, "log_dir": str, "max_backup_files": int, "max_rotation_age": str,
        "labels": STR_MAP,
    }},
    "shutdown_timeout": int,
}

# Executors whose job settings live in `[runners.docker]` (gitlab-runner executors/docker).
DOCKER_EXECUTORS = frozenset({"docker", "docker-windows", "docker+machine", "docker-autoscaler"})
# Executors gitlab-runner itself ships; any other name needs a fork that adds it (a flavor).
EXECUTORS = frozenset({*DOCKER_EXECUTORS, "shell", "kubernetes", "custom", "ssh", "parallels",
                       "virtualbox", "instance"})


# Forks of the runner that read keys of their own. Heptapod PAAS Runner (heptapod-paas-runner,
# documented in its README: python-heptapod-runner), read with the standard keys above.
FLAVORS: dict[str, dict[str, Any]] = {
    "heptapod": {
        "global": {"state_file": str},
        "runner": {
            "cc_api_url": str, "cc_zone": str, "cc_default_flavor": str, "cc_multi_tenant": bool,
            "cc_orga_id": str, "cc_token": str, "cc_gitlab_namespace_attributes_token": str,
            "cc_orga_id_attribute": str, "cc_orga_token_attribute": str, "cc_extra_env": STR_MAP,
        },
        # the PAAS executors take the standard [runners.docker] settings of their jobs
        "docker_executors": ("clever-docker", "local-docker"),
    },
}


def global_spec(flavor: str | None = None) -> dict[str, Any]:
    extra = FLAVORS[flavor]["global"] if flavor in FLAVORS else {}
    return {**GLOBAL, **extra, "runners": [runner_spec(flavor)]}


def runner_spec(flavor: str | None = None) -> dict[str, Any]:
    extra = FLAVORS[flavor]["runner"] if flavor in FLAVORS else {}
    return {**RUNNER, **extra}


def docker_executors(flavor: str | None = None) -> frozenset[str]:
    extra = FLAVORS[flavor]["docker_executors"] if flavor in FLAVORS else ()
    return DOCKER_EXECUTORS | frozenset(extra)


def known_executors(flavor: str | None = None) -> frozenset[str]:
    return EXECUTORS | docker_executors(flavor)


# Keys whose value is a credential: never literal, only a `${VAR}` reference.
SECRET_KEYS = frozenset({
    "token", "AccessKey", "SecretKey", "SessionToken", "PrivateKey", "AccountKey",
    "bearer_token", "sentry_dsn", "cc_token", "cc_gitlab_namespace_attributes_token",
})


def _type_name(want: Any) -> str:
    if isinstance(want, type):
        return {"str": "a string", "int": "an integer", "bool": "a boolean",
                "float": "a number", "datetime": "a date-time"}[want.__name__]
    if isinstance(want, dict):
        return "a table"
    if isinstance(want, list):
        return "an array of tables"
    return f"an {want}" if want[0] in "a" else f"a {want}"


def _type_ok(value: Any, want: Any) -> bool:
    if want is int:  # bool is an int in Python; the Go decoder does not agree
        return isinstance(value, int) and not isinstance(value, bool)
    if want is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(want, type):
        return isinstance(value, want)
    if want == STRINGS:
        return isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
    if want == STR_OR_STRINGS:
        return isinstance(value, str) or _type_ok(value, STRINGS)
    if want == INTS:
        return isinstance(value, (list, tuple)) and all(_type_ok(v, int) for v in value)
    if want in (STR_MAP, BOOL_MAP, INT_MAP, STRINGS_MAP, ANY_TABLE) or isinstance(want, dict):
        if not isinstance(value, Mapping):
            return False
        kind = {STR_MAP: str, BOOL_MAP: bool, INT_MAP: int, STRINGS_MAP: STRINGS}.get(want) \
            if isinstance(want, str) else None
        return kind is None or all(_type_ok(v, kind) for v in value.values())
    if isinstance(want, list):
        return isinstance(value, (list, tuple)) and all(isinstance(v, Mapping) for v in value)
    raise AssertionError(want)


def key_problems(
    table: Mapping[str, Any], spec: Mapping[str, Any], path: str = ""
) -> list[tuple[str, str, str | None]]:
    """(dotted key, message, hint) for every key gitlab-runner does not read, or reads as
    another type, in `table` (already plain data: dicts, lists, scalars)."""
    out: list[tuple[str, str, str | None]] = []
    for key, value in table.items():
        where = f"{path}.{key}" if path else str(key)
        want = spec.get(key)
        if want is None:
            from difflib import get_close_matches  # only for a key gitlab-runner does not read

            close = get_close_matches(str(key), list(spec), n=1, cutoff=0.7)
            hint = f"did you mean {close[0]!r}?" if close else None
            out.append((where, f"{key!r} is not a key gitlab-runner reads here", hint))
        elif not _type_ok(value, want):
            out.append((where, f"must be {_type_name(want)}, got {value!r}", None))
        elif isinstance(want, dict):
            out += key_problems(value, want, where)
        elif isinstance(want, list) and isinstance(want[0], dict):
            for i, item in enumerate(value):
                out += key_problems(item, want[0], f"{where}[{i}]")
    return out
