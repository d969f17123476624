"""What a user chooses when decoding a stream, shared by every codec (each reads what applies to it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ftm.errors import DecodeLimitError

__all__ = ["DecodeLimits", "DecodeOptions", "DEFAULT_MAX_ELEMENTS", "DEFAULT_MAX_MEMORY", "DEFAULT_TIMEOUT"]

# Defaults a laptop survives: 2^28 elements is 1 GiB of float32 features;
# working memory is what one stream's decode may hold at once.
DEFAULT_MAX_ELEMENTS = 1 << 28
DEFAULT_MAX_MEMORY = 2 << 30
DEFAULT_TIMEOUT = 600.0

_LIFT = {
    "max_elements": "ftm.decode(..., max_elements=None) or ftm-decode --max-elements 0",
    "max_memory": "ftm.decode(..., max_memory=None) or ftm-decode --max-memory 0",
}


@dataclass(frozen=True)
class DecodeLimits:
    """What decoding one stream may cost; ``None`` lifts a limit.

    A few bytes can ask for any number of elements (a run of zero levels
    costs 4.4e-5 bits each, a flat HEVC picture a few bits per 64 x 64
    block), so a decoder checks what a record asks for against these
    before it allocates or runs anything sized from the stream:

    - ``max_elements``: elements of one record's decoded tensor, and samples
      of its decoded frames (HEVC frames are padded to multiples of 8).
    - ``max_memory``: bytes one stream's decode may hold: the codes, the
      features and the frames of every record, and each record's working
      state. Working state beyond those outputs (the level decoder's
      state per dimension) may take a sixteenth of it, so that a decode never
      holds much more than the output it is allowed to produce.
    - ``timeout``: seconds an external video decoder may run per record.

    The error names the limit and how to lift it; lift them only for
    streams you trust (:meth:`unlimited`).
    """

    max_elements: Optional[int] = DEFAULT_MAX_ELEMENTS
    max_memory: Optional[int] = DEFAULT_MAX_MEMORY
    timeout: Optional[float] = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        for name in ("max_elements", "max_memory"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive integer or None (no limit), got {value!r}")
        t = self.timeout
        if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float)) or not t > 0):
            raise ValueError(f"timeout must be a positive number of seconds or None (no limit), got {t!r}")

    @classmethod
    def unlimited(cls) -> "DecodeLimits":
        return cls(None, None, None)

    @property
    def max_state(self) -> Optional[int]:
        """Bytes of working state beyond the outputs one record may hold."""
        return None if self.max_memory is None else self.max_memory // 16

    def check_elements(self, what: str, count: int) -> None:
        """DecodeLimitError when ``what`` (counting ``count`` elements) exceeds max_elements."""
        if self.max_elements is not None and count > self.max_elements:
            raise DecodeLimitError(
                f"{what}: {count} decoded elements exceed the limit max_elements = {self.max_elements}; "
                f"for a stream you trust, lift it: {_LIFT['max_elements']}"
            )

    def check_memory(self, what: str, needed: int, held: int = 0, state: int = 0) -> None:
        """DecodeLimitError when ``needed`` bytes on top of ``held`` ones, or ``state`` bytes of
        working state, exceed max_memory (or its share for state)."""
        if self.max_memory is None:
            return
        if state > self.max_state:
            asked = f"{state} bytes of decoder state, above a sixteenth of"
        elif held + needed > self.max_memory:
            earlier = f" on top of the {held} the stream's earlier records hold" if held else ""
            asked = f"{needed} bytes{earlier}, above"
        else:
            return
        raise DecodeLimitError(
            f"{what}: decoding needs {asked} the limit max_memory = {self.max_memory}; "
            f"for a stream you trust, lift it: {_LIFT['max_memory']}"
        )


@dataclass(frozen=True)
class DecodeOptions:
    """Decoder-side choices: none of them changes what a conforming stream decodes to.

    ``decoder`` is the video decoder back end of feature-map records (a name
    in :data:`ftm.codecs.video.DECODERS`); ``hm_dir`` and ``vtm_dir`` the
    folders of HM's and VTM's binaries when that decoder is ``hm`` or ``vtm``
    (empty: $FTM_HM_DIR, $FTM_VTM_DIR); ``limits`` what decoding may cost
    (:class:`DecodeLimits`); ``model`` the model file of learned records
    (the one they were coded with).
    """

    decoder: str = "ffmpeg"
    hm_dir: str = ""
    limits: DecodeLimits = field(default_factory=DecodeLimits)
    vtm_dir: str = ""
    model: str = ""
