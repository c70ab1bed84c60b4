"""Image references, registries, host names, addresses and URLs."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from stackgen.checks.text import Bad

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
