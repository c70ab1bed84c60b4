"""Kubernetes label syntax and object names (k8s.io/apimachinery validation)."""

from __future__ import annotations

import re

from stackgen.checks.text import Bad

# IsQualifiedName, IsValidLabelValue
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
