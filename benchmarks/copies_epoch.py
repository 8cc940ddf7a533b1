"""B copies of a network in one batched run (``nets.copies.train_copies``) against B single runs
(``train_and_compare``, one model at a time), one epoch each with validation, same data, same lrs,
in one run. Target: B = 64 MNIST MLPs on the shared subset >= 4x faster batched on a 2-core CPU.

    python benchmarks/copies_epoch.py [--models mnist-mlp mlp] [--copies 64] [--device cpu]
                                      [--train-size N] [--data-dir ../shared/data]

The data is the shared MNIST / CIFAR-10 subset in ``--data-dir`` if it is there, else random
images of the data set's shape. The single runs are timed on ``--singles`` of the B settings and
scaled to B (they take the same time each); batched and single runs alternate, ``--repeats``
times, and the medians are compared.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from landscape.nets import copies, datasets, mnist, models, train
from landscape.nets import data as cifar
from landscape.nets.images import ImageData

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
STATISTICS = {"mnist": (mnist.MEAN, mnist.STD), "cifar10": (cifar.MEAN, cifar.STD)}


def load(dataset: str, data_dir: Path, train_size: int | None, device) -> tuple[ImageData, str]:
    """The shared subset of ``dataset``, else random images of its shape; and where they come from."""
    try:
        data = datasets.check(dataset).load(data_dir, device=device, train_size=train_size, download_missing=False)
        return data, f"{len(data.train_labels):,} {data.name} images from {data_dir}"
    except ValueError:
        generator = torch.Generator().manual_seed(0)
        count = train_size or 5000
        images = torch.randint(0, 256, (count, *models.INPUT_SHAPES[dataset]), dtype=torch.uint8,
                               generator=generator)
        labels = torch.randint(0, 10, (count,), generator=generator)
        mean, std = STATISTICS[dataset]
        title = datasets.DATASETS[dataset].title
        data = ImageData(images.to(device), labels.to(device), images[:1000].to(device), labels[:1000].to(device),
                         mean, std, title)
        return data, f"{count:,} random images of {title}'s shape"


def single_epoch(model_name: str, data: ImageData, lr: float, batch_size: int) -> float:
    """One epoch of one model with momentum at ``lr`` by ``train_and_compare`` (its validation
    included, as the batched run's): what a sweep costs run by run; seconds."""
    start = time.perf_counter()
    train.train_and_compare(model_name, "momentum", lr=lr, momentum=0.9, data=data, epochs=1,
                            batch_size=batch_size, progress=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["mnist-mlp", "mlp"])
    parser.add_argument("--copies", type=int, default=64)
    parser.add_argument("--singles", type=int, default=8, help="single runs timed (scaled to --copies)")
    parser.add_argument("--batch-size", type=int, nargs="+", default=[128])
    parser.add_argument("--repeats", type=int, default=3, help="alternating repeats; medians")
    parser.add_argument("--train-size", type=int)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-dir", type=Path, default=SHARED)
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}")
    print("| model | data | B | batched epoch | B single epochs | single / batched |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name in args.models:
        data, source = load(models.MODELS[name].dataset, args.data_dir, args.train_size, device)
        lrs = torch.logspace(-3, -1, args.copies)
        for batch_size in args.batch_size:
            copies.train_copies(name, "momentum", data, lr=lrs[:2], momentum=0.9, epochs=1,
                                batch_size=batch_size)  # warm-up (vmap's first call)
            single_epoch(name, data, 0.01, batch_size)
            picked = lrs[:: max(1, args.copies // args.singles)]
            batched, singles = [], []
            for _ in range(args.repeats):  # alternating, so that a busy moment hits both alike
                start = time.perf_counter()
                copies.train_copies(name, "momentum", data, lr=lrs, momentum=0.9, epochs=1, batch_size=batch_size)
                batched.append(time.perf_counter() - start)
                singles.append(sum(single_epoch(name, data, float(lr), batch_size) for lr in picked)
                               / len(picked) * args.copies)
            batched_time, singles_time = statistics.median(batched), statistics.median(singles)
            print(f"| {name} | {source}, batch {batch_size} | {args.copies} | {batched_time:.2f} s "
                  f"| {singles_time:.2f} s | {singles_time / batched_time:.1f}x |")


if __name__ == "__main__":
    main()
