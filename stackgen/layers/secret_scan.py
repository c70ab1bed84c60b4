"""Literal secrets in one input layer, refused before anything else reads the layer.

The patterns are `stackgen.secrets`'; what counts as a reference (`token: {env: NAME}`,
`$VAR` in a secret-named environment variable) is input policy and lives here.
"""

from __future__ import annotations

import re
from dataclasses import replace

from stackgen.checks.runner_keys import SECRET_KEYS
from stackgen.errors import Origin, Problem
from stackgen.layers.located import Val, dotted, walk
from stackgen.secrets import find_secret

TOKEN_REF_KEYS = ("env", "file")  # what a `token:` mapping may hold: references only
# Environment variable names that announce a secret (but *_FILE, *_PATH, *_DIR name a place).
_SECRET_NAME = re.compile(
    r"(^|_)(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_KEY|PRIVATE_KEY|AUTH_CONFIG|CREDENTIALS?)"
    r"(_|$)"
)
_PLACE_NAME = ("_FILE", "_PATH", "_DIR")
_REFERENCE = re.compile(r"^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$")
# config.toml written through the escape hatches: only ${VAR} stands in for a credential
_CONFIG_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$")
ESCAPE_HATCHES = ("runner_config", "manager_config")
# a cache credential is a mapping naming where it comes from, never a value
CACHE_CREDENTIAL_KEYS = ("access_key", "secret_key", "access_id", "private_key", "account_name",
                         "account_key")
CONFIG_HINT = ('write a reference such as "${CC_TOKEN}": the deployment supplies the value '
               "(the host's tokens.env, a swarm or compose secret)")

ENV_HINT = (
    "store it as a masked CI/CD variable in GitLab, Settings > CI/CD > Variables: jobs get "
    "it without it being written into the runner's configuration"
)
KEY_HINT = "stackgen needs only CA certificates (BEGIN CERTIFICATE); keep private keys out of its inputs"


def _token_hint(path: tuple[str | int, ...]) -> str:
    runner = str(path[1]) if len(path) > 2 and path[0] == "runners" else ""
    var = "RUNNER_TOKEN_" + runner.upper().replace("-", "_") if runner else "RUNNER_TOKEN_NAME"
    where = f"runners.{runner}.token" if runner else "runners.NAME.token"
    return (
        f"remove it: the generated files refer to it as {var} (another name: "
        f"`{where}: {{env: NAME}}`), and each target's notes say where the value goes at "
        "deploy time (a swarm secret, compose .env, the runner host's tokens.env, or the "
        "Kubernetes Secret the Helm values name)"
    )


def _hint(kind: str, path: tuple[str | int, ...]) -> str:
    if kind.startswith("private key"):
        return KEY_HINT
    if "environment" in path:
        return ENV_HINT
    if "runner" in kind:
        return _token_hint(path)
    if kind.startswith("password in a URL"):
        return "remove the user:password@ part; give credentials to the consumer as a secret"
    return ("reference it instead of pasting it: runner tokens as {env: NAME}, job secrets as "
            "masked CI/CD variables in GitLab")


def _redact(origin: Origin) -> Origin:
    # a --set origin is the flag text itself, value included
    if origin.kind == "set" and origin.file and "=" in origin.file:
        return replace(origin, file=origin.file.split("=", 1)[0] + "=<redacted>")
    return origin


def _problem(message: str, node: Val, path: tuple[str | int, ...], hint: str) -> Problem:
    return Problem(
        message + "; stackgen never writes secret values into generated files",
        _redact(node.origin),
        dotted(path),
        hint,
    )


def scan_layer(doc: Val) -> list[Problem]:
    """Every literal secret in one input layer: token patterns anywhere, and any value in a
    `token:` field or in a secret-named environment variable that is not a reference."""
    problems: list[Problem] = []
    for path, node in walk(doc):
        key = path[-1] if path else None
        if isinstance(node.value, dict):
            for name, child in node.value.items():
                if found := find_secret(name):
                    problems.append(_problem(f"a key looks like a {found[0]}", child,
                                             (*path, name), _hint(found[0], path)))
            continue
        if isinstance(node.value, list) or node.value is None or isinstance(node.value, bool):
            continue
        text = str(node.value)
        if found := find_secret(text):
            problems.append(_problem(f"this looks like a {found[0]}", node, path,
                                     _hint(found[0], path)))
        elif key == "token" or (len(path) > 1 and path[-2] == "token" and key not in TOKEN_REF_KEYS):
            problems.append(_problem("a token field holds a literal value, not a reference",
                                     node, path, _token_hint(path)))
        elif (key in SECRET_KEYS and any(h in path for h in ESCAPE_HATCHES)
              and not _CONFIG_REFERENCE.match(text)):
            problems.append(_problem(f"{key} holds a literal value, not a ${{VAR}} reference",
                                     node, path, CONFIG_HINT))
        elif key in CACHE_CREDENTIAL_KEYS and "cache" in path:
            problems.append(_problem(f"the cache credential {key} holds a literal value",
                                     node, path, f"name where it comes from: {key}: {{env: NAME}}"))
        elif (len(path) > 1 and path[-2] == "environment" and isinstance(key, str)
              and _SECRET_NAME.search(key.upper()) and not key.upper().endswith(_PLACE_NAME)
              and text and not _REFERENCE.match(text)):
            problems.append(_problem(f"{key} looks like a secret and has a literal value",
                                     node, path, ENV_HINT))
    return problems
