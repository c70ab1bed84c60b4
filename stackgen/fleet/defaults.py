"""Built-in defaults: the first layer of every build, shown as "default" by `explain`.

The values are the model's own field defaults (model.py states each once, with the reason
beside it), so a model built by hand and one built from profiles agree. Only what the model
cannot know is stated here: the runner image a site runs unless it says otherwise.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any

from stackgen import model as m

RUNNER_IMAGE = "gitlab/gitlab-runner:v18.5.0"
METRICS_ADDRESS = "[::]:9252"


def _defaults(cls: type, *names: str, **renamed: str) -> dict[str, Any]:
    """{input key: the field's default as plain data}; `renamed` maps input key -> field."""
    table = {f.name: f for f in fields(cls)}
    out: dict[str, Any] = {}
    for key, name in [*((n, n) for n in names), *renamed.items()]:
        field = table[name]
        value = field.default if field.default_factory is MISSING else field.default_factory()
        out[key] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, m.Volume):
        return value.spec()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


DEFAULTS: dict[str, Any] = {
    "name": "fleet",
    "manager": {
        **_defaults(m.Manager, "concurrent", "check_interval", "shutdown_timeout", "log_level",
                    "trust_ca", "bake_ca", "stop_grace_period"),
        "session_server": {
            "enabled": False,
            **_defaults(m.SessionServer, "listen_address", "session_timeout"),
        },
        # gitlab-runner's conventional metrics port (docs: monitoring/); off unless enabled
        "metrics": {"enabled": False, "listen_address": METRICS_ADDRESS},
        "service": _defaults(m.HostService, "command", "user", "job_user", "working_directory",
                             "config_path", "environment_file", "stop_signal", "restart",
                             "restart_sec"),
    },
    "ca": _defaults(m.Fleet, host_path="ca_host_path", job_path="ca_job_path"),
    "images": {"runner": RUNNER_IMAGE},
    "defaults": {
        **_defaults(m.Runner, "description", "run_untagged", "image", "volumes", "pull_policy",
                    "privileged", "shm_size", "limit", "trust_ca", "executor"),
        "kubernetes": _defaults(m.KubernetesOptions, "namespace", "manager_namespace", "fuse",
                                "fuse_resource"),
    },
}
