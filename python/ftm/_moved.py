"""Module paths of FTM 0.1 that moved in 0.2, kept importable for one release.

``import ftm.quantize`` (say) still works and gives the module at its new
place, :mod:`ftm.kernels.quantize`, with a DeprecationWarning naming it.
A meta-path finder answers for the old names only; nothing in FTM imports
them. Remove this module, and its installation in ``ftm/__init__.py``, in
0.3.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

__all__ = ["MOVED", "install"]

MOVED = {
    "ftm.quantize": "ftm.kernels.quantize",
    "ftm.pack": "ftm.kernels.pack",
    "ftm.retrieval": "ftm.kernels.bubble_index",
    "ftm.entropy": "ftm.kernels.level_coder",
    "ftm.streams": "ftm.stream.coding",
    "ftm.records": "ftm.stream.records",
    "ftm.summary": "ftm.stream.summary",
    "ftm.conformance": "ftm.stream.conformance",
    "ftm.config": "ftm.stream.config",
    "ftm.maps": "ftm.codecs.video_maps",
    "ftm.vectors": "ftm.codecs.sq_vectors",
    "ftm.vector_coding": "ftm.codecs.sq_vectors",
    "ftm.evaluate": "ftm.evaluation",
    "ftm.extract.split": "ftm.models.split",
    "ftm.extract.efficientnet_lite": "ftm.models.efficientnet_lite",
    "ftm.extract._deps": "ftm._optional",
    "ftm.ctc.cli": "ftm.cli.ctc",
    "ftm.cli._common": "ftm.cli._tool",
    "ftm.codecs.base": "ftm.codecs.video.base",
    "ftm.codecs.ffmpeg_backend": "ftm.codecs.video.ffmpeg",
    "ftm.codecs.hm": "ftm.codecs.video.hm",
    "ftm.codecs.libde265": "ftm.codecs.video.libde265",
    "ftm.codecs.x265_cli": "ftm.codecs.video.x265_cli",
    "ftm.codecs.hevc": "ftm.codecs.video.hevc_syntax",
    "ftm.codecs._frames": "ftm.codecs.video.raw_frames",
    "ftm.codecs._process": "ftm.codecs.video.external",
}


def warn_moved(old: str, stacklevel: int = 3) -> None:
    warnings.warn(
        f"{old} moved to {MOVED[old]} in FTM 0.2; the old name goes away in 0.3",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


class _Alias(importlib.abc.Loader):
    def __init__(self, new: str) -> None:
        self.new = new

    def create_module(self, spec):
        warn_moved(spec.name, stacklevel=8)
        return importlib.import_module(self.new)

    def exec_module(self, module) -> None:
        pass  # the module at its new place is already executed


class _MovedFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        new = MOVED.get(fullname)
        return importlib.util.spec_from_loader(fullname, _Alias(new)) if new else None


# Old modules named like a function of the package (ftm.quantize, ftm.pack):
# importing them through the finder would rebind ftm.quantize to the module,
# so they are registered as they were in 0.1, already imported (no warning).
_NAMED_LIKE_FUNCTIONS = ("ftm.quantize", "ftm.pack")


def install() -> None:
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _MovedFinder())
    for old in _NAMED_LIKE_FUNCTIONS:
        sys.modules.setdefault(old, importlib.import_module(MOVED[old]))
