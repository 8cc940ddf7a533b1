"""A G x G loss slice (21 x 21) on N evaluation images (1,000): ``slice.loss_grid`` (many points per forward
pass) vs ``slice.loss_grid_naive`` (load the weights, forward, per point), on the same plane,
grid and data, alternating, medians. Targets: naive/batched >= 3 for the MLP on the CPU; the
MLP's batched grid <= 20 s on the 2-core machine; on a GPU, 51 x 51 on 10,000 images <= 5 s
(``--device cuda --grid 51 --images 10000``).

    python benchmarks/slice_grid.py [--device cpu|cuda|mps] [--models mlp cnn] [--grid 21]
                                    [--images 1000] [--rows R] [--repeats 3] [--data-dir DIR]

The images are the first N validation images of the CIFAR-10 subset in ``--data-dir``
(default ../shared/data/cifar-10-batches-py) if it holds that many, else random CIFAR-shaped tensors.
``--rows R`` times both on the first R rows of the grid only (R x G points) and extrapolates to
the whole grid (printed as such); by default all 21 rows for the MLP and 2 for the other models
(the CNN costs about a second per point on a 2-core CPU, either way).

``--defaults`` times instead what the Real networks tab does with its defaults, per model: a
comparison of sgd+momentum and adam (2 epochs on 2,000 training images, recorded), then its slice
at the model's default grid and images on the device (``nets.costs.slice_defaults``), a coarse
picture first: the estimate said before it, the time to the coarse picture and to the full one.

    python benchmarks/slice_grid.py --defaults --models mlp cnn autoencoder mnist-mlp [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from landscape.nets import data as cifar
from landscape.nets import datasets, models, slice_view, train
from landscape.nets import slice as landscape_slice

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar-10-batches-py"
BATCH = 1000  # images per evaluation batch


def evaluation_batches(data_dir: Path, images: int, device: torch.device) -> tuple[list, str]:
    """``images`` images in batches of 1,000 on ``device``, and where they come from."""
    try:
        dataset = cifar.load(data_dir, device=device, val_size=images, download_missing=False)
        return list(dataset.val_batches(BATCH)), f"{images:,} real CIFAR-10 images from {data_dir}"
    except ValueError:  # not there, or fewer images than asked
        generator = torch.Generator().manual_seed(0)
        x = torch.randn(images, 3, 32, 32, generator=generator).to(device)
        y = torch.randint(0, 10, (images,), generator=generator).to(device)
        return list(zip(x.split(BATCH), y.split(BATCH))), f"{images:,} random CIFAR-shaped tensors"


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


def compare(name: str, batches: list, device: torch.device, grid: int, rows: int, repeats: int) -> None:
    """Print the batched grid's median time, the naive loop's (extrapolated if partial), their ratio."""
    model = models.create(name).to(device)
    plane = landscape_slice.random_plane(model, seed=0)
    axis = torch.linspace(-1, 1, grid).tolist()
    images = sum(len(y) for _, y in batches)

    def batched():
        landscape_slice.loss_grid(model, plane, axis, axis[:rows], batches)

    def naive():
        landscape_slice.loss_grid_naive(model, plane, axis, axis[:rows], batches)

    landscape_slice.loss_grid(model, plane, axis[:2], axis[:2], batches)  # warm-up
    landscape_slice.loss_grid_naive(model, plane, axis[:1], axis[:1], batches)
    batched_times, naive_times = [], []
    for _ in range(repeats):
        batched_times.append(seconds(batched, device) * grid / rows)
        naive_times.append(seconds(naive, device) * grid / rows)
    batched_time, naive_time = statistics.median(batched_times), statistics.median(naive_times)
    note = "" if rows == grid else f" (both extrapolated from {rows} of {grid} rows)"
    print(f"{name:4s} {grid}x{grid} on {images} images, {device}: batched {batched_time:7.2f} s, "
          f"naive {naive_time:7.2f} s{note}, naive/batched {naive_time / batched_time:5.1f}x")


def defaults(name: str, data_dir: Path, device: torch.device, repeats: int) -> None:
    """Print the default slice's estimate and its measured times to the coarse and the full picture
    (medians of ``repeats`` slices of one comparison)."""
    data = datasets.DATASETS[models.MODELS[name].dataset].load(data_dir, device=device, train_size=2000,
                                                              download_missing=False)
    comparison = train.train_and_compare(name, ["sgd+momentum", "adam"], lr={"sgd+momentum": 0.01, "adam": 0.001},
                                         epochs=2, data=data, progress=False, record=True)
    plan = slice_view.plan_slice(comparison, data, coarse=True)
    coarse, total = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        slice_view.slice_comparison(comparison, data, on_coarse=lambda _: coarse.append(time.perf_counter() - start))
        total.append(time.perf_counter() - start)
    print(f"{name:11s} {plan.work()}, {plan.path_points} path points: estimated {plan.seconds():6.1f} s "
          f"(coarse {plan.coarse} x {plan.coarse}: {plan.seconds(plan.coarse):5.1f} s); measured "
          f"{statistics.median(total):6.1f} s (coarse: {statistics.median(coarse):5.1f} s), medians of {repeats}",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", nargs="+", default=["mlp", "cnn"], choices=list(models.MODELS))
    parser.add_argument("--grid", type=int, default=21, help="grid points per axis")
    parser.add_argument("--images", type=int, default=1000, help="evaluation images")
    parser.add_argument("--rows", type=int, default=None,
                        help="time the first R rows only (default: all for the MLP, 2 for the others)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=SHARED)
    parser.add_argument("--defaults", action="store_true", help="time the tab's default slice per model instead")
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.defaults:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {device}")
        for name in args.models:
            defaults(name, args.data_dir.parent, device, args.repeats)
        return
    if args.grid < 2 or args.images < 1:
        parser.error("--grid must be at least 2 and --images at least 1")
    if args.rows is not None and not 1 <= args.rows <= args.grid:
        parser.error(f"--rows must be 1 to {args.grid}")
    batches, source = evaluation_batches(args.data_dir, args.images, device)
    print(f"{source}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    for name in args.models:
        rows = args.rows or (args.grid if name == "mlp" else 2)
        compare(name, batches, device, args.grid, rows, args.repeats)


if __name__ == "__main__":
    main()
