"""Just enough AVS2 syntax (GB/T 33475.2, IEEE 1857.4) to check and complete what encoders emit.

* Start-code units (``00 00 01`` and a start code value, 7.1): the sequence
  header (B0), user data (B2), intra (B3) and inter (B6) picture headers,
  the video sequence end code (B1).
* The head of the sequence header (7.1.2.2) up to the sample precision:
  picture size, chroma format, bit depth.
* :func:`tidy`: a video sequence ends with video_sequence_end_code
  (7.1.2.1); xavs2 writes it as its last packet, which FFmpeg's libxavs2
  wrapper drops (it discards the packet marked XAVS2_STATE_FLUSH_END), so
  FTM appends it. xavs2's user data unit ("xavs2 encoder", 20 bytes a
  stream) carries nothing a decoder uses (7.2.2.3) and is dropped, as FTM
  drops x265's encoder-information SEI.
"""

from __future__ import annotations

import re

from ftm.codecs.video.hevc_syntax import SequenceInfo
from ftm.errors import CodecError

__all__ = ["END_CODE", "picture_count", "sequence_info", "tidy"]

SEQUENCE_HEADER, END, USER_DATA, INTRA_PICTURE, INTER_PICTURE = 0xB0, 0xB1, 0xB2, 0xB3, 0xB6
END_CODE = bytes([0, 0, 1, END])
MAIN10_PROFILE = 0x22
_START = re.compile(b"\x00\x00\x01")


class _StreamError(CodecError):
    pass


def _units(stream: bytes):
    starts = [m.end() for m in _START.finditer(stream)]
    if not starts or any(stream[: starts[0] - 3]):
        raise _StreamError("not an AVS2 byte stream: it does not begin with a start code")
    return [(s, stream[s]) for s in starts if s < len(stream)]


def _parse_sequence_header(payload: bytes) -> SequenceInfo:
    # pseudo-start-code prevention applies to picture data only, not to sequence headers
    bits = "".join(f"{b:08b}" for b in payload[:16])
    fields, pos = {}, 0
    for name, size in (("profile", 8), ("level", 8), ("progressive", 1), ("field", 1), ("width", 14),
                       ("height", 14), ("chroma", 2), ("sample_precision", 3), ("encoding_precision", 3)):  # fmt: skip
        if pos + size > len(bits):
            raise _StreamError("the AVS2 sequence header is truncated")
        fields[name] = int(bits[pos : pos + size], 2)
        pos += size
    # encoding_precision is present in the Main 10 profile only; elsewhere those bits are the next field
    precision = fields["encoding_precision"] if fields["profile"] == MAIN10_PROFILE else fields["sample_precision"]
    if not 1 <= precision <= 3 or fields["width"] == 0 or fields["height"] == 0:
        raise _StreamError(
            f"the AVS2 sequence header describes {fields['width']} x {fields['height']} pictures "
            f"at precision {precision}, which is not a picture format"
        )
    # chroma_format '01' is 4:2:0 (Table 7-3); FTM reports it as chroma_format_idc 1, as HEVC and VVC number it
    return SequenceInfo(fields["profile"], fields["chroma"], fields["width"], fields["height"], (0, 0, 0, 0),
                        6 + 2 * precision, 6 + 2 * precision)  # fmt: skip


def sequence_info(stream: bytes) -> SequenceInfo:
    """The format of an AVS2 stream: its sequence header, which every repeat must match."""
    infos = {_parse_sequence_header(stream[s + 1 :]) for s, code in _units(stream) if code == SEQUENCE_HEADER}
    if not infos:
        raise _StreamError("the AVS2 stream holds no sequence header")
    if len(infos) > 1:
        raise _StreamError(f"the AVS2 stream changes format between sequence headers: {sorted(map(str, infos))}")
    return infos.pop()


def picture_count(stream: bytes) -> int:
    """Coded pictures: intra and inter picture start codes."""
    return sum(code in (INTRA_PICTURE, INTER_PICTURE) for _, code in _units(stream))


def tidy(stream: bytes) -> bytes:
    """The stream without user data units, ending with one video_sequence_end_code (added when missing)."""
    starts = [s - 3 for s, _ in _units(stream)] + [len(stream)]
    kept = [stream[a:b] for a, b in zip(starts[:-1], starts[1:]) if stream[a + 3] != USER_DATA]
    out = b"".join(kept)
    return out if out.endswith(END_CODE) else out + END_CODE
