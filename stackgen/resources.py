"""Find the data that ships with stackgen: built-in profiles, templates, the example site.

In a wheel they live inside the package (`stackgen/profiles`, ...); in a checkout they are
the top-level folders beside the package. Both are found the same way.

The CLI's front door reads this module at start-up, so pathlib loads only when a caller
asks for a Path.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

PACKAGE = os.path.dirname(os.path.realpath(__file__))
PROFILE_PATH_VAR = "STACKGEN_PROFILE_PATH"


def data_path(name: str) -> str:
    """The directory of shipped data `name` ("profiles", "templates", "examples")."""
    # the package is a plain directory (the wheel is not zip-safe), so no importlib.resources:
    # its import costs a CLI start more than the rest of this lookup
    for folder in (os.path.join(PACKAGE, name), os.path.join(os.path.dirname(PACKAGE), name)):
        if os.path.isdir(folder):
            return folder
    raise FileNotFoundError(f"stackgen data folder {name!r} is missing from this install")


def data_dir(name: str) -> Path:
    from pathlib import Path

    return Path(data_path(name))


def profile_path() -> list[str]:
    """The user profile directories $STACKGEN_PROFILE_PATH names, in order."""
    return [d for d in os.environ.get(PROFILE_PATH_VAR, "").split(os.pathsep) if d]


def display_path(path: Path) -> str:
    """A path as users should read it: relative to the working directory when inside it."""
    from pathlib import Path

    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
