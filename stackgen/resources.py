"""Find the data that ships with stackgen: built-in profiles, templates, the example site.

In a wheel they live inside the package (`stackgen/profiles`, ...); in a checkout they are
the top-level folders beside the package. Both are found the same way.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The directory of shipped data `name` ("profiles", "templates", "examples")."""
    # the package is a plain directory (the wheel is not zip-safe), so no importlib.resources:
    # its import costs a CLI start more than the rest of this lookup
    packaged = PACKAGE / name
    if packaged.is_dir():
        return packaged
    checkout = PACKAGE.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"stackgen data folder {name!r} is missing from this install")


def display_path(path: Path) -> str:
    """A path as users should read it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
