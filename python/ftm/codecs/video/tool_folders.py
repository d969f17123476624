"""Reference-software binaries in a folder the user names: HM's and VTM's.

FTM never ships or downloads them. A back end is pointed at a folder (a
config key such as ``HmDir``, or an environment variable); the binary is
looked up as ``tool``, ``toolStatic`` (and ``.exe``) in that folder, its
``bin/``, and anywhere below, release builds before debug ones.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional

from ftm.errors import CodecNotFoundError

__all__ = ["find_tool"]

_SUFFIXES = ("", "Static", ".exe", "Static.exe")


def _candidates(folder: Path, tool: str) -> List[Path]:
    names = [tool + suffix for suffix in _SUFFIXES]
    found = [folder / n for n in names] + [folder / "bin" / n for n in names]
    below = sorted(
        (p for n in names for p in folder.rglob(n)),
        # release builds before debug ones, then the shallowest path
        key=lambda p: ("debug" in str(p).lower(), len(p.parts), str(p)),
    )
    return found + below


def find_tool(software: str, tool: str, folder: Optional[str], env: str, key: str, backend: str) -> str:
    """Path of ``software``'s ``tool`` in ``folder`` (default: $``env``), for the ``backend`` back end."""
    folder = folder if folder is not None else os.environ.get(env)
    if not folder:
        raise CodecNotFoundError(
            f"the {backend} back end needs {software}'s {tool}: set the {key} key (the {software} folder in "
            f"FTM's config) or the environment variable {env} to the folder holding {software}'s binaries"
        )
    root = Path(folder)
    if not root.is_dir():
        raise CodecNotFoundError(f"{software} folder {str(root)!r} (from {key} / {env}) does not exist")
    for path in _candidates(root, tool):
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    raise CodecNotFoundError(
        f"{software}'s {tool} not found in {str(root)!r}, its bin/ or below (looked for "
        f"{', '.join(tool + s for s in _SUFFIXES)}); build {software} or point {key} / {env} at its binaries"
    )
