"""Every generated config.toml checked as gitlab-runner would load it.

The key and type table ships in the package (stackgen/checks/runner_keys.py, from the
runner's common/config.go), where it also checks the escape hatches; here it is applied to
whole rendered files, with the few value rules the runner enforces at load time.
"""

from __future__ import annotations

from typing import Any

from stackgen.checks.runner_keys import FLAVORS, docker_executors, global_spec, key_problems

PULL_POLICIES = {"always", "if-not-present", "never"}


def check_config(doc: dict[str, Any]) -> list[str]:
    """Every problem gitlab-runner would have loading `doc` (an already parsed config.toml)."""
    executors = {r.get("executor") for r in doc.get("runners", [])}
    flavor = next((f for f in FLAVORS if executors & set(FLAVORS[f]["docker_executors"])), None)
    errors = [f"{key}: {message}" for key, message, _ in key_problems(doc, global_spec(flavor))]
    if doc.get("concurrent", 1) < 1:
        errors.append("concurrent must be >= 1")
    for i, runner in enumerate(doc.get("runners", [])):
        where = f"runners[{i}]"
        docker = runner.get("docker")
        if runner.get("executor") in docker_executors(flavor) and docker is None:
            errors.append(f"{where}: docker executor without [runners.docker]")
        if docker is not None:
            policies = docker.get("pull_policy", [])  # a string or an array (StringOrArray)
            for policy in [policies] if isinstance(policies, str) else policies:
                if policy not in PULL_POLICIES:
                    errors.append(f"{where}.docker.pull_policy: {policy!r}")
            targets = [v.split(":")[1 if ":" in v else 0].rstrip("/") or "/" for v in docker.get("volumes", [])]
            if len(targets) != len(set(targets)):
                errors.append(f"{where}.docker.volumes: duplicate destinations {targets}")
        if not str(runner.get("token", "")).startswith("${"):
            errors.append(f"{where}.token: must be an environment reference, not a literal")
    return errors
