"""The checkers behind validation: one function per kind of value a consumer is picky about.

Each `*_bad(value)` returns None when the consumer accepts the value, else a message and an
optional hint. They are pure and cheap, and each grammar lives only here: the JSON Schema
names them as `format`s (`FORMATS`, checked by jsonschema on every input layer), and
`validate` runs the same functions on the finished model. Where a grammar comes from an
upstream parser, the comment names it.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable
from urllib.parse import urlsplit

from .errors import did_you_mean

Bad = tuple[str, str | None] | None  # (message, hint) or None when the value is fine

INT64_MAX = 2**63 - 1
# DNS-label-like names that become service, release and file names
NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?", re.ASCII)
# Node names end up in swarm secret names, gitlab-runner-<node>-config-<hash10>, which
# swarmkit caps at 64 characters.
NODE_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?", re.ASCII)
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)

# --- text ---------------------------------------------------------------------------------


def text_bad(text: str, multiline: bool = False) -> Bad:
    """Control characters, lone surrogates and (unless `multiline`) line breaks."""
    for ch in text:
        if multiline and ch in "\n\t":
            continue
        cat = unicodedata.category(ch)
        if multiline and cat in ("Zl", "Zp"):
            continue  # U+2028/U+2029: unicode line breaks, escaped by every emitter
        if cat == "Cs":
            return "contains an invalid character (a lone surrogate, not UTF-8 text)", None
        if cat in ("Cc", "Zl", "Zp"):
            if ch == "\n" or cat in ("Zl", "Zp") or ch in "\r\x0b\x0c\x85":
                return "must be a single line", "remove the line break"
            return f"contains the control character {ch!r}", None
    return None


# --- checkers: each returns None, or (message, hint) ------------------------------------

# distribution/reference grammar (github.com/distribution/reference, regexp.go)
_ALNUM = r"[a-z0-9]+"
_PATH_COMPONENT = rf"{_ALNUM}(?:(?:[._]|__|-+){_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REPO = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
IMAGE_REF = re.compile(rf"({_REPO})(?::{_TAG})?(?:@{_DIGEST})?", re.ASCII)
REGISTRY = re.compile(rf"{_DOMAIN}(?:/{_PATH_COMPONENT})*", re.ASCII)


def image_bad(ref: str) -> Bad:
    """A docker image reference: `[registry[:port]/]path[:tag][@digest]`."""
    match = IMAGE_REF.fullmatch(ref)
    if match is None:
        hint = None
        if any(c.isspace() or c in "\"'`$" for c in ref):
            hint = "an image reference has no spaces, quotes or $"
        elif "://" in ref:
            hint = "write it without the scheme, e.g. harbor.example.org/ops/image:1.0"
        elif ref != ref.lower():
            hint = "repository names are lowercase (only the registry host and tag may not be)"
        return f"{ref!r} is not a valid image reference", hint
    if len(match.group(1)) > 255:
        return "the image name is longer than 255 characters", None
    return None


# gitlab-runner's release tags: v18.5.0, alpine-v18.5.0, alpine3.21-v18.5.0, ubuntu-v18.5.0,
# ubi-fips-v18.5.0. `alpine`, `ubuntu`, `alpine3.21`, `bleeding` and `latest` move.
RUNNER_RELEASE_TAG = re.compile(r"(?:[a-z0-9.-]+-)?v[0-9]+\.[0-9]+\.[0-9]+", re.ASCII)


def runner_image_pin_bad(ref: str) -> Bad:
    """A gitlab-runner base image must name a release (or a digest): a floating tag
    rebuilds into another runner version without a word."""
    if "@" in ref:
        return None
    tag = ref.rsplit("/", 1)[-1].partition(":")[2]
    if RUNNER_RELEASE_TAG.fullmatch(tag):
        return None
    return (
        f"runner image {ref!r} is not pinned to a release: {tag or 'latest'!r} moves, so a "
        "rebuild could bring another runner version",
        "name a release tag such as v18.5.0 or alpine-v18.5.0, or a digest (@sha256:...)",
    )


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*", re.ASCII)


def hostname_bad(host: str) -> Bad:
    """An RFC 1123 host name (which includes IPv4 addresses)."""
    if len(host) > 253 or not HOSTNAME.fullmatch(host):
        return (
            f"{host!r} is not a valid host name",
            "labels of letters, digits and '-', separated by dots, each at most 63 characters",
        )
    return None


def _host_ok(host: str) -> bool:
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    return hostname_bad(host) is None


def address_bad(text: str, port_required: bool = True, host_required: bool = True) -> Bad:
    """`host:port` (IPv6 in brackets); the session server's listen and advertise addresses."""
    if "://" in text:
        return f"{text!r} is an address, not a URL", "write host:port without the scheme"
    host, sep, port = text.rpartition(":")
    if not sep or host.endswith(":") or (host.count(":") and not host.startswith("[")):
        host, port = text, ""
    if port:
        if not re.fullmatch(r"[0-9]{1,5}", port) or not 0 < int(port) < 65536:
            return f"port {port!r} in {text!r} is not a number from 1 to 65535", None
    elif port_required:
        return f"{text!r} needs a port", "for example [::]:8093"
    if not host:
        return (f"{text!r} needs a host", None) if host_required else None
    if not _host_ok(host):
        return f"{host!r} in {text!r} is not a host name or IP address", None
    return None


def registry_bad(text: str) -> Bad:
    if "://" in text:
        return f"{text!r} is a URL", "give the registry host, e.g. harbor.example.org"
    if not REGISTRY.fullmatch(text):
        return f"{text!r} is not a registry host (host[:port][/path])", None
    return None


def cert_host_bad(text: str) -> Bad:
    """A host a certificate is trusted for: name, `*.name` or IP, with an optional port."""
    host = text[2:] if text.startswith("*.") else text
    bad = address_bad(host, port_required=False)
    if bad:
        return f"{text!r} is not a host[:port] a certificate can cover", bad[1]
    return None


def gitlab_url_bad(url: str) -> Bad:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"{url!r} is not a valid URL: {exc}", None
    if parts.scheme not in ("http", "https"):
        return f"{url!r} must start with https:// (or http://)", None
    if parts.username or parts.password or parts.query or parts.fragment:
        return f"{url!r} must not carry credentials, a query or a fragment", None
    if not parts.hostname or not _host_ok(
        f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    ):
        return f"{url!r} has no valid host name", None
    if port == 0:
        return f"{url!r} has port 0", None
    # gitlab-runner expands ${VAR} in url (config.toml), so no '$' or odd characters
    if not re.fullmatch(r"[A-Za-z0-9._~/%-]*", parts.path, re.ASCII):
        return f"the path of {url!r} may hold only letters, digits and . _ ~ / % -", None
    return None


_UNITS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9,
          "m": 60 * 10**9, "h": 3600 * 10**9}
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")


def duration_ns(text: str) -> float | None:
    """Nanoseconds of a Go duration (time.ParseDuration: `1h30m`, `.5s`), None if invalid."""
    pos, total = 0, 0.0
    while pos < len(text):
        part = _DURATION_PART.match(text, pos)
        if part is None:
            return None
        total += float(part.group(1)) * _UNITS[part.group(2)]
        pos = part.end()
    return total if text else None


def duration_bad(text: str) -> Bad:
    """A Go duration that fits int64 nanoseconds, e.g. `1h30m`."""
    total = duration_ns(text)
    if total is None:
        what = "the duration is empty" if not text else f"{text!r} is not a Go duration"
        return what, "a Go duration such as 90s, 15m or 1h30m"
    if total > INT64_MAX:
        return f"{text!r} is longer than Go's maximum duration (about 292 years)", None
    return None


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
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def label_key_bad(key: str) -> Bad:
    prefix, slash, name = key.rpartition("/")
    hint = "[prefix/]name: name up to 63 letters, digits, '-', '_', '.'; prefix a DNS subdomain"
    if slash and (not prefix or len(prefix) > 253 or not DNS_SUBDOMAIN.fullmatch(prefix)):
        return f"label key {key!r} has an invalid prefix", hint
    if len(name) > 63 or not _K8S_NAME.fullmatch(name):
        return f"label key {key!r} is not a valid Kubernetes label key", hint
    return None


def label_value_bad(value: str) -> Bad:
    if value and (len(value) > 63 or not _K8S_NAME.fullmatch(value)):
        return (
            f"label value {value!r} is not a valid Kubernetes label value",
            "up to 63 letters, digits, '-', '_', '.', starting and ending with a letter or digit",
        )
    return None


def name_bad(name: str) -> Bad:
    if not NAME.fullmatch(name):
        return (
            f"name {name!r} is not valid",
            "lowercase letters, digits and '-', starting and ending with a letter or digit, "
            "at most 42 characters",
        )
    return None


def node_name_bad(name: str) -> Bad:
    if not NODE_NAME.fullmatch(name):
        return (
            f"node name {name!r} is not valid",
            "lowercase letters, digits and '-', starting and ending with a letter or digit, "
            "at most 32 characters (swarm caps the secret names made from it)",
        )
    return None


def env_name_bad(name: str) -> Bad:
    if not ENV_NAME.fullmatch(name):
        return f"{name!r} is not a variable name", "letters, digits and '_', not starting with a digit"
    return None


def k8s_name_bad(name: str) -> Bad:
    """A Kubernetes object name (Secret, PersistentVolumeClaim): a DNS subdomain."""
    if len(name) > 253 or not DNS_SUBDOMAIN.fullmatch(name):
        return f"{name!r} is not a Kubernetes object name", (
            "lowercase letters, digits, '-' and '.', at most 253 characters")
    return None


# A taint to tolerate, as the runner's node_tolerations spell it plus the effect.
TOLERATION = re.compile(
    r"[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?(=[A-Za-z0-9._-]*)?:(NoSchedule|PreferNoSchedule|NoExecute)",
    re.ASCII,
)


def toleration_bad(text: str) -> Bad:
    if not TOLERATION.fullmatch(text):
        return f"{text!r} is not key[=value]:Effect", "e.g. gpu=true:NoSchedule"
    return None


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


def path_bad(path: str) -> Bad:
    """An absolute path that can sit in a docker `src:dst:mode` spec."""
    if not path.startswith("/"):
        return f"{path!r} must be an absolute path", None
    if ":" in path:
        return f"{path!r} must not contain ':' (docker splits volume specs on it)", None
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


TAG = re.compile(r"[^,\s]+")


def tag_bad(tag: str) -> Bad:
    if not TAG.fullmatch(tag) or len(tag) > 255:
        return f"tag {tag!r} is not valid", "a tag has no spaces or commas: GitLab splits on them"
    return None


# Formats the JSON Schema names; jsonschema calls these same functions on every input layer.
FORMATS: dict[str, Callable[[str], Bad]] = {
    "name": name_bad,
    "node-name": node_name_bad,
    "env-name": env_name_bad,
    "abs-path": path_bad,
    "duration": duration_bad,
    "tag": tag_bad,
    "hostname": hostname_bad,
    "label-key": label_key_bad,
    "gitlab-url": gitlab_url_bad,
    "toleration": toleration_bad,
    "k8s-name": k8s_name_bad,
}
