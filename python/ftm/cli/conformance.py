"""ftm-conformance: check .ftm streams against the spec and their expected values.

    ftm-conformance                         # ./conformance, else the streams installed with FTM
    ftm-conformance path/to/conformance --Decoder=hm --HmDir=/opt/hm/bin
    ftm-conformance --trace conformance/streams/log8_channel_default.ftm

Prints one line per stream and a closing 'N passed, N failed' line; exits 1
when any stream fails.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import List, Optional

from ftm.codecs.video import DECODERS

PROG = "ftm-conformance"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Check .ftm conformance streams.")
    p.add_argument("folder", nargs="?", default=None,
                   help="conformance folder with expected.json (default: ./conformance if there is one, "
                        "else the conformance streams installed with FTM)")  # fmt: skip
    p.add_argument("--trace", metavar="FILE", help="print every syntax element of one stream, HM-trace style, and exit")
    p.add_argument("--Decoder", choices=sorted(DECODERS), default="ffmpeg", help="video decoder back end of feature-map records")
    p.add_argument("--HmDir", default=None, metavar="DIR", help="folder of HM's TAppDecoder (default: $FTM_HM_DIR)")
    p.add_argument("--VtmDir", default=None, metavar="DIR", help="folder of VTM's DecoderApp (default: $FTM_VTM_DIR)")
    return p


def default_folder() -> str:
    from ftm.data import shipped

    here = Path("conformance")
    return str(here if (here / "expected.json").is_file() else shipped("conformance"))


def print_trace(path: str) -> int:
    from ftm._core import bitstream as container

    with open(path, "rb") as f:
        _, trace = container.parse_stream(f.read(), trace=True)
    for offset, box, name, value in trace:
        print(f"{offset:>10}  {box:<14}  {name:<24}  {value}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    from ftm.stream.conformance import check_folder

    args = parser().parse_args(argv)
    if args.trace:
        return print_trace(args.trace)
    checks = check_folder(args.folder or default_folder(), args.Decoder, args.HmDir, args.VtmDir)
    width = max(len("Stream"), *(len(c.name) for c in checks))
    print(f"{'Stream'.ljust(width)}  {'Elements':>8}  {'Tensors':>7}  Result")
    for c in checks:
        result = "SKIP" if c.skipped else "PASS" if c.passed else "FAIL"
        detail = f"  rejected: {c.rejection}" if c.rejection and c.passed else f"  {c.skipped}" if c.skipped else ""
        print(f"{c.name.ljust(width)}  {c.elements or '-':>8}  {c.tensors or '-':>7}  {result}{detail}")
        for problem in c.problems:
            print(f"    {problem}")
        for note in c.notes:
            print(f"    note: {note}")
    skipped = sum(bool(c.skipped) for c in checks)
    passed = sum(c.passed for c in checks) - skipped
    print(f"{passed} passed, {len(checks) - passed - skipped} failed" + (f", {skipped} skipped" if skipped else ""))
    return 0 if passed + skipped == len(checks) else 1


def console() -> None:
    from ftm.cli._tool import console as run

    run(PROG, main)


if __name__ == "__main__":
    console()
