"""What a user chooses when decoding a stream, shared by every codec (each reads what applies to it)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DecodeOptions"]


@dataclass(frozen=True)
class DecodeOptions:
    """Decoder-side choices: none of them changes what a conforming stream decodes to.

    ``decoder`` is the video decoder back end of feature-map records (a name
    in :data:`ftm.codecs.video.DECODERS`); ``hm_dir`` and ``vtm_dir`` the
    folders of HM's and VTM's binaries when that decoder is ``hm`` or ``vtm``
    (empty: $FTM_HM_DIR, $FTM_VTM_DIR).
    """

    decoder: str = "ffmpeg"
    hm_dir: str = ""
    vtm_dir: str = ""
