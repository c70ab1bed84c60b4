"""The checkers behind validation: one function per kind of value a consumer is picky about.

Each `*_bad(value)` returns None when the consumer accepts the value, else a message and an
optional hint. They are pure and cheap, and each grammar lives only here: the JSON Schema
names them as `format`s (`FORMATS`, checked by jsonschema on every input layer), and
`validate` runs the same functions on the finished model. Where a grammar comes from an
upstream parser, the comment names it.
"""

from __future__ import annotations

from collections.abc import Callable

from stackgen.checks.docker import (
    CONSTRAINT_KEYS,
    CONSTRAINT_PREFIXES,
    SECURITY_OPTS,
    alias_bad,
    capability_bad,
    constraint_bad,
    device_bad,
    security_opt_bad,
    volume_source_bad,
    volume_target_key,
)
from stackgen.checks.kubernetes import (
    DNS_SUBDOMAIN,
    k8s_name_bad,
    label_key_bad,
    label_value_bad,
    toleration_bad,
)
from stackgen.checks.net import (
    address_bad,
    cert_host_bad,
    gitlab_url_bad,
    hostname_bad,
    image_bad,
    registry_bad,
    runner_image_pin_bad,
)
from stackgen.checks.text import (
    INT64_MAX,
    Bad,
    duration_bad,
    duration_ns,
    env_name_bad,
    executor_bad,
    name_bad,
    node_name_bad,
    path_bad,
    tag_bad,
    text_bad,
)

__all__ = [
    "CONSTRAINT_KEYS", "CONSTRAINT_PREFIXES", "DNS_SUBDOMAIN", "FORMATS", "INT64_MAX",
    "SECURITY_OPTS", "Bad", "address_bad", "alias_bad", "capability_bad", "cert_host_bad",
    "constraint_bad", "device_bad", "duration_bad", "duration_ns", "env_name_bad", "executor_bad",
    "gitlab_url_bad", "hostname_bad", "image_bad", "k8s_name_bad", "label_key_bad",
    "label_value_bad", "name_bad", "node_name_bad", "path_bad", "registry_bad",
    "runner_image_pin_bad", "security_opt_bad", "tag_bad", "text_bad", "toleration_bad",
    "volume_source_bad", "volume_target_key",
]


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
    "executor": executor_bad,
}
