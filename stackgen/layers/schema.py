"""The JSON Schema of profile and site files, and validation with file:line errors.

Profiles, the site file and `--set` overrides share one document shape (so any key can be
overridden the same way); profiles may also carry `description` and `include`. Each file
is validated on its own, before merging, and every problem is reported at once.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, get_args

from stackgen.checks.runner_keys import FLAVORS
from stackgen.errors import Problem, did_you_mean
from stackgen.layers.located import Val, dotted, locate
from stackgen.model import CacheType, FuseMode, LogLevel, PullPolicy, S3Auth


def fmt(name: str) -> dict[str, Any]:
    """A string of one of the grammars in `checks.FORMATS` (checked by the same function)."""
    return {"type": "string", "format": name}


NAME = fmt("name")
ABS_PATH = fmt("abs-path")
STR = {"type": "string"}
BOOL = {"type": "boolean"}
STRINGS = {"type": "array", "items": STR}
UINT = {"type": "integer", "minimum": 0}
PULL = {"enum": list(get_args(PullPolicy))}


def _obj(props: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, "additionalProperties": False, **extra}


VOLUME = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        _obj(
            {
                "target": ABS_PATH,
                "source": {"type": "string", "minLength": 1},
                "data": NAME,
                "read_only": BOOL,
            },
            required=["target"],
        ),
    ]
}

SERVICE = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        _obj(
            {"name": STR, "alias": STR, "command": STRINGS, "entrypoint": STRINGS},
            required=["name"],
        ),
    ]
}

KUBERNETES = _obj(
    {
        "namespace": NAME,
        "manager_namespace": NAME,
        "node_selector": {"type": "object", "additionalProperties": STR},
        "fuse": {"enum": list(get_args(FuseMode))},
        "fuse_resource": STR,
        "data_claims": {"type": "object", "additionalProperties": STR},
        # a taint to tolerate, as the runner's node_tolerations spell it plus the effect
        "tolerations": {"type": "array", "items": fmt("toleration")},
        # Secrets (kubernetes.io/dockerconfigjson) the job pods pull private images with
        "image_pull_secrets": {"type": "array", "items": fmt("k8s-name")},
        # pin the manager pod to the node's labels too (by default only job pods are)
        "pin_manager": BOOL,
        # registry credentials for jobs (kaniko): a kubernetes.io/dockerconfigjson Secret
        "docker_config": _obj(
            {
                "secret": fmt("k8s-name"),
                "path": ABS_PATH,
            }
        ),
    }
)

def _doc(schema: dict[str, Any], text: str) -> dict[str, Any]:
    return {**schema, "description": text}


# A credential is named, never given: the environment variable (config-toml), swarm or
# compose secret, or Kubernetes Secret key that holds it at deploy time.
CREDENTIAL = _doc(_obj({"env": fmt("env-name")}, required=["env"]),
                  "Where the value comes from: {env: NAME}; never the value itself.")

CACHE = _doc(
    _obj(
        {
            "type": _doc({"enum": list(get_args(CacheType))}, "Backend: s3 (AWS, MinIO), gcs or azure."),
            "path": _doc(STR, "Prefix of the cache objects in the bucket."),
            "shared": _doc(BOOL, "Share the cache between runners (same path and bucket)."),
            "s3": _doc(_obj({
                "server_address": _doc(STR, "host[:port] of the S3 server (MinIO: minio.example.org:9000)."),
                "bucket_name": STR,
                "bucket_location": _doc(STR, "Region; set it so the manager need not ask the server."),
                "insecure": _doc(BOOL, "Plain HTTP instead of HTTPS."),
                "authentication_type": {"enum": list(get_args(S3Auth))},
                "access_key": CREDENTIAL,
                "secret_key": CREDENTIAL,
            }), "[runners.cache.s3]; access keys default to CACHE_S3_ACCESS_KEY/_SECRET_KEY."),
            "gcs": _doc(_obj({
                "bucket_name": STR,
                "credentials_file": _doc(ABS_PATH, "Service account JSON on the manager's host."),
                "access_id": CREDENTIAL,
                "private_key": CREDENTIAL,
            }), "[runners.cache.gcs]"),
            "azure": _doc(_obj({
                "container_name": STR,
                "storage_domain": STR,
                "account_name": CREDENTIAL,
                "account_key": CREDENTIAL,
            }), "[runners.cache.azure]"),
        },
        required=["type"],
    ),
    "Distributed cache ([runners.cache]) shared by the runner's jobs across hosts.",
)

# Keys gitlab-runner reads that the model does not: merged into the generated config.toml
# and checked against stackgen/checks/runner_keys.py (after merging, in fleet/validate.py).
RUNNER_CONFIG = _doc({"type": "object"}, "Extra [[runners]] keys (TOML spelling), checked "
                     "against gitlab-runner's config keys; typed settings win on a conflict.")
MANAGER_CONFIG = _doc({"type": "object"}, "Extra global config.toml keys (TOML spelling), "
                      "checked against gitlab-runner's config keys.")

RUNNER = _obj(
    {
        "executor": _doc(fmt("executor"), "docker (default), shell, kubernetes, custom, or a "
                         "fork's executor (clever-docker with flavor: heptapod)."),
        "cache": CACHE,
        "runner_config": RUNNER_CONFIG,
        "description": STR,
        "tags": {"type": "array", "items": fmt("tag")},
        "run_untagged": BOOL,
        "node": fmt("node-name"),
        "token": _obj({"env": fmt("env-name")}),
        "image": {"type": "string", "minLength": 1},
        "privileged": BOOL,
        "devices": STRINGS,
        "security_opt": STRINGS,
        "cap_add": STRINGS,
        "volumes": {"type": "array", "items": VOLUME},
        "services": {"type": "array", "items": SERVICE},
        "pull_policy": {"oneOf": [PULL, {"type": "array", "items": PULL}]},
        "environment": {
            "type": "object",
            "propertyNames": {"format": "env-name"},
            "additionalProperties": {"type": ["string", "integer", "boolean"]},
        },
        "shm_size": UINT,
        "limit": UINT,
        "helper_image": STR,
        "trust_ca": BOOL,
        "ca_job_path": ABS_PATH,
        "kubernetes": KUBERNETES,
    }
)

MANAGER = _obj(
    {
        "concurrent": {"type": "integer", "minimum": 1},
        "check_interval": {"type": "integer", "minimum": 1},
        "shutdown_timeout": UINT,
        "log_level": {"enum": list(get_args(LogLevel))},
        "session_server": _obj(
            {
                "enabled": BOOL,
                "listen_address": STR,
                "advertise_address": STR,
                "session_timeout": {"type": "integer", "minimum": 1},
            }
        ),
        "trust_ca": BOOL,
        "bake_ca": BOOL,
        "stop_grace_period": fmt("duration"),
        "metrics": _doc(_obj({"enabled": BOOL, "listen_address": STR}),
                        "Prometheus metrics endpoint (listen_address, default [::]:9252); off by default."),
        "service": _doc(_obj({
            "command": STRINGS,
            "user": STR,
            "job_user": STR,
            "working_directory": ABS_PATH,
            "config_path": ABS_PATH,
            "environment_file": ABS_PATH,
            "stop_signal": {"enum": ["SIGQUIT", "SIGTERM", "SIGINT"]},
            "restart": {"enum": ["always", "on-failure", "on-abnormal", "no"]},
            "restart_sec": UINT,
        }), "The systemd unit of a host install (config-toml target)."),
    }
)

LAYER_PROPERTIES: dict[str, Any] = {
    "name": NAME,
    "gitlab": _obj({"url": fmt("gitlab-url")}),
    "nodes": {
        "type": "object",
        "propertyNames": {"format": "node-name"},
        "additionalProperties": _obj(
            {
                "hostname": fmt("hostname"),
                "labels": {
                    "type": "object",
                    "propertyNames": {"format": "label-key"},
                    "additionalProperties": STR,
                },
                # extra swarm placement constraints (key == value / key != value)
                "constraints": STRINGS,
            }
        ),
    },
    "default_node": fmt("node-name"),
    "registry": STR,
    "data": {
        "type": "object",
        "propertyNames": {"format": "name"},
        "additionalProperties": ABS_PATH,
    },
    "certificates": {
        "type": "object",
        "propertyNames": {"format": "name"},
        "additionalProperties": _obj(
            {"file": {"type": "string", "minLength": 1}, "hosts": STRINGS}, required=["file"]
        ),
    },
    "ca": _obj(
        {
            "host_path": ABS_PATH,
            "job_path": ABS_PATH,
        }
    ),
    "images": {
        "type": "object",
        "propertyNames": {"format": "name"},
        "additionalProperties": {"type": "string", "minLength": 1},
    },
    "manager": MANAGER,
    "manager_config": MANAGER_CONFIG,
    "flavor": {"enum": list(FLAVORS)},
    "defaults": RUNNER,
    "runners": {"type": "object", "propertyNames": {"format": "name"}, "additionalProperties": RUNNER},
}

PROFILE_META: dict[str, Any] = {
    "description": STR,
    "include": {"type": "array", "items": NAME},
    "waivers": {"type": "object", "additionalProperties": {"type": "string", "minLength": 10}},
}


# What editors show beside each key (YAML language servers read `description`).
DESCRIPTIONS: dict[str, str] = {
    "name": "Name of the site or fleet; prefixes Kubernetes Secret names.",
    "gitlab": "The GitLab instance the runners register with.",
    "nodes": "Machines that host a runner manager: hostname (swarm placement) and labels.",
    "default_node": "Node for runners whose profile names none.",
    "flavor": "A gitlab-runner fork whose own config keys and executors are allowed "
    "(heptapod: Heptapod PAAS Runner's cc_* keys and clever-docker).",
    "registry": "Registry host[:port] images are pushed to (Harbor, the GitLab registry).",
    "data": "Host paths profiles mount by name: {data: NAME, target: /path}.",
    "certificates": "Private CA files (PEM, relative to the site file) and the hosts they cover.",
    "ca": "Where the CA bundle is on Docker hosts (host_path) and in job containers (job_path).",
    "images": "Named image references: runner (the manager), runner-ca (the CA-baked image).",
    "manager": "The gitlab-runner process on each node: concurrency, session server, CA trust.",
    "defaults": "Settings merged under every runner of the build (a runner's own win).",
    "runners": "Runners by name. Lists merge by appending; `!remove x` drops an inherited item, "
    "`!reset` replaces a value outright; pull_policy, entrypoint and command replace whole.",
    "description": "One line shown by `stackgen list`.",
    "include": "Profiles merged before this one.",
    "waivers": "Lint rules this profile accepts on purpose, each with the reason.",
}


def layer_schema(kind: str) -> dict[str, Any]:
    """The schema for a profile (`kind="profile"`) or a site file / `--set` layer."""
    props = dict(LAYER_PROPERTIES)
    if kind == "profile":
        props.update(PROFILE_META)
    props = {k: {**v, "description": DESCRIPTIONS[k]} if k in DESCRIPTIONS else v
             for k, v in props.items()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:stackgen:schema:{kind}",
        "title": f"stackgen {kind} file",
        "description": f"A stackgen {kind} file (`stackgen schema --kind {kind}`).",
        **_obj(props),
    }


def schema_json(kind: str) -> str:
    return json.dumps(layer_schema(kind), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


_TYPE_WORDS = {"object": "a mapping", "array": "a list", "string": "text", "integer": "a whole number",
               "boolean": "true or false", "number": "a number", "null": "nothing"}


def _describe(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, (dict, list)) else (
        "a mapping" if isinstance(value, dict) else "a list"
    )


def _message(error: Any) -> tuple[str, str | None]:
    """A human sentence for one jsonschema error, plus an optional hint."""
    kind, inst, schema = error.validator, error.instance, error.schema
    if kind == "type":
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        want = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in types)
        hint = None
        if "array" in types and isinstance(inst, str):
            hint = f"write it as a list: [{json.dumps(inst)}]"
        elif "boolean" in types and isinstance(inst, str):
            hint = "write true or false without quotes"
        elif "integer" in types and isinstance(inst, (str, float)):
            hint = "write a whole number without quotes or decimals"
        return f"expected {want}, got {_describe(inst)}", hint
    if kind == "enum":
        choices = [str(c) for c in schema["enum"]]
        return (
            f"{_describe(inst)} is not one of {', '.join(choices)}",
            did_you_mean(str(inst), choices),
        )
    if kind == "format":
        from stackgen.checks import FORMATS

        bad = FORMATS[schema["format"]](inst)
        assert bad is not None, "jsonschema and the checker disagree"
        return bad
    if kind == "minimum":
        return f"{inst} is too small (minimum {schema['minimum']})", None
    if kind == "minLength":
        if schema["minLength"] > 1:  # a waiver's justification
            return f"{_describe(inst)} is too short (at least {schema['minLength']} characters)", (
                "say why the profile needs it"
            )
        return "must not be empty", None
    if kind == "required":
        missing = [k for k in schema["required"] if k not in inst]
        return f"missing required key {', '.join(repr(m) for m in missing)}", None
    if kind == "oneOf":
        types = [t for t in (sub.get("type") for sub in schema["oneOf"]) if isinstance(t, str)]
        if len(types) == len(schema["oneOf"]):
            want = " or ".join(str(_TYPE_WORDS.get(t) or t) for t in types)
            return f"expected {want}, got {_describe(inst)}", None
        return f"{_describe(inst)} does not have a valid form here", None
    return str(error.message), None


def _closest(error: Any) -> Any:
    """For a value matching none of a oneOf's forms, the form it came closest to: the
    deepest failure, and one where at least the type was right (`allways` for a pull
    policy is a misspelt choice, not "a string where a list was expected")."""
    while error.validator in ("oneOf", "anyOf") and error.context:
        best = max(
            error.context,
            key=lambda e: (len(e.absolute_path), e.validator != "type", e.validator != "oneOf"),
        )
        if best.validator == "type" and len(best.absolute_path) == len(error.absolute_path):
            return error  # no form took the value's type: say so for the whole value
        error = best
    return error


def _unknown_keys(error: Any) -> list[str]:
    props = error.schema.get("properties", {})
    return [k for k in error.instance if k not in props]


def _format_checker() -> Any:
    """jsonschema's checker for `checks.FORMATS`, and only those."""
    from jsonschema import FormatChecker

    from stackgen.checks import FORMATS

    checker = FormatChecker(formats=())
    for name, bad in FORMATS.items():
        checker.checks(name)(lambda value, bad=bad: not isinstance(value, str) or bad(value) is None)
    return checker


def validate(doc: Val, kind: str, display: str) -> list[Problem]:
    """Validate one layer; every problem carries the position of the offending key."""
    from stackgen.layers.verdicts import checked  # a big layer that passed once passes again

    return checked(data := doc.plain(), kind, lambda: _problems(doc, data, kind))


def _problems(doc: Val, data: Any, kind: str) -> list[Problem]:
    from stackgen.layers.secret_scan import scan_layer

    secrets = scan_layer(doc)
    if secrets:  # refused first, so no message below can echo a pasted token
        return secrets
    problems: list[Problem] = []
    if not _check(kind)(data):  # jsonschema runs (for its messages) only on a no
        problems = _schema_problems(doc, data, kind)
    from stackgen.layers.values import layer_problems  # control characters, 4.0 for 4

    reported = {p.key for p in problems}
    return problems + [p for p in layer_problems(doc) if p.key not in reported]


@functools.cache
def _check(kind: str) -> Callable[[Any], bool]:
    from stackgen.layers.schema_check import compile_schema

    return compile_schema(layer_schema(kind))


def _schema_problems(doc: Val, data: Any, kind: str) -> list[Problem]:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(layer_schema(kind), format_checker=_format_checker())
    problems: list[Problem] = []
    for error in validator.iter_errors(data):
        error = _closest(error)
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            allowed = list(error.schema.get("properties", {}))
            for key in _unknown_keys(error):
                where = locate(doc, (*path, key), key=True)
                problems.append(
                    Problem(
                        f"unknown key {key!r}",
                        where,
                        dotted((*path, key)),
                        did_you_mean(key, allowed),
                    )
                )
            continue
        message, hint = _message(error)
        if "propertyNames" in error.relative_schema_path:  # a map key, not its value
            key = str(error.instance)
            path = (*path, key)
            problems.append(Problem(message, locate(doc, path, key=True), dotted(path), hint))
            continue
        problems.append(Problem(message, locate(doc, path), dotted(path), hint))
    return problems

