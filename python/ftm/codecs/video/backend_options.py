"""Options several back ends share, checked once when a back end is made: the preset key, the
prediction structure (intra period and inter coding), thread counts and extra tool parameters."""

from __future__ import annotations

import re
from typing import Dict, Mapping, Optional, Sequence, Tuple

from ftm.codecs.video.base import INTER_CODINGS
from ftm.settings import Key, plain_text

__all__ = ["PRESET_KEY", "check_inter", "check_intra_period", "check_params", "check_threads"]

#: One key for every back end with presets; each checks the value against its own list.
PRESET_KEY = Key(
    "Preset", "preset", plain_text,
    "encoder preset (empty: the back end's default; x265: ultrafast..placebo, vvenc: faster..slower, xavs2: 0..2)",
)  # fmt: skip
_PARAM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def check_intra_period(intra_period: int) -> int:
    if isinstance(intra_period, bool) or not isinstance(intra_period, int) or intra_period < 1:
        raise ValueError(
            f"intra_period must be an integer >= 1 (1: every picture intra), got {intra_period!r}"
        )
    return intra_period


def check_inter(
    backend: str, intra_period: int, inter_coding: str, offered: Sequence[str] = INTER_CODINGS
) -> Tuple[int, str]:
    """(intra_period, inter_coding), checked; inter_coding matters only when intra_period > 1."""
    intra_period = check_intra_period(intra_period)
    if inter_coding not in INTER_CODINGS:
        raise ValueError(f"inter_coding must be one of {', '.join(INTER_CODINGS)}; got {inter_coding!r}")
    if intra_period > 1 and inter_coding not in offered:
        what = f"inter coding {', '.join(offered)} only" if offered else "all-intra only (intra_period 1)"
        raise ValueError(f"the {backend} back end codes {what}; {inter_coding} was asked for")
    return intra_period, inter_coding


def check_threads(threads: Optional[int]) -> Optional[int]:
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be None (the tool's default) or an integer >= 1, got {threads!r}")
    return threads


def check_params(tool: str, params: Optional[Mapping[str, object]], fixed: Sequence[str]) -> Dict[str, str]:
    """Extra ``name=value`` parameters for a tool's ':'-separated parameter list; FTM's own are refused."""
    out: Dict[str, str] = {}
    taken = {name.lower() for name in fixed}
    for key, value in (params or {}).items():
        if not isinstance(key, str) or not _PARAM_NAME.match(key):
            raise ValueError(f"{tool} parameter names are words of letters, digits, '_' and '-', got {key!r}")
        if key.lower() in taken:
            raise ValueError(f"{tool} parameter {key!r} is set by FTM and cannot be overridden")
        text = str(value)
        if isinstance(value, bool) or not text or ":" in text or "=" in text or any(c.isspace() for c in text):
            raise ValueError(f"{tool} parameter {key}={value!r}: give a value without ':', '=' or spaces")
        out[key] = text
    return out
