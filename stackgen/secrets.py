"""Keeping secret values out of every generated file.

stackgen writes where a token comes from (`${RUNNER_TOKEN_PREPROC}`, a swarm secret, a
Kubernetes Secret), never the token. Two checks hold that line:

* `scan_layer` looks at every key and string of every input layer (profile, site file,
  each `--set`) before schema validation, so a pasted token is refused with its
  file:line:col and key path, and no later error message can echo it back;
* `check_rendered` looks at every rendered file, the last guard before anything is
  printed or written; a hit there is a bug or a value that slipped past the first check.

Messages name the kind of secret and where it is, never the value (CI logs are public).

There is deliberately no opt-in for literal secrets, not even for throwaway labs: the
model has nowhere to keep one (a runner's token is a `TokenRef`), every target already
works with a reference, and `export RUNNER_TOKEN_X=...` is one line, while an opt-in flag
ends up copied into CI scripts. Keeping "never" absolute keeps the output guard simple.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from .errors import Origin, Problem, UserError
from .located import Val, dotted, walk

# https://docs.gitlab.com/security/tokens/#token-prefixes ; an instance may put its own
# prefix in front ("acme-glrt-..."), hence no word boundary on the left of the dash.
# Bodies are at least 20 URL-safe characters (legacy tokens are exactly 20), so a host
# name such as "gldt-server.example.org" is not mistaken for a deploy token.
_GITLAB = {
    "glpat": "GitLab personal access token",
    "glrt": "GitLab runner authentication token",
    "glrtr": "GitLab runner authentication token",
    "gldt": "GitLab deploy token",
    "glptt": "GitLab pipeline trigger token",
    "glcbt": "GitLab CI/CD job token",
    "glft": "GitLab feed token",
    "glimt": "GitLab incoming mail token",
    "glagent": "GitLab agent for Kubernetes token",
    "gloas": "GitLab OAuth application secret",
    "glsoat": "GitLab service account token",
    "glffct": "GitLab feature flags client token",
    "glwt": "GitLab workspace token",
}
SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    *(
        (f"{what} ({prefix}-...)", re.compile(rf"(?<![A-Za-z0-9]){prefix}-[A-Za-z0-9_-]{{20,}}"))
        for prefix, what in _GITLAB.items()
    ),
    # Runner registration tokens: RUNNERS_TOKEN_PREFIX in GitLab's runners_token_prefixable.rb
    ("GitLab runner registration token (GR1348941...)",
     re.compile(r"(?<![A-Za-z0-9])GR1348941[A-Za-z0-9_-]{20,}")),
    ("private key (PEM)", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")),
    ("GitHub token", re.compile(r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_\w{40,})")),
    ("Docker Hub access token (dckr_pat_...)", re.compile(r"(?<![A-Za-z0-9])dckr_pat_[\w-]{20,}")),
    # user:password@ in a URL, unless the password is itself a $VAR reference
    ("password in a URL", re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:(?!\$\{?\w+\}?@)[^/\s@]+@")),
)

TOKEN_REF_KEYS = ("env", "file")  # what a `token:` mapping may hold: references only
# Environment variable names that announce a secret (but *_FILE, *_PATH, *_DIR name a place).
_SECRET_NAME = re.compile(
    r"(^|_)(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_KEY|PRIVATE_KEY|AUTH_CONFIG|CREDENTIALS?)"
    r"(_|$)"
)
_PLACE_NAME = ("_FILE", "_PATH", "_DIR")
_REFERENCE = re.compile(r"^\$\{?[A-Za-z_][A-Za-z0-9_]*\}?$")

ENV_HINT = (
    "store it as a masked CI/CD variable in GitLab, Settings > CI/CD > Variables: jobs get "
    "it without it being written into the runner's configuration"
)
KEY_HINT = "stackgen needs only CA certificates (BEGIN CERTIFICATE); keep private keys out of its inputs"


def find_secret(text: str) -> tuple[str, int] | None:
    """The kind of the first secret value in `text` and its offset, or None."""
    hits = [(m.start(), kind) for kind, rx in SECRET_PATTERNS if (m := rx.search(text))]
    if not hits:
        return None
    start, kind = min(hits)
    return kind, start


def redact(text: str) -> str:
    """`text` with every secret value replaced by `<redacted KIND>`: the same patterns that
    guard rendered files, applied to every message stackgen shows (CI logs are public)."""
    for kind, rx in SECRET_PATTERNS:
        text = rx.sub(f"<redacted {kind.split(' (')[0]}>", text)
    return text


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
        elif (len(path) > 1 and path[-2] == "environment" and isinstance(key, str)
              and _SECRET_NAME.search(key.upper()) and not key.upper().endswith(_PLACE_NAME)
              and text and not _REFERENCE.match(text)):
            problems.append(_problem(f"{key} looks like a secret and has a literal value",
                                     node, path, ENV_HINT))
    return problems


def check_rendered(files: Mapping[str, str], target: str) -> None:
    """Refuse output that carries a secret value; this is stackgen's last line of defence."""
    problems = []
    for rel, text in sorted(files.items()):
        for kind, rx in SECRET_PATTERNS:
            for match in rx.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(Problem(
                    f"{rel}:{line}: the rendered {target} output contains a {kind}; "
                    "stackgen refuses to write secret values (this is a bug or a value that "
                    "slipped past the input check: please report it)",
                    Origin("flag", f"--target {target}"),
                ))
    if problems:
        raise UserError(problems)
