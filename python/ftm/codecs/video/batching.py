"""Several sequences through one encoder process and one decoder process.

A CTC job codes every image of a layer as a sequence of its own (each with
its own quantizer). Starting an encoder and a decoder per image costs more
than coding its few small frames, so back ends that can code all-intra at a
fixed QP code the images one after the other in one process and cut each
image's access units out as a standalone stream (:func:`split_sequences`);
a decoder decodes the concatenated streams in one process and hands each
image its frames.

What holds, and why: with every picture an IDR picture carrying its
parameter sets (``keyint=1``, ``repeat-headers=1``), x265 codes a picture
the same whether it comes first in its process or not, but for one slice
header flag that no single-slice picture uses, which FTM sets to one value
in every stream (:mod:`.hevc_slices`). So each image's stream is
byte-identical to the stream of the image coded alone; tests check it on
the bundled set. Where it cannot hold (inter coding, HM, which numbers and
references pictures across the whole sequence, or a stream whose slice
headers FTM does not read), back ends code the images one by one.
"""

from __future__ import annotations

from typing import Callable, List, Optional, Sequence

import numpy as np

from ftm.codecs.video import hevc_slices
from ftm.errors import CodecError

__all__ = ["frame_offsets", "offset_progress", "split_frames", "split_sequences"]


def frame_offsets(counts: Sequence[int]) -> List[int]:
    """Index of each sequence's first frame in the concatenation, and the total at the end."""
    offsets = [0]
    for count in counts:
        offsets.append(offsets[-1] + int(count))
    return offsets


def offset_progress(progress: Optional[Callable[[int], None]], base: int) -> Optional[Callable[[int], None]]:
    """A progress callback of one sequence, reporting frames of the whole batch."""
    return None if progress is None else (lambda done: progress(base + done))


def split_sequences(stream: bytes, counts: Sequence[int], what: str) -> Optional[List[bytes]]:
    """Cut a canonicalized all-intra stream into one stream per sequence of ``counts`` pictures.

    None when the stream is not one FTM can canonicalize (the caller codes
    the sequences one by one instead).
    """
    canonical = hevc_slices.canonical_intra_slices(stream)
    if canonical is None:
        return None
    units = hevc_slices.access_units(canonical)
    offsets = frame_offsets(counts)
    if len(units) != offsets[-1]:
        raise CodecError(f"{what} wrote {len(units)} pictures for {offsets[-1]} frames")
    return [canonical[units[a][0] : units[b - 1][1]] for a, b in zip(offsets[:-1], offsets[1:])]


def split_frames(frames: np.ndarray, counts: Sequence[int]) -> List[np.ndarray]:
    """One array per sequence from the frames of a concatenation."""
    offsets = frame_offsets(counts)
    return [frames[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
