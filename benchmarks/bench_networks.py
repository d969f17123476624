"""Extraction throughput of every network FTM knows, per split point: images per second, one process.

    python benchmarks/bench_networks.py [--models vgg16,resnet50] [--batch 8] [--repeat 3] [--threads N]
                                        [--json benchmarks/results/networks.json]

For each network and split point, on a batch of real bundled photos
(centre crops, preprocessed as the network asks), best of ``--repeat``
rounds over all points:

- extract: what ftm-extract does per batch: one forward pass of the whole
  network (the task outputs of the unsplit network are part of a feature
  set) capturing the feature at that point, and the copy of the feature
  and outputs out of torch;
- front: the stages up to that point only, what the sending side of split
  inference computes;
- preprocess: crop, resize and normalize per image (once per network; it
  depends on the resampling filter, not the split point).

VGG-16 and the ResNets run with seeded random weights (FTM never downloads
torchvision's files); dense convolutions take the same time whatever the
numbers. EfficientNet-Lite0 runs with its packaged ImageNet weights. torch
uses its default intra-op threads (all cores this process may use) unless
``--threads`` says otherwise; one thread is the steadiest figure on a busy
machine (a team of threads waits for its slowest member). The
machine may be shared: the load average before and after each network is
recorded, and beside the wall-clock rates the rates per CPU-second of this
process (its threads' time summed), which other work on the machine
changes far less; on an idle machine wall-clock rate is at most
threads x the CPU rate.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from _timing import best_of, machine, print_table, write_json
from ftm.extract.images import CENTRE_VIEWS, bundled_photos, crop_box, preprocessed_batches, to_rgb_uint8
from ftm.extract.pipeline import views_for
from ftm.models import MODELS, load_network
from ftm.models.preprocessing import preprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def network(name: str):
    return load_network(name) if name == "efficientnet-lite0" else load_network(name, random_init=0)


def preprocess_rate(photos, prep) -> float:
    """Images per second through crop + resize + normalize (photos already decoded)."""
    images = [to_rgb_uint8(p.load(), p.name) for p in photos]
    view = views_for(CENTRE_VIEWS, prep)[0]
    boxes = [crop_box(*im.shape[:2], view) for im in images]
    seconds = best_of(lambda: [preprocess(im, box, prep) for im, box in zip(images, boxes)], repeat=3)
    return len(images) / seconds


def front(net, layer: str, x: torch.Tensor) -> None:
    names = net.split_points
    with torch.inference_mode():
        for name in names[: names.index(layer) + 1]:
            x = net.stages[name](x)


def extract(net, layer: str, x: torch.Tensor) -> None:
    out, captured = net.capture(x, [layer])
    captured[layer].numpy().copy()
    out.descriptor.numpy().copy()
    out.logits.numpy().copy()


def bench(name: str, batch: int, repeat: int, photos):
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    net = network(name)
    build_seconds = time.perf_counter() - t0
    prep = net.preprocessing
    ((_, inputs),) = list(preprocessed_batches(photos[:batch], views_for(CENTRE_VIEWS, prep), prep, batch))
    x = torch.from_numpy(inputs)
    extract(net, net.split_points[0], x)  # warm-up: first-call allocations and kernel selection
    rows = []
    shapes = net.feature_shapes()
    # Rounds over every point, best per point: on a shared machine a quiet spell then
    # benefits every point alike, rather than the points that happened to run in it.
    best: dict = {}
    for _ in range(repeat):
        for layer in net.split_points:
            for kind, fn in (("extract", extract), ("front", front)):
                w0, c0 = time.perf_counter(), time.process_time()
                fn(net, layer, x)
                for clock, seconds in (("wall", time.perf_counter() - w0), ("cpu", time.process_time() - c0)):
                    key = (kind, clock, layer)
                    best[key] = min(seconds, best.get(key, seconds))
    for layer in net.split_points:
        rate = lambda kind, clock: round(batch / best[(kind, clock, layer)], 2)  # noqa: E731
        rows.append({
            "model": name, "layer": layer, "shape": " x ".join(map(str, shapes[layer])),
            "bytes_per_image": 4 * int(np.prod(shapes[layer])),
            "extract_images_per_s": rate("extract", "wall"), "front_images_per_s": rate("front", "wall"),
            "extract_images_per_cpu_s": rate("extract", "cpu"), "front_images_per_cpu_s": rate("front", "cpu"),
        })  # fmt: skip
    return {
        "model": name,
        "weights": "packaged ImageNet" if name == "efficientnet-lite0" else "random (seed 0)",
        "build_seconds": round(build_seconds, 2),
        "preprocess_images_per_s": round(preprocess_rate(photos[:batch], prep), 1),
        "resample": prep.resample,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
        "points": rows,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated (default: every network FTM knows)")
    p.add_argument("--batch", type=int, default=8, help="images per forward pass (default 8)")
    p.add_argument("--repeat", type=int, default=3, help="best of this many rounds (default 3)")
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice, all cores)")
    p.add_argument("--json", default=os.path.join(ROOT, "benchmarks", "results", "networks.json"))
    args = p.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    photos = bundled_photos()
    results = [bench(name.strip(), args.batch, args.repeat, photos) for name in args.models.split(",") if name.strip()]
    rows = [row for r in results for row in r["points"]]
    print_table(rows, ["model", "layer", "shape", "extract_images_per_s", "front_images_per_s", "extract_images_per_cpu_s",
                       "front_images_per_cpu_s"])  # fmt: skip
    for r in results:
        print(f"{r['model']}: preprocessing {r['preprocess_images_per_s']} images/s ({r['resample']}), "
              f"built in {r['build_seconds']} s, load average {r['load_average_before']:.1f} -> {r['load_average_after']:.1f}")  # fmt: skip
    write_json(args.json, {
        "benchmark": "bench_networks", "machine": machine(), "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(), "batch": args.batch, "repeat": args.repeat, "networks": results,
    })  # fmt: skip
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
