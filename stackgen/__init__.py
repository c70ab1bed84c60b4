"""stackgen: compose named profiles into every file a self-hosted GitLab Runner fleet needs.

    >>> import stackgen
    >>> fleet = stackgen.build(["preproc"])            # the model (frozen dataclasses)
    >>> files = stackgen.render(fleet, "swarm")        # {relative path: text}
"""

from .api import (
    Explanation,
    ProfileSummary,
    build,
    drift,
    explain,
    generate,
    list_profiles,
    render,
    targets,
    write,
)
from .build import Composition, compose
from .errors import Finding, Problem, StackgenError, UserError
from .model import Certificate, Fleet, Manager, Node, Runner, Service, Volume

__all__ = [
    "Certificate",
    "Composition",
    "Explanation",
    "Finding",
    "Fleet",
    "Manager",
    "Node",
    "Problem",
    "ProfileSummary",
    "Runner",
    "Service",
    "StackgenError",
    "UserError",
    "Volume",
    "build",
    "compose",
    "drift",
    "explain",
    "generate",
    "list_profiles",
    "render",
    "targets",
    "write",
]
__version__ = "0.1.0"
