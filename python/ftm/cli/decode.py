"""ftm-decode: reconstruct the features of a .ftm stream.

    ftm-decode -b feats.ftm -o recon.npy
    ftm-decode -b feats.ftm --verify-md5 0123...cdef          # MD5 of the float32 output
    ftm-decode -b feats.npz.ftm -o recon.npz --verify-md5 a=... --verify-md5 b=...
    ftm-decode -b feats.ftm --Decoder=hm --HmDir=/opt/hm/bin
    ftm-decode -b big.ftm --max-elements 0 --max-memory 16G      # a trusted stream past the limits
    ftm-decode -b emb.ftm --Model pro.safetensors -o emb.npy    # learned records: the model they were coded with

The checksums a stream carries (its ``hash`` boxes) are always checked; a
mismatch is an error and nothing is written. ``--verify-md5`` adds a check
against a digest given on the command line. The decode limits
(``--max-elements``, ``--max-memory``, ``--timeout``; 0 lifts one,
``--no-limits`` all) are checked before anything sized from the stream is
allocated or run. The float output of a learned model depends on the
platform's arithmetic: for learned records the stream's own check covers
the integer codes, and ``--verify-md5`` holds on the platform that wrote
the digest.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from typing import Dict, List, Optional

import numpy as np

from ftm.codecs.options import DecodeLimits
from ftm.codecs.video import DECODERS
from ftm.errors import ConfigError
from ftm.io import check_features_output, save_features

PROG = "ftm-decode"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Decode a .ftm stream back to float32 features.")
    p.add_argument("-b", "--bitstream", required=True, metavar="FILE", help="the .ftm stream")
    p.add_argument("-o", "--output", metavar="FILE", help="write the features here: .npy (one tensor), .npz or .safetensors")
    p.add_argument("--verify-md5", action="append", default=[], metavar="[NAME=]HEX", help="expected MD5 of a decoded float32 tensor (repeatable)")
    p.add_argument("--Decoder", choices=sorted(DECODERS), default="ffmpeg", help="video decoder back end of feature-map records")
    p.add_argument("--HmDir", default=None, metavar="DIR", help="folder of HM's TAppDecoder (default: $FTM_HM_DIR)")
    p.add_argument("--VtmDir", default=None, metavar="DIR", help="folder of VTM's DecoderApp (default: $FTM_VTM_DIR)")
    p.add_argument("--Model", default=None, metavar="FILE", help="model file of learned records (the one they were coded with)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    d = DecodeLimits()
    p.add_argument("--max-elements", type=_count, default=d.max_elements, metavar="N",
                   help=f"most decoded elements (tensor elements, frame samples) of one record (default {d.max_elements}; 0: no limit)")
    p.add_argument("--max-memory", type=_size, default=d.max_memory, metavar="BYTES",
                   help=f"most memory the decode may hold, e.g. 2G (default {d.max_memory >> 30}G; 0: no limit)")
    p.add_argument("--timeout", type=_seconds, default=d.timeout, metavar="SECONDS",
                   help=f"most seconds an external video decoder may run per record (default {d.timeout:g}; 0: none)")
    p.add_argument("--no-limits", action="store_true", help="lift every limit above: for streams you trust")
    return p


def _count(text: str) -> Optional[int]:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value or None


def _size(text: str) -> Optional[int]:
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    number, unit = text.rstrip("KMGTkmgt"), text[len(text.rstrip("KMGTkmgt")):].upper()
    if unit not in units:
        raise argparse.ArgumentTypeError(f"expected bytes such as 512M or 2G, got {text!r}")
    count = _count(number)
    return None if count is None else count * units[unit]


def _seconds(text: str) -> Optional[float]:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}")
    return value or None


def expected_digests(specs: List[str], names: List[str]) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for spec in specs:
        name, _, digest = spec.rpartition("=")
        if not name:
            if len(names) != 1:
                raise ConfigError(f"--verify-md5 {spec}: the stream has {len(names)} tensors; write NAME=HEX")
            name = names[0]
        if name not in names:
            raise ConfigError(f"--verify-md5 {spec}: no tensor named {name!r} (the stream has {', '.join(names)})")
        digest = digest.lower()
        if len(digest) != 32 or any(c not in "0123456789abcdef" for c in digest):
            raise ConfigError(f"--verify-md5 {spec}: {digest!r} is not an MD5 digest (32 hex digits)")
        out[name] = digest
    return out


def main(argv: Optional[List[str]] = None) -> int:
    from ftm.stream.coding import decode_all, tensor_names

    args = parser().parse_args(argv)
    if os.path.isdir(args.bitstream):
        raise ConfigError(f"bitstream {args.bitstream!r} is a folder; give a .ftm file")
    if not os.path.isfile(args.bitstream):
        raise FileNotFoundError(f"bitstream {args.bitstream!r} does not exist")
    with open(args.bitstream, "rb") as f:
        data = f.read()
    names = tensor_names(data)  # parses the whole container: a malformed stream fails here, before decoding
    expected = expected_digests(args.verify_md5, names)
    if args.output:
        check_features_output(args.output, len(names), "output (-o)")
    t0 = time.perf_counter()
    limits = DecodeLimits.unlimited() if args.no_limits else DecodeLimits(args.max_elements, args.max_memory, args.timeout)
    tensors = decode_all(
        data, decoder=args.Decoder, hm_dir=args.HmDir, vtm_dir=args.VtmDir, model=args.Model,
        max_elements=limits.max_elements, max_memory=limits.max_memory, timeout=limits.timeout,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    # MD5 runs at about 0.5 GB/s: only for what is printed or checked
    wanted = tensors if not args.quiet else {name: tensors[name] for name in expected}
    digests = {name: hashlib.md5(np.ascontiguousarray(a, dtype="<f4").data).hexdigest() for name, a in wanted.items()}
    for name, want in expected.items():
        if digests[name] != want:
            print(f"{PROG}: error: tensor {name!r}: MD5 {digests[name]}, expected {want}", file=sys.stderr)
            return 1
    if args.output:
        save_features(args.output, tensors)
    if not args.quiet:
        width = max(len("Tensor"), *(len(n) for n in tensors))
        print(f"{'Tensor'.ljust(width)}  {'Shape':>16}  MD5(float32)")
        for name, a in tensors.items():
            print(f"{name.ljust(width)}  {'x'.join(map(str, a.shape)):>16}  {digests[name]}")
        verified = " (MD5 verified)" if args.verify_md5 else ""
        print(f"decoded {len(tensors)} tensor(s) in {seconds:.3f} s{verified}" + (f", wrote {args.output}" if args.output else ""))
    return 0


def console() -> None:
    from ftm.cli._tool import console as run

    run(PROG, main)


if __name__ == "__main__":
    console()
