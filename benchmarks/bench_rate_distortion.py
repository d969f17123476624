"""Compression rate and feature MSE of the bundled input at QP 12/22/32/42.

    python benchmarks/bench_rate_distortion.py [--json benchmarks/results/rate_distortion.json]
    FTM_HM_DIR=/path/to/HM/bin python benchmarks/bench_rate_distortion.py

The seed-002 test condition (log 8-bit, channel per frame, all intra) with
x265 through ffmpeg, and with HM when FTM_HM_DIR is set, both with HM's
picture-hash SEI (the default, 25 bytes a picture) and without it. The
compression rate counts every byte of the .ftm file (seed 002 eq. 1); the
BD-rate compares the x265 and HM curves by rate against feature PSNR
(10 log10(peak^2 / MSE), peak = the tensor's range).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import ftm
from ftm.metrics import bd_rate
from _timing import machine, print_table, write_json

QPS = (12, 22, 32, 42)


def curve(x, keys):
    rows = []
    for qp in QPS:
        r = ftm.encode_tensors(x, ftm.Config.from_values({**keys, "QP": str(qp)}), progress=False)
        t = r.tensors[0]
        peak = float(x.max() - x.min())
        rows.append({"qp": qp, "bytes": len(r.data), "compression_rate": r.compression_rate, "mse": t.mse,
                     "max_error": t.max_error, "feature_psnr_db": 10 * np.log10(peak**2 / t.mse), "codes_psnr_db": t.frames_psnr})
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    x = ftm.data.default_features()
    configs = {"x265-ffmpeg": {"Encoder": "x265-ffmpeg"}}
    hm_dir = os.environ.get("FTM_HM_DIR")
    if hm_dir:
        configs["hm (picture hash)"] = {"Encoder": "hm", "HmDir": hm_dir}
        configs["hm (no hash)"] = {"Encoder": "hm", "HmDir": hm_dir, "HmPictureHash": "0"}
    else:
        print("FTM_HM_DIR is not set: HM is left out")
    results = {name: curve(x, keys) for name, keys in configs.items()}
    table = [{"encoder": name, "QP": r["qp"], "bytes": r["bytes"], "comp_rate": f"{r['compression_rate']:.5f}",
              "MSE": f"{r['mse']:.4g}", "max_err": f"{r['max_error']:.3f}", "feat_PSNR": f"{r['feature_psnr_db']:.2f}",
              "codes_PSNR": f"{r['codes_psnr_db']:.2f}"} for name, rows in results.items() for r in rows]
    print_table(table, ["encoder", "QP", "bytes", "comp_rate", "MSE", "max_err", "feat_PSNR", "codes_PSNR"])
    bd = {}
    base = results["x265-ffmpeg"]
    for name, rows in results.items():
        if name == "x265-ffmpeg":
            continue
        bd[name] = bd_rate([r["bytes"] for r in rows], [r["feature_psnr_db"] for r in rows],
                           [r["bytes"] for r in base], [r["feature_psnr_db"] for r in base])
        print(f"BD-rate of x265-ffmpeg against {name}: {bd[name]:+.1f}%")
    if args.json:
        write_json(args.json, {"machine": machine(), "ftm_version": ftm.__version__, "input": "bundled 1x40x28x28",
                               "results": results, "bd_rate_x265_vs": bd})


if __name__ == "__main__":
    main()
