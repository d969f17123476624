"""What a user chooses when decoding a stream, shared by every codec (each reads what applies to it)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DecodeOptions"]


@dataclass(frozen=True)
class DecodeOptions:
    """Decoder-side choices: none of them changes what a conforming stream decodes to.

    ``decoder`` is the video decoder back end of feature-map records (a name
    in :data:`ftm.codecs.video.DECODERS`); ``hm_dir`` the folder of HM's
    binaries when that decoder is ``hm`` (empty: $FTM_HM_DIR); ``model`` the
    model file of learned records (the one they were coded with).
    """

    decoder: str = "ffmpeg"
    hm_dir: str = ""
    model: str = ""
