"""A 21 x 21 loss slice on 1,000 evaluation images: ``slice.loss_grid`` (many points per forward
pass) vs ``slice.loss_grid_naive`` (load the weights, forward, per point), on the same plane,
grid and data, alternating, medians. Targets: naive/batched >= 3 for the MLP on the CPU; the
MLP's batched grid <= 20 s on the 2-core machine.

    python benchmarks/slice_grid.py [--device cpu|cuda|mps] [--models mlp cnn]
                                    [--rows R] [--repeats 3] [--data-dir DIR]

The images are the first 1,000 validation images of the CIFAR-10 subset in ``--data-dir``
(default ../shared/data/cifar-10-batches-py) if it is there, else random CIFAR-shaped tensors.
``--rows R`` times both on the first R rows of the grid only (R x 21 points) and extrapolates to
the whole grid (printed as such); by default all 21 rows for the MLP and 2 for the other models
(the CNN costs about a second per point on a 2-core CPU, either way).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from landscape.nets import data as cifar
from landscape.nets import models
from landscape.nets import slice as landscape_slice

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar-10-batches-py"
GRID = 21
IMAGES = 1000
DEFAULT_ROWS = {"mlp": GRID}  # the other models: 2


def evaluation_batches(data_dir: Path, device: torch.device) -> tuple[list, str]:
    """1,000 images in one batch on ``device``, and where they come from."""
    if data_dir.is_dir():
        dataset = cifar.load(data_dir, device=device, val_size=IMAGES, download_missing=False)
        return list(dataset.val_batches(IMAGES)), f"real CIFAR-10 images from {data_dir}"
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(IMAGES, 3, 32, 32, generator=generator).to(device)
    y = torch.randint(0, 10, (IMAGES,), generator=generator).to(device)
    return [(x, y)], "random CIFAR-shaped tensors"


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()
    elif device.type == "mps":
        torch.mps.synchronize()


def seconds(function, device: torch.device) -> float:
    synchronise(device)
    start = time.perf_counter()
    function()
    synchronise(device)
    return time.perf_counter() - start


def compare(name: str, batches: list, device: torch.device, rows: int, repeats: int) -> None:
    """Print the batched grid's median time, the naive loop's (extrapolated if partial), their ratio."""
    model = models.create(name).to(device)
    plane = landscape_slice.random_plane(model, seed=0)
    axis = torch.linspace(-1, 1, GRID).tolist()

    def batched():
        landscape_slice.loss_grid(model, plane, axis, axis[:rows], batches)

    def naive():
        landscape_slice.loss_grid_naive(model, plane, axis, axis[:rows], batches)

    landscape_slice.loss_grid(model, plane, axis[:2], axis[:2], batches)  # warm-up
    landscape_slice.loss_grid_naive(model, plane, axis[:1], axis[:1], batches)
    batched_times, naive_times = [], []
    for _ in range(repeats):
        batched_times.append(seconds(batched, device) * GRID / rows)
        naive_times.append(seconds(naive, device) * GRID / rows)
    batched_time, naive_time = statistics.median(batched_times), statistics.median(naive_times)
    note = "" if rows == GRID else f" (both extrapolated from {rows} of {GRID} rows)"
    print(f"{name:4s} {GRID}x{GRID} on {IMAGES} images, {device}: batched {batched_time:7.2f} s, "
          f"naive {naive_time:7.2f} s{note}, naive/batched {naive_time / batched_time:5.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", nargs="+", default=["mlp", "cnn"], choices=list(models.MODELS))
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=SHARED)
    args = parser.parse_args()
    if args.rows is not None and not 1 <= args.rows <= GRID:
        parser.error(f"--rows must be 1 to {GRID}")
    device = torch.device(args.device)
    batches, source = evaluation_batches(args.data_dir, device)
    print(f"{source}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name in args.models:
        compare(name, batches, device, args.rows or DEFAULT_ROWS.get(name, 2), args.repeats)


if __name__ == "__main__":
    main()
