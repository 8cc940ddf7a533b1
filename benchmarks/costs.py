"""Seconds per image of each model on a device: what ``landscape.nets.costs.CPU`` holds, measured
again and printed beside it. One grid point of a slice (``slice.loss_grid`` on a line of points,
500-image batches as a slice evaluates them, on 1,000 images), one forward pass
(``slice.losses_at``, a path's point) and one copy's training step in a batched sweep
(``copies.train_copies``, 16 copies, momentum, batch 128: the epoch's training time,
``Epoch.seconds``). Each is timed over about ``--seconds`` of work,
``--repeats`` times alternating between the models: medians (and minima, the machine's speed
when nothing else runs).

    python benchmarks/costs.py [--models mlp cnn autoencoder mnist-mlp seed-cnn] [--device cpu]
                               [--repeats 3] [--seconds 3] [--data-dir ../shared/data]

The images are the shared CIFAR-10 / MNIST subsets in ``--data-dir`` if they are there, else
random images of the data set's shape (the time does not depend on the pixels).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from copies_epoch import SHARED, load
from landscape.nets import copies, costs, models
from landscape.nets import slice as landscape_slice
from landscape.nets.slice_view import EVALUATION_BATCH

IMAGES = 1000
COPIES = 16
BATCH = 128


def seconds(function, device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    function()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


class Probe:
    """One model's three measurements, each sized to about ``budget`` seconds by the table's guess."""

    def __init__(self, name: str, data, device: torch.device, budget: float):
        self.name, self.device, self.data = name, device, data
        guess = costs.CPU[name]
        self.model = models.create(name).to(device)
        self.plane = landscape_slice.random_plane(self.model, seed=0)
        x, y = data.normalise(data.val_images[:IMAGES]), data.val_labels[:IMAGES]
        self.batches = list(zip(x.split(EVALUATION_BATCH), y.split(EVALUATION_BATCH)))
        self.images = len(y)
        self.grid = max(2, min(121, round(budget / (self.images * guess.grid_point))))  # points, on one line
        self.points = max(2, round(budget / (self.images * guess.forward)))
        self.batchable = guess.copy_step is not None
        if self.batchable:
            self.steps = max(3, min(len(data.train_labels) // BATCH, round(budget / (COPIES * BATCH * guess.copy_step))))
        landscape_slice.loss_grid(self.model, self.plane, [0.0, 0.1], [0.0], self.batches)  # warm-up
        self.times = {"grid_point": [], "forward": [], "copy_step": []}

    def measure(self) -> None:
        alphas = torch.linspace(-1, 1, self.grid).tolist()
        grid = seconds(lambda: landscape_slice.loss_grid(self.model, self.plane, alphas, [0.5], self.batches),
                       self.device)
        self.times["grid_point"].append(grid / (self.grid * self.images))
        points = [self.plane.point(0.1 * k, 0.2) for k in range(self.points)]
        forward = seconds(lambda: landscape_slice.losses_at(self.model, points, self.batches), self.device)
        self.times["forward"].append(forward / (self.points * self.images))
        if self.batchable:
            data = self.data
            train = type(data)(data.train_images[:self.steps * BATCH], data.train_labels[:self.steps * BATCH],
                               data.val_images[:BATCH], data.val_labels[:BATCH], data.mean, data.std, data.name)
            run = copies.train_copies(self.name, "momentum", train, lr=torch.logspace(-3, -1, COPIES),
                                      momentum=0.9, epochs=1, batch_size=BATCH)
            self.times["copy_step"].append(run.epochs[0].seconds / (COPIES * len(train.train_labels)))

    def report(self) -> str:
        table = costs.CPU[self.name]
        cells = []
        for key, values in self.times.items():
            measured = (f"{statistics.median(values) * 1e6:8.2f} (min {min(values) * 1e6:8.2f})" if values
                        else "       - (min        -)")
            guess = getattr(table, key)
            cells.append(f"{key} {measured} us, table " + ("       -" if guess is None else f"{guess * 1e6:8.2f}"))
        return f"{self.name:12s} " + ", ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(costs.CPU), choices=list(costs.CPU))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="work per measurement, as the table guesses it")
    parser.add_argument("--data-dir", type=Path, default=SHARED)
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {device}")
    probes = []
    for name in args.models:
        dataset = models.MODELS[name].dataset
        data, source = load(dataset, args.data_dir, None, device)
        print(f"{name}: {source}")
        probes.append(Probe(name, data, device, args.seconds))
    for repeat in range(args.repeats):
        for probe in probes:
            probe.measure()
        print(f"repeat {repeat + 1}/{args.repeats} done", flush=True)
    for probe in probes:
        print(probe.report())


if __name__ == "__main__":
    main()
