"""A profile's `waivers:` section: each key names a lint rule (fleet/lint.py applies them).

The rule names live here, with the input they validate, so reading a profile needs nothing
from the later stages.
"""

from __future__ import annotations

from stackgen.errors import Problem, did_you_mean
from stackgen.layers.located import Val

RULES: dict[str, str] = {
    "privileged": "privileged job containers or pods",
    "docker-socket": "the host's container runtime socket mounted into jobs",
    "unconfined": "AppArmor, seccomp or SELinux confinement switched off for jobs",
    "devices": "host devices passed into job containers",
    "capabilities": "Linux capabilities that break container isolation",
    "host-paths": "host directories mounted into job containers",
    "pull-policy": "job images taken from the host's cache without asking the registry",
    "entrypoint": "a default job image whose ENTRYPOINT is an application, not a shell",
}

# Setting names people may reach for as waiver keys, and the rule that covers them.
KEY_HINTS = {
    "security_opt": "unconfined",
    "security-opt": "unconfined",
    "apparmor": "unconfined",
    "seccomp": "unconfined",
    "volumes": "host-paths or docker-socket",
    "socket": "docker-socket",
    "cap_add": "capabilities",
    "device": "devices",
    "pull_policy": "pull-policy",
    "image": "entrypoint",
}


def waiver_problems(waivers: Val | None) -> list[Problem]:
    """Waiver keys that name no rule, with the closest rule as a hint."""
    problems: list[Problem] = []
    if waivers is None or not isinstance(waivers.value, dict):
        return problems
    for key, val in waivers.value.items():
        if key in RULES:
            continue
        hint = did_you_mean(key, RULES)
        if hint is None and key in KEY_HINTS:
            hint = f"{key} is covered by the rule {KEY_HINTS[key]}"
        problems.append(
            Problem(
                f"unknown waiver {key!r}: waivers name lint rules",
                val.origin,
                f"waivers.{key}",
                hint or "rules: " + ", ".join(RULES),
            )
        )
    return problems
