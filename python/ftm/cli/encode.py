"""ftm-encode: code feature tensors into a .ftm stream, HM style.

    ftm-encode -c cfg/ctc_qp22.cfg                      # the bundled default input
    ftm-encode -c cfg/ctc_qp22.cfg -i feats.npz -b feats.ftm -o recon.npz
    ftm-encode -c cfg/ctc_qp22.cfg --Encoder=hm --HmDir=/opt/hm/bin -q 32
    ftm-encode --Model pro.safetensors -i embeddings.npy -b emb.ftm   # a learned codec (ftm-train)

Settings come from the -c files in order, then --Key=Value options, then the
short options (-i, -b, -o, -q, --Model), the later winning. ``--Model FILE``
codes N x D vectors with a learned model (``FeatureKind : learned``,
``Model : FILE``). ``--help-keys`` lists every key.
"""

from __future__ import annotations

import argparse
import os
from typing import List, Optional

from ftm.cli._tool import check_overrides
from ftm.errors import ConfigError
from ftm._atomic import check_output_path
from ftm.io import check_features_output, load_features, save_features, write_atomic
from ftm.stream.config import Config, describe_codec_keys

PROG = "ftm-encode"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Code feature tensors into a .ftm stream with a real video encoder (HEVC, VVC or AVS2).",
        epilog="Any configuration key can be given as --Key=Value; --help-keys lists them.",
    )
    p.add_argument("-c", "--config", action="append", default=[], metavar="FILE", help="config file (repeatable; later files win)")
    p.add_argument("-i", "--input", metavar="FILE", help="input features: .npy, .npz or .safetensors (InputFile)")
    p.add_argument("-b", "--bitstream", metavar="FILE", help="output .ftm stream (BitstreamFile)")
    p.add_argument("-o", "--recon", metavar="FILE", help="write the decoded features here (ReconFile)")
    p.add_argument("-q", "--qp", metavar="QP", help="quantization parameter (the key QP, as --QP=QP)")
    p.add_argument("--Model", metavar="FILE", help="code vectors with this learned model file of ftm-train (FeatureKind : learned)")
    p.add_argument("--help-keys", action="store_true", help="list every configuration key and exit")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return p


def resolve(args: argparse.Namespace, rest: List[str]) -> Config:
    check_overrides(rest)
    # the short options are their keys given last: one parser, one message for a bad value
    short = [f"--{key}={value}" for key, value in (("InputFile", args.input), ("BitstreamFile", args.bitstream),
                                                   ("ReconFile", args.recon), ("QP", args.qp)) if value is not None]  # fmt: skip
    if args.Model is not None:
        short += ["--FeatureKind=learned", f"--Model={args.Model}"]
    return Config.load(args.config, rest + short)


def main(argv: Optional[List[str]] = None) -> int:
    from ftm.data import default_features_path
    from ftm.stream.coding import encode_tensors
    from ftm.stream.summary import format_table, summary_dict, write_summary

    args, rest = parser().parse_known_args(argv)
    if args.help_keys:
        print(describe_codec_keys())
        return 0
    cfg, quiet = resolve(args, rest), args.quiet
    if not cfg.input_file and cfg.feature_kind != "map":
        raise ConfigError(f"FeatureKind : {cfg.feature_kind} needs N x D vectors: give -i (the bundled default input is a feature map)")
    input_file = cfg.input_file or str(default_features_path())
    tensors = load_features(input_file)
    # every output is checked before the work starts, and named as the user gave it
    summary_file = cfg.summary_file or os.path.splitext(cfg.bitstream_file)[0] + ".json"
    check_output_path(cfg.bitstream_file, "bitstream file (-b / BitstreamFile)")
    check_output_path(summary_file, "summary file (SummaryFile)")
    if cfg.recon_file:
        check_features_output(cfg.recon_file, len(tensors), "reconstruction file (-o / ReconFile)")
    outputs = [os.path.abspath(p) for p in (cfg.bitstream_file, summary_file, cfg.recon_file, input_file) if p]
    if len(set(outputs)) != len(outputs):
        raise ConfigError(f"the input, bitstream, summary and reconstruction files must differ: {outputs}")
    result = encode_tensors(tensors, cfg, progress=None if not quiet else False)
    write_atomic(cfg.bitstream_file, result.data)
    if cfg.recon_file:
        save_features(cfg.recon_file, result.reconstruction)
    encoder_name, encoder_version = result.encoder
    summary = summary_dict(result, cfg)
    summary["input_file"] = input_file
    summary["bitstream_file"] = cfg.bitstream_file
    write_summary(summary_file, summary)
    if not quiet:
        what = {"map": f"{cfg.quantizer} {cfg.bit_depth}-bit, {cfg.packing} packing",
                "vector": f"vectors, {cfg.normalization} normalization",
                "learned": f"vectors, learned model {cfg.model_file}"}.get(cfg.feature_kind, cfg.feature_kind)  # fmt: skip
        qp = "" if cfg.feature_kind == "learned" else f"  QP {cfg.qp}"
        print(f"FTM {summary['ftm_version']}  input {input_file}")
        print(f"encoder {encoder_name} {encoder_version}{qp}  {what}")
        print(format_table(result))
        print(f"wrote {cfg.bitstream_file} ({len(result.data)} bytes), summary {summary_file}" + (f", reconstruction {cfg.recon_file}" if cfg.recon_file else ""))
    return 0


def console() -> None:
    from ftm.cli._tool import console as run

    run(PROG, main)


if __name__ == "__main__":
    console()
