"""What the Docker Engine and swarm accept: constraints, volumes, devices, security options."""

from __future__ import annotations

import ipaddress
import re

from stackgen.checks.text import Bad, path_bad
from stackgen.errors import did_you_mean

# Swarm placement constraints, as swarmkit's manager/constraint parses and matches them.
_CONSTRAINT_KEY = re.compile(r"[a-z_][a-z0-9\-_.]+", re.ASCII | re.IGNORECASE)
_CONSTRAINT_VALUE = re.compile(r"[a-z0-9:\-_\s.*()?+\[\]\\^$|/]+", re.ASCII | re.IGNORECASE)
CONSTRAINT_KEYS = ("node.id", "node.hostname", "node.ip", "node.role", "node.platform.os",
                   "node.platform.arch")
CONSTRAINT_PREFIXES = ("node.labels.", "engine.labels.")


def constraint_bad(expr: str) -> Bad:
    """`key == value` or `key != value` with a key that can match a node."""
    for op in ("==", "!="):  # swarmkit tries == first
        if op in expr:
            key, _, value = (s.strip() for s in expr.partition(op))
            break
    else:
        return f"{expr!r} has no operator", "write key == value or key != value"
    if not _CONSTRAINT_KEY.fullmatch(key):
        return f"constraint key {key!r} is not valid (letters, digits, '.', '-', '_')", None
    lower = key.lower()
    known = lower in CONSTRAINT_KEYS or any(
        lower.startswith(p) and len(lower) > len(p) for p in CONSTRAINT_PREFIXES
    )
    if not known:
        choices = [*CONSTRAINT_KEYS, "node.labels.<name>", "engine.labels.<name>"]
        return (
            f"constraint key {key!r} never matches a node, so the task would stay pending",
            did_you_mean(lower, choices) or "keys: " + ", ".join(choices),
        )
    if not value or not _CONSTRAINT_VALUE.fullmatch(value):
        return f"constraint value {value!r} is empty or has characters swarm rejects", None
    if lower == "node.role" and value.lower() not in ("manager", "worker"):
        return f"node.role is manager or worker, not {value!r}", None
    if lower == "node.ip":
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            return f"node.ip takes an IP address or CIDR network, not {value!r}", None
    return None


# Kubernetes label syntax (k8s.io/apimachinery validation: IsQualifiedName, IsValidLabelValue)
_K8S_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", re.ASCII)

# docker's volume names (daemon/names: RestrictedNamePattern)
VOLUME_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]+", re.ASCII)


def volume_target_key(target: str) -> str:
    """Docker cleans destinations: `/data/`, `/data/.` and `//data` are all `/data`."""
    import posixpath

    return "/" + posixpath.normpath(target).lstrip("/")


def volume_source_bad(source: str) -> Bad:
    """A volume source: an absolute host path or a docker volume name."""
    if source.startswith("/"):
        return path_bad(source)
    if not VOLUME_NAME.fullmatch(source):
        return f"volume source {source!r} is neither an absolute host path nor a volume name", None
    return None


def device_bad(spec: str) -> Bad:
    """Docker's `host[:container[:permissions]]` device form."""
    parts = spec.split(":")
    if len(parts) > 3:
        return f"device {spec!r} is not host[:container[:rwm]]", None
    if not parts[0].startswith("/dev/"):
        return f"device {parts[0]!r} must be a host path under /dev/", None
    if len(parts) > 1 and not parts[1].startswith("/"):
        return f"device {spec!r}: the container path must be absolute", None
    if len(parts) > 2 and not re.fullmatch(r"(?!.*(.).*\1)[rwm]{1,3}", parts[2]):
        return f"device {spec!r}: permissions are a combination of r, w and m", None
    return None


# What the Engine API accepts in HostConfig.SecurityOpt (moby daemon parseSecurityOpt):
# gitlab-runner passes `security_opt` to it verbatim, so options the docker *CLI* handles
# itself (`systempaths=unconfined`, `seccomp=<file>`) never reach a job: the daemon answers
# `invalid --security-opt`. Key -> accepted values (None: any non-empty value).
SECURITY_OPTS: dict[str, tuple[str, ...] | None] = {
    "apparmor": None,  # a profile loaded on the host, or unconfined
    "seccomp": ("unconfined",),  # the daemon takes a profile only as inline JSON
    "label": None,  # SELinux: disable, or user:/role:/type:/level:/filetype:<value>
    "no-new-privileges": ("true", "false"),
}
LABEL_KEYS = ("user", "role", "type", "level", "filetype")
# What each CLI-only option means, and what does the job instead.
CLI_ONLY_OPTS = {
    "systempaths": "only the docker CLI understands it; for jobs that need an unmasked /proc "
    "or /sys, set privileged: true instead",
    "writable-cgroups": "this daemon does not accept it through the API",
}


def security_opt_bad(opt: str) -> Bad:
    """One `security_opt` entry as the Engine API accepts it (the `key=value` form)."""
    key, sep, value = opt.partition("=")
    if not sep and ":" in opt:
        key, _, value = opt.partition(":")  # the deprecated colon form, rewritten later
    if key in CLI_ONLY_OPTS:
        return f"security option {opt!r} is refused by the Docker Engine API", CLI_ONLY_OPTS[key]
    if key not in SECURITY_OPTS:
        return f"unknown security option {key!r}", did_you_mean(key, SECURITY_OPTS) or (
            "options: " + ", ".join(SECURITY_OPTS)
        )
    if key == "no-new-privileges" and not sep:
        return None
    allowed = SECURITY_OPTS[key]
    if not value:
        return f"security option {opt!r} needs a value, e.g. {key}=unconfined", None
    if allowed is not None and value not in allowed:
        hint = None
        if key == "seccomp":
            hint = ("gitlab-runner hands security_opt to the daemon verbatim, which reads a "
                    "profile only as inline JSON: make it the daemon's default seccomp-profile")
        return f"{opt!r}: {key} takes {' or '.join(allowed)}", hint
    if key == "label" and value != "disable" and value.partition(":")[0] not in LABEL_KEYS:
        return f"{opt!r}: label takes disable or {'|'.join(LABEL_KEYS)}:<value>", None
    return None


CAPABILITIES = frozenset(
    "AUDIT_CONTROL AUDIT_READ AUDIT_WRITE BLOCK_SUSPEND BPF CHECKPOINT_RESTORE CHOWN "
    "DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID IPC_LOCK IPC_OWNER KILL LEASE LINUX_IMMUTABLE "
    "MAC_ADMIN MAC_OVERRIDE MKNOD NET_ADMIN NET_BIND_SERVICE NET_BROADCAST NET_RAW PERFMON "
    "SETFCAP SETGID SETPCAP SETUID SYSLOG SYS_ADMIN SYS_BOOT SYS_CHROOT SYS_MODULE SYS_NICE "
    "SYS_PACCT SYS_PTRACE SYS_RAWIO SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG WAKE_ALARM ALL".split()
)


def capability_bad(cap: str) -> Bad:
    # docker upper-cases names and adds the CAP_ prefix itself
    name = cap.upper().removeprefix("CAP_")
    if name not in CAPABILITIES:
        return f"unknown Linux capability {cap!r}", did_you_mean(name, CAPABILITIES)
    return None


def alias_bad(alias: str) -> Bad:
    # gitlab-runner takes several service aliases separated by spaces or commas
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*(?:[ ,]+[A-Za-z0-9][A-Za-z0-9_.-]*)*", alias):
        return f"service alias {alias!r} is not a host name (or several, space-separated)", None
    return None
