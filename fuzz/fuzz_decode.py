"""atheris target: the Python decode path, ftm.decode_all on any byte string.

    python fuzz/fuzz_decode.py -runs=2000 -dict=cpp/fuzz/ftm.dict CORPUS_DIR SEED_DIR

Every input must decode or raise a documented error of FTM's family
(ftm.FtmError: BitstreamError, PayloadError, DecodeLimitError,
StreamVerificationError, CodecError for a timeout); anything else (an
IndexError, a MemoryError, a crash in the extension) is a finding. Feature
maps go through the real ffmpeg decoder, so an execution costs a process
start; small limits keep each one short. docs/fuzzing.md has the long run.
"""

from __future__ import annotations

import sys

import atheris

import ftm
import ftm.stream.coding
from ftm.errors import FtmError

# After the imports, not with instrument_imports: an editable install loads
# FTM through its own finder, which atheris's import hook does not see.
atheris.instrument_all()

LIMITS = {"max_elements": 1 << 20, "max_memory": 64 << 20, "timeout": 20.0}


def test_one_input(data: bytes) -> None:
    try:
        ftm.decode_all(data, **LIMITS)
    except FtmError:
        pass


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
