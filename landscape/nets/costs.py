"""How long a network's loss slice or lr x momentum sweep takes, said before it starts, and the
slice's grid and images per model and device.

What is known lives in one table, ``CPU``: for each model, seconds per image on a CPU, measured on
the project's 2-core machine with ``python benchmarks/costs.py`` (docs/benchmarks.md): one grid
point of a slice (``slice.loss_grid``), one forward pass of one model (a path's recorded point,
``slice.losses_at``; a copy's evaluation in a sweep), one copy's training step in a batched sweep
(``copies.train_copies``). A laptop's CPU is usually at least as fast, so an estimate is usually
an upper guess there. No GPU has been measured: on one there is no estimate, and a slice takes the full
grid (``SLICE_PRESETS[0]``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .train import RECORD_POINTS


@dataclass(frozen=True)
class Cost:
    """Seconds per image of one model on one device."""

    grid_point: float  # one grid point of a slice (its loss on one image; batched)
    forward: float  # one forward pass (a path's recorded point; a copy's evaluation)
    copy_step: float | None  # one copy's training step in a batched sweep (None: it cannot be batched)


CPU = {  # the largest of the runs' medians on the 2-core machine (python benchmarks/costs.py;
    # docs/benchmarks.md, issue 22): the machine is shared, and its speed varies by up to 1.5x
    "mlp": Cost(grid_point=4.0e-6, forward=10e-6, copy_step=40e-6),
    "cnn": Cost(grid_point=410e-6, forward=340e-6, copy_step=1.0e-3),
    "autoencoder": Cost(grid_point=44e-6, forward=21e-6, copy_step=120e-6),
    "seed-cnn": Cost(grid_point=3.3e-3, forward=2.2e-3, copy_step=None),  # BatchNorm: no batched copies
    "mnist-mlp": Cost(grid_point=0.22e-6, forward=0.74e-6, copy_step=1.5e-6),
}
# (grid points per axis, evaluation images) a slice may take, finest first; odd grids, so that a
# coarse grid of every other point is part of the full one
SLICE_PRESETS = ((21, 1000), (21, 500), (17, 500), (15, 500), (15, 250), (13, 250), (11, 250), (11, 100),
                 (9, 100), (7, 100), (7, 50), (5, 50))
SLICE_BUDGET = 45.0  # seconds a default slice may take on the table's CPU (under a minute on a laptop)
DEFAULT_PATHS = 2  # runs the defaults allow for: the tab's and the command's two optimizers
LONG = 60.0  # seconds: an estimate above this is said as a warning
COARSE_POINTS = 11  # a coarse picture has at most this many grid points per axis


def of(model: str, device: str | torch.device) -> Cost | None:
    """``model``'s cost on ``device``; None where it was never measured (any GPU)."""
    return CPU.get(model) if torch.device(device).type == "cpu" else None


def slice_seconds(cost: Cost | None, grid: int, train_images: int, validation_images: int,
                  path_points: int) -> float | None:
    """The estimated time of a slice: its training and validation loss on ``grid`` x ``grid``
    points, and the real loss at each of the paths' ``path_points`` recorded points on the
    training images; None without a cost."""
    if cost is None:
        return None
    return (grid * grid * (train_images + validation_images) * cost.grid_point
            + path_points * train_images * cost.forward)


def slice_defaults(model: str, device: str | torch.device) -> tuple[int, int]:
    """(grid points per axis, evaluation images): the first of ``SLICE_PRESETS`` whose slice of
    ``DEFAULT_PATHS`` runs of ``RECORD_POINTS`` points is estimated at most ``SLICE_BUDGET``
    seconds on ``device``; the finest where nothing is measured (a GPU), the coarsest where none fits."""
    cost = of(model, device)
    if cost is None:
        return SLICE_PRESETS[0]
    points = DEFAULT_PATHS * (RECORD_POINTS + 2)  # the start, every N-th step and the last
    return next((preset for preset in SLICE_PRESETS
                 if slice_seconds(cost, preset[0], preset[1], preset[1], points) <= SLICE_BUDGET),
                SLICE_PRESETS[-1])


def coarse_stride(grid: int) -> int | None:
    """Every how many points of a ``grid``-point axis the coarse picture takes: the smallest step
    that lands on the last point and leaves at most ``COARSE_POINTS`` points, and at least 3;
    None where no step does (the grid is small already, or (grid - 1) has no fitting divisor)."""
    for stride in range(2, grid):
        count = (grid - 1) // stride + 1
        if (grid - 1) % stride == 0 and count <= COARSE_POINTS:
            return stride if count >= 3 else None
    return None


def sweep_seconds(cost: Cost | None, cells: int, epochs: int, train_images: int,
                  validation_images: int) -> float | None:
    """The estimated time of a network sweep: ``cells`` copies trained for ``epochs`` on
    ``train_images`` and evaluated after each on ``validation_images``; None without a cost (or
    for a model whose copies cannot be batched)."""
    if cost is None or cost.copy_step is None:
        return None
    return cells * epochs * (train_images * cost.copy_step + validation_images * cost.forward)


def duration(seconds: float) -> str:
    """``seconds`` as a person says an estimate: "1 s" at least, "8 s", "40 s", "3 min", "1.5 h"."""
    if seconds < 20:
        return f"{max(1, math.ceil(seconds))} s"
    if seconds < 90:
        return f"{5 * round(seconds / 5)} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def counted(count: int, word: str) -> str:
    """``count`` ``word``s, as an estimate says them: "1 epoch", "2 epochs", "1,000 images"."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def estimate(seconds: float | None, work: str, device: str | torch.device) -> str:
    """What a person reads before ``work`` starts (e.g. "21 x 21 points on 500 images"):
    "about 40 s for …"; above ``LONG`` a warning; without an estimate, that none is known."""
    if seconds is None:
        return f"{work} on {device} (its speed there is not measured: the bar shows how far it is)"
    if seconds > LONG:
        return f"this takes a while: about {duration(seconds)} for {work}"
    return f"about {duration(seconds)} for {work}"
