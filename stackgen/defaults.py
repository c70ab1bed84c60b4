"""Built-in defaults: the first layer of every build, shown as "default" by `explain`."""

from __future__ import annotations

from typing import Any

RUNNER_IMAGE = "gitlab/gitlab-runner:v18.5.0"

DEFAULTS: dict[str, Any] = {
    "name": "fleet",
    "manager": {
        "concurrent": 4,
        "check_interval": 3,
        "shutdown_timeout": 30,
        "log_level": "info",
        "trust_ca": False,
        # jobs get this long to finish after SIGQUIT before the task is killed
        "stop_grace_period": "1h",
        "session_server": {
            "enabled": False,
            "listen_address": "[::]:8093",
            "session_timeout": 1800,
        },
    },
    "ca": {
        # the host's system bundle (with the site CA installed) mounted over the job's
        "host_path": "/etc/ssl/certs/ca-certificates.crt",
        "job_path": "/etc/ssl/certs/ca-certificates.crt",
    },
    "images": {"runner": RUNNER_IMAGE},
    "defaults": {
        "description": "",
        "run_untagged": False,
        "image": "alpine:3.20",
        "privileged": False,
        "shm_size": 0,
        "limit": 0,
        "trust_ca": False,
        "kubernetes": {
            "namespace": "gitlab-ci",
            "manager_namespace": "gitlab-runner",
            "fuse": "privileged",
            "fuse_resource": "github.com/fuse",
        },
    },
}
