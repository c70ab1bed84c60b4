"""The escape hatches merged into config.toml: `runner_config:` and `manager_config:`.

Their keys were checked against gitlab-runner's key table (fleet/validate.py); here they
join the tables the typed model produced. The typed model always wins: an escape-hatch key
that the model already writes with another value is an error naming both, never a silent
override either way. `${VAR}` references in them (a fork's API token, say) are delivered
like runner tokens (from the environment, or a secret file the entrypoint substitutes) when
they stand for a credential (`SECRET_KEYS`) or are a whole value; a `${...}` inside other
text is left to the runner.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from stackgen.checks.runner_keys import SECRET_KEYS
from stackgen.errors import Problem, UserError
from stackgen.model import Manager, Runner, table_dict
from stackgen.serialize.toml import Table

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _plain(item: Any) -> Any:
    return item.unwrap() if hasattr(item, "unwrap") else item


# config.toml key -> the typed input key that writes it, for conflict messages
_TYPED = {"docker.tls_verify": "(always false: the local daemon socket)", "url": "gitlab.url",
          "tls-ca-file": "manager.trust_ca", "concurrent": "manager.concurrent",
          "check_interval": "manager.check_interval", "log_level": "manager.log_level",
          "shutdown_timeout": "manager.shutdown_timeout",
          "listen_address": "manager.metrics.listen_address"}


def _typed_key(toml_path: str, prefix: str) -> str:
    if toml_path in _TYPED:
        return _TYPED[toml_path]
    parts = toml_path.split(".")
    if parts[0] in ("docker", "kubernetes") and len(parts) > 1:
        parts = parts[1:]
    return f"{prefix}.{parts[0]}" if prefix else parts[0]


def merge_into(
    target: Table, extra: Mapping[str, Any], key: str, prefix: str, toml: str = ""
) -> list[Problem]:
    """Add `extra` to `target`; a different value already there is a problem naming both.

    `key` is the input key of `extra` (runners.x.runner_config), `prefix` the typed
    section that wrote `target` (runners.x, or "" for the global section)."""
    problems: list[Problem] = []
    for name, value in extra.items():
        if value is None:
            continue  # a later layer's `name: null` leaves the key out
        here, path = f"{key}.{name}", f"{toml}.{name}" if toml else name
        if name not in target:
            target.add(name, value)
            continue
        existing = target[name]
        if isinstance(existing, Table) and isinstance(value, Mapping):
            problems += merge_into(existing, value, here, prefix, path)
        elif _plain(existing) != value:
            problems.append(Problem(
                f"{value!r} conflicts with {_plain(existing)!r} that {_typed_key(path, prefix)} "
                f"writes at {path} in config.toml; the typed setting wins",
                key=here,
                hint="set the value through the typed key, or drop it from the escape hatch",
            ))
    return problems


def merge_runner(table: Table, runner: Runner) -> None:
    extra = table_dict(runner.runner_config)
    problems = merge_into(table, extra, f"runners.{runner.name}.runner_config",
                          f"runners.{runner.name}")
    if problems:
        raise UserError(problems)


def merge_manager(doc: Table, manager: Manager) -> None:
    extra = table_dict(manager.config)
    problems = []
    if manager.session_server and extra.get("session_server") is not None:
        # the typed table is written after this merge: two [session_server] tables
        problems.append(Problem(
            "[session_server] is written from manager.session_server already",
            key="manager_config.session_server",
            hint="set the session server through manager.session_server only"))
        extra = {k: v for k, v in extra.items() if k != "session_server"}
    problems += merge_into(doc, extra, "manager_config", "")
    if problems:
        raise UserError(problems)


def _refs(value: Any, key: str = "") -> Iterator[str]:
    """`${VAR}` in credential keys, and values that are one `${VAR}` as a whole: inside
    other text (pre_build_script, job variables) a `${VAR}` is the runner's or the job's
    own, expanded at run time."""
    if isinstance(value, Mapping):
        for name, item in value.items():
            yield from _refs(item, str(name))
    elif isinstance(value, str) and (key in SECRET_KEYS or REFERENCE.fullmatch(value)):
        yield from REFERENCE.findall(value)


def config_refs(manager: Manager) -> list[str]:
    """Environment variables the manager's escape hatches and caches reference, in order:
    each must reach config.toml like a token."""
    out: list[str] = []
    sources: list[Any] = [table_dict(manager.config)]
    for runner in manager.runners:
        if runner.cache:
            out += [env for _, env in runner.cache.credentials if env not in out]
        if runner.runner_config:  # almost always empty: no table to make and walk
            sources.append(table_dict(runner.runner_config))
    for source in sources:
        out += [env for env in _refs(source) if env not in out]
    return out
