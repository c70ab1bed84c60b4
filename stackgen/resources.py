"""Find the data that ships with stackgen: built-in profiles, templates, the example site.

In a wheel they live inside the package (`stackgen/profiles`, ...); in a checkout they are
the top-level folders beside the package. Both are found the same way.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def data_dir(name: str) -> Path:
    """The directory of shipped data `name` ("profiles", "templates", "examples")."""
    packaged = Path(str(files("stackgen"))) / name
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"stackgen data folder {name!r} is missing from this install")


def display_path(path: Path) -> str:
    """A path as users should read it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
