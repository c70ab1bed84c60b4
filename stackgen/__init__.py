"""stackgen: compose named profiles into every file a self-hosted GitLab Runner fleet needs.

    >>> import stackgen
    >>> fleet = stackgen.build(["preproc"])            # the model (frozen dataclasses)
    >>> files = stackgen.render(fleet, "swarm")        # {relative path: text}
"""

from .api import (
    Explanation,
    ProfileSummary,
    build,
    explain,
    generate,
    list_profiles,
    render,
    targets,
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
    "explain",
    "generate",
    "list_profiles",
    "render",
    "targets",
]
__version__ = "0.1.0"
