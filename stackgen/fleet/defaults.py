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
        "bake_ca": False,  # run images.runner-ca (the dockerfile target's image) instead
        # jobs get this long to finish after SIGQUIT before the task is killed
        "stop_grace_period": "1h",
        "session_server": {
            "enabled": False,
            "listen_address": "[::]:8093",
            "session_timeout": 1800,
        },
    },
    "ca": {
        # the host's system bundle (with the site CA installed), mounted into jobs at a path
        # of its own: a bind over the job's /etc/ssl/certs/ca-certificates.crt would make
        # update-ca-certificates fail (EBUSY), and with it apt-get install ca-certificates
        "host_path": "/etc/ssl/certs/ca-certificates.crt",
        "job_path": "/etc/ssl/stackgen/ca-certificates.crt",
    },
    "images": {"runner": RUNNER_IMAGE},
    "defaults": {
        "description": "",
        "run_untagged": False,
        "image": "alpine:3.20",
        # the executor's cache directory persists only as a volume (`gitlab-runner register`
        # writes the same); `volumes: [!remove /cache]` drops it
        "volumes": ["/cache"],
        # always ask the registry: if-not-present lets a job run an image another project
        # pulled with its own credentials, and keeps :latest tags stale
        "pull_policy": ["always"],
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
