"""Values checked against what their consumers accept, so mistakes surface here, not at deploy.

`fleet_problems(fleet, where)` runs on the finished model (and `layers.values` on each
input layer, with the same checkers from `checks`): image references, hostnames,
  swarm constraints, Kubernetes labels, durations, addresses, devices, names that become
  file and service names. Keys are named as the user wrote them (`runners.bids.image`) and
  `where(key)` finds the file:line. `api.render` runs it too, so a model built by hand
  cannot make a renderer emit something its consumer would misread.

The rule behind both stages: stackgen escapes a value for every layer between its output and the
consumer (YAML, TOML, compose interpolation, Helm `tpl`, Dockerfile syntax); where no
escaping can make a value valid for the consumer (a newline in an image name), it is
rejected here with the reason.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass
from operator import attrgetter
from typing import Any, get_args

from stackgen import model as m
from stackgen.checks import (
    INT64_MAX,
    Bad,
    address_bad,
    alias_bad,
    capability_bad,
    cert_host_bad,
    constraint_bad,
    device_bad,
    duration_bad,
    env_name_bad,
    gitlab_url_bad,
    hostname_bad,
    image_bad,
    k8s_name_bad,
    label_key_bad,
    label_value_bad,
    name_bad,
    node_name_bad,
    path_bad,
    registry_bad,
    security_opt_bad,
    tag_bad,
    text_bad,
    toleration_bad,
    volume_source_bad,
    volume_target_key,
)
from stackgen.errors import Origin, Problem, did_you_mean
from stackgen.fleet.runner_checks import manager_problems, runner_problems
from stackgen.layers.located import Val
from stackgen.layers.values import multiline_key

Where = Callable[[str], Origin | None]

# --- the model --------------------------------------------------------------------------

LOG_LEVELS: tuple[str, ...] = get_args(m.LogLevel)
PULL_POLICIES: tuple[str, ...] = get_args(m.PullPolicy)
FUSE_MODES: tuple[str, ...] = get_args(m.FuseMode)
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", re.ASCII)


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def model_texts(obj: Any, key: str = "", skip: frozenset[int] = frozenset()
                ) -> list[tuple[str, str]]:
    """Every text in a model object with the input key it came from, fields found by
    introspection so a field added to the model later is checked too; the objects whose
    id() is in `skip` are left out."""
    out: list[tuple[str, str]] = []
    _collect(obj, key, out, skip)
    return out


def _collect(obj: Any, key: str, out: list[tuple[str, str]], skip: frozenset[int]) -> None:
    if isinstance(obj, str):
        out.append((key, obj))
        return
    names = _FIELD_NAMES.get(type(obj))
    if names is None and is_dataclass(obj):
        names = _FIELD_NAMES[type(obj)] = tuple(f.name for f in fields(obj))
    if names is not None:
        if id(obj) in skip:
            return
        for name in names:
            value = getattr(obj, name)
            if value is not None and not isinstance(value, (bool, int)):
                _collect(value, _field_key(obj, name, key), out, skip)
    elif isinstance(obj, tuple):
        if all(isinstance(x, str) for x in obj):  # tags, devices, ...: the common case
            out += ((f"{key}[{i}]", x) for i, x in enumerate(obj))
        elif all(isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str) for x in obj):
            for name, value in obj:  # a mapping stored as pairs
                out.append((f"{key}.{name}", name))
                _collect(value, f"{key}.{name}", out, skip)
        else:
            for i, item in enumerate(obj):
                if id(item) not in skip:  # (before its key is made)
                    _collect(item, _item_key(item, key, i), out, skip)


def _printable(obj: Any) -> bool:
    """No text in `obj` holds a character text_bad looks at (all of them are unprintable)."""
    return "".join(_strings(obj, [])).isprintable()


def _strings(obj: Any, out: list[str]) -> list[str]:
    """The texts model_texts finds, without their keys: one getter per model class and no
    key strings made (twice as fast)."""
    kind = type(obj)
    if kind is tuple:
        items = obj
    elif kind is str:
        out.append(obj)
        return out
    else:
        getter = _GETTERS.get(kind)
        if getter is None:
            if isinstance(obj, str):
                out.append(obj)
            elif isinstance(obj, tuple) or is_dataclass(obj):
                _strings(tuple(obj) if isinstance(obj, tuple) else _values(obj), out)
            return out
        items = getter(obj)
    for value in items:
        if type(value) is str:
            out.append(value)
        elif value and not isinstance(value, (bool, int)):  # (an empty tuple holds no text)
            _strings(value, out)
    return out


def _values(obj: Any) -> tuple[Any, ...]:
    """Every field value of a model object; a getter for its class is kept for the next."""
    names = tuple(f.name for f in fields(obj))
    getter: Callable[[Any], tuple[Any, ...]] = (
        attrgetter(*names) if len(names) > 1 else (lambda o: tuple(getattr(o, n) for n in names)))
    _GETTERS[type(obj)] = getter
    return getter(obj)


_GETTERS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


_FIELD_KEYS = {
    (m.Fleet, "gitlab_url"): "gitlab.url",
    (m.Fleet, "ca_host_path"): "ca.host_path",
    (m.Fleet, "ca_job_path"): "ca.job_path",
    (m.Fleet, "ca_image"): "images.runner-ca",
    (m.Fleet, "managers"): "",
    (m.Manager, "image"): "images.runner",
    (m.Manager, "runners"): "",
    (m.Manager, "node"): "",
}


def _field_key(obj: Any, name: str, key: str) -> str:
    mapped = _FIELD_KEYS.get((type(obj), name))
    if mapped is not None:
        return mapped
    if isinstance(obj, m.Manager):
        key = "manager"
    return f"{key}.{name}" if key else name


def _item_key(item: Any, key: str, i: int) -> str:
    if isinstance(item, m.Manager):
        return "manager"
    if isinstance(item, m.Runner):
        return f"runners.{item.name}"
    if isinstance(item, m.Certificate):
        return f"certificates.{item.name}"
    return f"{key}[{i}]"


class _Checker:
    def __init__(self, where: Where) -> None:
        self.where = where
        self.problems: list[Problem] = []

    def __call__(self, key: str, bad: Bad) -> None:
        if bad:
            self.problems.append(Problem(bad[0], self.where(key), key, bad[1]))

    def number(self, key: str, value: int, minimum: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            self(key, (f"expected a whole number, got {value!r}", None))
        elif not minimum <= value <= INT64_MAX:
            self(key, (f"{value} is out of range (minimum {minimum})", None))

    def choice(self, key: str, value: str, choices: tuple[str, ...]) -> None:
        if value not in choices:
            self(key, (f"{value!r} is not one of {', '.join(choices)}",
                       did_you_mean(value, choices)))


def fleet_problems(fleet: m.Fleet, where: Where = lambda key: None) -> list[Problem]:
    """Everything in the model its consumers would reject; keys name the input setting."""
    check = _Checker(where)
    # keys are named only for runners with an unprintable character: almost none has one
    # (a certificate's PEM spans lines), and naming every text's key was most of the time
    clean = frozenset(id(r) for r in fleet.runners if _printable(r))
    for key, text in model_texts(fleet, skip=clean):
        # a multi-line field only allows more: the key is looked at only for a suspect
        if text_bad(text) and (bad := text_bad(text, multiline_key(key))):
            check(key, (f"{text!r} {bad[0]}", bad[1]))
    if check.problems:
        return check.problems  # the other checks would only repeat these
    check("name", name_bad(fleet.name))
    check("gitlab.url", gitlab_url_bad(fleet.gitlab_url))
    if fleet.registry is not None:
        check("registry", registry_bad(fleet.registry))
    for name, ref in fleet.images:
        check(f"images.{name}", image_bad(ref))
    if fleet.ca_image is not None:
        check("images.runner-ca", image_bad(fleet.ca_image))
    check("ca.host_path", path_bad(fleet.ca_host_path))
    check("ca.job_path", path_bad(fleet.ca_job_path))
    for cert in fleet.certificates:
        check(f"certificates.{cert.name}", name_bad(cert.name))
        for i, host in enumerate(cert.hosts):
            check(f"certificates.{cert.name}.hosts[{i}]", cert_host_bad(host))
    _unique(check, "nodes", [mgr.name for mgr in fleet.managers])
    _unique(check, "runners", [r.name for r in fleet.runners])
    for manager in fleet.managers:
        _manager(check, manager)
        manager_problems(check, fleet, manager)
        for runner in manager.runners:
            _runner(check, runner)
            runner_problems(check, fleet, runner)
    return check.problems


def _unique(check: _Checker, section: str, names: list[str]) -> None:
    from collections import Counter

    for name in sorted(n for n, count in Counter(names).items() if count > 1):
        check(f"{section}.{name}", (f"{section[:-1]} name {name!r} is used twice", None))


def _manager(check: _Checker, mgr: m.Manager) -> None:
    node = f"nodes.{mgr.node.name}"
    check(f"nodes.{mgr.name}", node_name_bad(mgr.name))
    if mgr.node.hostname is not None:
        check(f"{node}.hostname", hostname_bad(mgr.node.hostname))
    for key, value in mgr.node.labels:
        check(f"{node}.labels.{key}", label_key_bad(key) or label_value_bad(value))
    if not mgr.node.constraints():
        check(node, ("a node needs a hostname or labels, or it cannot be pinned", None))
    for i, expr in enumerate(mgr.node.placement):
        check(f"{node}.constraints[{i}]", constraint_bad(expr))
    for expr in mgr.node.constraints():
        if expr in mgr.node.placement:
            continue
        bad = constraint_bad(expr)  # made from a label: swarm allows no '/' in keys
        check(node, bad and (f"swarm cannot pin the node with {expr!r}: {bad[0]}",
                             "give the node a hostname to pin it by name"))
    check("images.runner", image_bad(mgr.image))
    check.number("manager.concurrent", mgr.concurrent, 1)
    check.number("manager.check_interval", mgr.check_interval, 1)
    check.number("manager.shutdown_timeout", mgr.shutdown_timeout, 0)
    check.number("manager.replicas", mgr.replicas, 0)
    check.choice("manager.log_level", mgr.log_level, LOG_LEVELS)
    check("manager.stop_grace_period", duration_bad(mgr.stop_grace_period))
    if mgr.session_server is not None:
        key = "manager.session_server"
        server = mgr.session_server
        check(f"{key}.listen_address", address_bad(server.listen_address, host_required=False))
        check(f"{key}.advertise_address", address_bad(server.advertise_address, False))
        check.number(f"{key}.session_timeout", server.session_timeout, 1)


def _runner(check: _Checker, r: m.Runner) -> None:
    # a key is named only for a value found bad: making one for every value of every
    # runner was most of the time these checks took
    key = f"runners.{r.name}"
    check(key, name_bad(r.name))
    for i, tag in enumerate(r.tags):
        if bad := _tag_bad(tag):
            check(f"{key}.tags[{i}]", bad)
    if bad := _env_name_bad(r.token.env):
        check(f"{key}.token.env", bad)
    if bad := _image_bad(r.image):
        check(f"{key}.image", bad)
    if r.helper_image is not None:
        check(f"{key}.helper_image", image_bad(r.helper_image))
    for i, dev in enumerate(r.devices):
        check(f"{key}.devices[{i}]", device_bad(dev))
    for i, opt in enumerate(r.security_opt):
        check(f"{key}.security_opt[{i}]", security_opt_bad(opt))
    for i, cap in enumerate(r.cap_add):
        check(f"{key}.cap_add[{i}]", capability_bad(cap))
    _volumes(check, key, r.volumes)
    for i, svc in enumerate(r.services):
        if bad := _image_bad(svc.name):
            check(f"{key}.services[{i}].name", bad)
        if svc.alias is not None and (bad := alias_bad(svc.alias)):
            check(f"{key}.services[{i}].alias", bad)
    for i, policy in enumerate(r.pull_policy):
        if policy not in PULL_POLICIES:
            check.choice(f"{key}.pull_policy[{i}]", policy, PULL_POLICIES)
    for name, _ in r.environment:
        if bad := _env_name_bad(name):
            check(f"{key}.environment.{name}", bad)
    if type(r.shm_size) is not int or not 0 <= r.shm_size <= INT64_MAX:
        check.number(f"{key}.shm_size", r.shm_size, 0)
    if type(r.limit) is not int or not 0 <= r.limit <= INT64_MAX:
        check.number(f"{key}.limit", r.limit, 0)
    if r.ca_job_path is not None:
        check(f"{key}.ca_job_path", path_bad(r.ca_job_path))
    for name, path in r.data:
        if bad := name_bad(name) or _path_bad(path):
            check(f"data.{name}", bad)
    _kubernetes(check, f"{key}.kubernetes", r.kubernetes)


# The checkers are pure, and a fleet repeats most values (images, tags, paths, variable
# names): each is checked once per process.
_tag_bad = functools.lru_cache(maxsize=1024)(tag_bad)
_env_name_bad = functools.lru_cache(maxsize=1024)(env_name_bad)
_image_bad = functools.lru_cache(maxsize=1024)(image_bad)
_path_bad = functools.lru_cache(maxsize=1024)(path_bad)
_volume_source_bad = functools.lru_cache(maxsize=1024)(volume_source_bad)
_target_key = functools.lru_cache(maxsize=1024)(volume_target_key)


def _volumes(check: _Checker, key: str, volumes: tuple[m.Volume, ...]) -> None:
    seen: dict[str, str] = {}
    for i, vol in enumerate(volumes):
        where = f"{key}.volumes[{i}]"
        check(where, _path_bad(vol.target) or (
            _volume_source_bad(vol.source) if vol.source is not None else None))
        dest = _target_key(vol.target)
        if dest == "/":
            check(where, ("a volume cannot be mounted at /", None))
        elif dest in seen:
            other = check.where(seen[dest])
            at = f" (the other is at {other})" if other else ""
            check(where, (f"two volumes mount at {dest}{at}; docker refuses duplicate "
                          "destinations", "drop one with !remove, or mount at another path"))
        seen.setdefault(dest, where)


def _kubernetes(check: _Checker, key: str, kube: m.KubernetesOptions) -> None:
    for field_name in ("namespace", "manager_namespace"):
        value = getattr(kube, field_name)
        if not _DNS_LABEL.fullmatch(value):
            check(f"{key}.{field_name}", (f"{value!r} is not a Kubernetes namespace name", None))
    for name, value in kube.node_selector:
        check(f"{key}.node_selector.{name}", label_key_bad(name) or label_value_bad(value))
    if kube.fuse not in FUSE_MODES:
        check.choice(f"{key}.fuse", kube.fuse, FUSE_MODES)
    if "/" not in kube.fuse_resource or _label_key_bad(kube.fuse_resource):
        check(f"{key}.fuse_resource", (f"{kube.fuse_resource!r} is not an extended resource "
                                        "name (domain/name)", None))
    for i, toleration in enumerate(kube.tolerations):
        check(f"{key}.tolerations[{i}]", toleration_bad(toleration))
    secret, path = kube.docker_config_secret, kube.docker_config_path
    if secret is not None:
        check(f"{key}.docker_config.secret", k8s_name_bad(secret))
    if path is not None:
        check(f"{key}.docker_config.path", path_bad(path))
    for i, name in enumerate(kube.image_pull_secrets):
        check(f"{key}.image_pull_secrets[{i}]", k8s_name_bad(name))
    for name, claim in kube.data_claims:
        check(f"{key}.data_claims.{name}", k8s_name_bad(claim))


_label_key_bad = functools.lru_cache(maxsize=256)(label_key_bad)


def locator(tree: Val, runners: Mapping[str, Val]) -> Where:
    """`where(key)` for a composed build: the origin of the value behind an input key.

    Runner keys resolve in the runner's effective settings (its own or `defaults:`); keys
    are matched against the tree, so map keys holding dots (`kubernetes.io/arch`) work.
    """

    def where(key: str) -> Origin:
        if key.startswith("runners."):
            for name in runners:  # only the runner named is looked up (it may be made then)
                prefix = f"runners.{name}"
                if key == prefix or key.startswith((prefix + ".", prefix + "[")):
                    return _resolve(runners[name], key[len(prefix):].lstrip("."))
        return _resolve(tree, key)

    return where


def _resolve(val: Val, key: str) -> Origin:
    """The origin of the deepest node along a dotted key (`a.b[0].c`)."""
    while key:
        if key.startswith("["):
            end = key.find("]")
            child = val.get(int(key[1:end])) if end > 1 and key[1:end].isdigit() else None
            rest = key[end + 1:]
        elif isinstance(val.value, dict):
            name = max(
                (k for k in val.value if key == k or key.startswith((k + ".", k + "["))),
                key=len,
                default=None,
            )
            child = val.value[name] if name is not None else None
            rest = key[len(name):] if name is not None else ""
        else:
            child = None
            rest = ""
        if child is None:
            break
        val, key = child, rest.lstrip(".")
    return val.origin
