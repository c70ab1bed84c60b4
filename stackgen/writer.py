"""The only code that touches the output directory.

Every file is first written to a staging directory beside the output; only when all of
them are on disk are they moved into place, so a failed build leaves the previous output
as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from .errors import Origin, Problem, UserError

SECRET_SUFFIXES = ("config.toml",)  # files that carry token references


def _check_relative(rel: str) -> None:
    path = PurePosixPath(rel)
    if path.is_absolute() or ".." in path.parts:
        raise ValueError(f"renderer produced an unsafe path: {rel!r}")


def write(out_dir: Path, files: Mapping[str, str]) -> list[Path]:
    """Write `files` under `out_dir` all together; returns the paths written."""
    for rel in files:
        _check_relative(rel)
    flag = Origin("flag", "-o/--output")
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(Problem(f"output path {out_dir} exists and is not a directory", flag))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".stackgen-", dir=out_dir))
    except OSError as exc:
        raise UserError(Problem(f"cannot write to {out_dir}: {exc.strerror}", flag)) from None
    try:
        for rel, text in files.items():
            target = stage / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            if rel.endswith(SECRET_SUFFIXES):
                target.chmod(0o600)
        written = []
        for rel in files:
            final = out_dir / rel
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / rel, final)
            written.append(final)
        return written
    except OSError as exc:
        raise UserError(Problem(f"cannot write to {out_dir}: {exc}", flag)) from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
