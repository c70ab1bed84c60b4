"""The target registry: one module per target, one line here. `--target` choices come from it.

A target is a pure function `render(fleet) -> {relative path: text}`: it reads only the
model, never the disk, and raises `UserError` for what its consumer cannot express.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from ..model import Fleet

Renderer = Callable[[Fleet], dict[str, str]]

# target name -> (module, one-line description). Modules load only when used (start-up time).
TARGETS: dict[str, tuple[str, str]] = {
    "config-toml": ("config_toml", "gitlab-runner config.toml, one per node"),
    "swarm": ("swarm", "docker stack file pinned to nodes, config.toml as a swarm secret"),
}


def renderer(name: str) -> Renderer:
    module = import_module(f"{__name__}.{TARGETS[name][0]}")
    return module.render  # type: ignore[no-any-return]
