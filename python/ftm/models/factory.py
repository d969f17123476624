"""A user's own network, named by its factory: ``package.module:function`` or ``path/to/file.py:function``.

The factory is imported by name wherever a network is needed (ftm-extract,
ftm-eval, each local worker process and each Dask worker of ftm-ctc), so
nothing has to be registered in the process that started the work: the
reference alone, as the feature set's manifest records it, rebuilds the
network. A module reference needs the module importable there (installed,
or on PYTHONPATH); a file reference needs the file at that path (a shared
file system for remote workers) and is recorded with its absolute path.

The factory is called as ``function()``, or ``function(weights=PATH)`` when
a weights file is given, and must return a
:class:`~ftm.models.split.SplitNetwork` with its preprocessing
(docs/networks.md). Every failure is a ModelError that names the reference.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Callable, Optional, Tuple

from ftm.errors import ModelError

__all__ = ["build_from_factory", "is_factory_reference", "parse_reference", "resolve_reference"]

_FUNCTION = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_import_lock = threading.Lock()  # a Dask worker may build networks on several threads


def is_factory_reference(spec: str) -> bool:
    """Whether ``spec`` names a factory (``target:function``) rather than a network of FTM's registry."""
    return ":" in spec


def parse_reference(spec: str) -> Tuple[str, str, bool]:
    """``(module or file, function, is_file)``; a ModelError saying the two accepted forms otherwise."""
    target, _, function = spec.rpartition(":")  # the last colon: a Windows drive letter stays in the path
    is_file = target.endswith(".py") or "/" in target or os.sep in target
    if not target or not _FUNCTION.fullmatch(function) or (not is_file and not _MODULE.fullmatch(target)):
        raise ModelError(
            f"model {spec!r}: expected a network of FTM's registry, package.module:function or path/to/file.py:function"
        )
    return target, function, is_file


def resolve_reference(spec: str, base: Optional[str] = None) -> str:
    """``spec`` with a file's path made absolute (relative to ``base``, else the working folder); modules unchanged."""
    target, function, is_file = parse_reference(spec)
    if not is_file:
        return spec
    path = Path(target).expanduser()
    if not path.is_absolute():
        path = Path(base or os.getcwd()) / path
    return f"{os.path.normpath(path)}:{function}"


def _import_file(path: Path, spec: str) -> ModuleType:
    if not path.is_file():
        raise ModelError(f"model {spec!r}: file {str(path)!r} does not exist")
    resolved = path.resolve()
    # One module per file, under a name that cannot clash with an installed package.
    name = f"_ftm_user_network_{resolved.stem}_{hashlib.sha256(str(resolved).encode()).hexdigest()[:12]}"
    if name in sys.modules:
        return sys.modules[name]
    loader_spec = importlib.util.spec_from_file_location(name, resolved)
    if loader_spec is None or loader_spec.loader is None:
        raise ModelError(f"model {spec!r}: {str(path)!r} cannot be imported as Python")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[name] = module  # before running it, as the import system does (dataclasses, pickling look it up)
    try:
        loader_spec.loader.exec_module(module)
    except BaseException as exc:
        del sys.modules[name]
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise ModelError(f"model {spec!r}: importing {str(path)!r} raised {type(exc).__name__}: {exc}") from exc
    return module


def _import_module(target: str, spec: str) -> ModuleType:
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        if exc.name and target.startswith(exc.name):
            raise ModelError(f"model {spec!r}: no module named {exc.name!r} (is it installed, or on PYTHONPATH, "
                             "in every process that builds the network?)") from None  # fmt: skip
        raise ModelError(f"model {spec!r}: importing {target!r} raised {type(exc).__name__}: {exc}") from exc
    except Exception as exc:
        raise ModelError(f"model {spec!r}: importing {target!r} raised {type(exc).__name__}: {exc}") from exc


def _factory(spec: str) -> Callable:
    target, function, is_file = parse_reference(spec)
    with _import_lock:
        module = _import_file(Path(target).expanduser(), spec) if is_file else _import_module(target, spec)
    obj: object = module
    for part in function.split("."):
        if not hasattr(obj, part):
            raise ModelError(f"model {spec!r}: {target} has no {function!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ModelError(f"model {spec!r}: {function!r} is a {type(obj).__name__}, not a function")
    return obj


def build_from_factory(spec: str, weights=None):
    """Import and call the factory; the SplitNetwork it returns, checked, with FTM's record of where it came from."""
    from ftm.models.split import SplitNetwork
    from ftm.models.weights import file_sha256

    factory = _factory(spec)
    path = None
    if weights is not None:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise ModelError(f"model {spec!r}: weights file {str(path)!r} does not exist")
    try:
        network = factory() if path is None else factory(weights=path)
    except Exception as exc:
        raise ModelError(f"model {spec!r}: the factory raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(network, SplitNetwork):
        raise ModelError(f"model {spec!r}: the factory returned a {type(network).__module__}.{type(network).__name__}, "
                         "not an ftm.models.split.SplitNetwork")  # fmt: skip
    network.validate()
    # The tools know the network by its reference: that is what rebuilds it in another process.
    if network.name != spec:
        network.info.setdefault("label", network.name)
    network.name = spec
    network.info["name"] = spec
    network.info["factory"] = spec
    if path is not None:
        network.info.update(weights=path.name, weights_path=str(path.resolve()), weights_sha256=file_sha256(path))
    return network
