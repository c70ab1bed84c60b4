"""stackgen: compose named profiles into every file a self-hosted GitLab Runner fleet needs.

    >>> import stackgen
    >>> fleet = stackgen.build(["preproc"])            # the model (frozen dataclasses)
    >>> files = stackgen.render(fleet, "swarm")        # {relative path: text}

Names load on first use (PEP 562), so `import stackgen` and the CLI's start-up stay cheap.
No public name is also a submodule's name: importing the submodule would shadow it.
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # not typing's: importing typing is a tenth of the CLI's start-up
if TYPE_CHECKING:
    from typing import Any

    from stackgen.api import (
        Explanation,
        ProfileSummary,
        build,
        drift,
        explain,
        generate,
        list_profiles,
        list_targets,
        render,
        write,
    )
    from stackgen.errors import Finding, Problem, StackgenError, UserError
    from stackgen.fleet.assemble import Composition, assemble
    from stackgen.model import Certificate, Fleet, Manager, Node, Runner, Service, Volume

_HOMES = {
    "stackgen.api": ("Explanation", "ProfileSummary", "build", "drift", "explain", "generate",
             "list_profiles", "list_targets", "render", "write"),
    "stackgen.fleet.assemble": ("Composition", "assemble"),
    "stackgen.errors": ("Finding", "Problem", "StackgenError", "StackgenWarning", "UserError"),
    "stackgen.model": ("Certificate", "Fleet", "Manager", "Node", "Runner", "Service", "Volume"),
}
_WHERE = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "Certificate", "Composition", "Explanation", "Finding", "Fleet", "Manager", "Node", "Problem",
    "ProfileSummary", "Runner", "Service", "StackgenError", "StackgenWarning", "UserError", "Volume",
    "assemble", "build", "drift", "explain", "generate", "list_profiles", "list_targets", "render", "write",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'stackgen' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
