"""The target registry: one module per target, one line here. `--target` choices come from it.

A target is a pure function `render(fleet) -> {relative path: text}`: it reads only the
model, never the disk, and raises `UserError` for what its consumer cannot express.

A target module may also declare `SENSITIVE`, a tuple of glob patterns naming the files
that carry token references or will hold a secret at deploy time; the writer makes those
0600 (everything else 0644). A pattern without "/" matches the file name, one with "/" the
whole relative path. `SENSITIVE_ALWAYS` applies to every target.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase
from importlib import import_module
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI reads TARGETS at start-up: the model loads only for a build
    from stackgen.model import Fleet

Renderer = Callable[["Fleet"], dict[str, str]]

# target name -> (module, one-line description). Modules load only when used (start-up time).
TARGETS: dict[str, tuple[str, str]] = {
    "config-toml": ("config_toml", "gitlab-runner config.toml, one per node"),
    "swarm": ("swarm", "docker stack file pinned to nodes, config.toml as a swarm secret"),
    "compose": ("compose", "docker compose project per node (single host, no swarm)"),
    "dockerfile": ("dockerfile", "runner image with the site CA baked in, and its build context"),
    "helm": ("helm", "gitlab/gitlab-runner chart values (0.86.x), one release per runner"),
}


def renderer(name: str) -> Renderer:
    module = import_module(f"{__name__}.{TARGETS[name][0]}")
    return module.render  # type: ignore[no-any-return]


# config.toml holds `token = "${RUNNER_TOKEN_X}"`, and gitlab-runner writes the real token
# back into it when it registers or rotates one; .env files are what compose reads
# variables (tokens) from.
SENSITIVE_ALWAYS: tuple[str, ...] = ("config.toml", ".env", "*.env")


def sensitive_files(name: str, paths: Iterable[str]) -> frozenset[str]:
    """The paths of a render of target `name` that must be written readable by owner only."""
    module = import_module(f"{__name__}.{TARGETS[name][0]}") if name in TARGETS else None
    patterns = SENSITIVE_ALWAYS + tuple(getattr(module, "SENSITIVE", ()))
    return frozenset(
        path
        for path in paths
        for pattern in patterns
        if fnmatchcase(path if "/" in pattern else PurePosixPath(path).name, pattern)
    )
