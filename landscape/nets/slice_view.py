"""A real network's loss landscape drawn like the analytic surfaces: one plane through the weights
(``nets.slice``), every optimizer's recorded path projected into it, the training and validation
loss on a grid of the plane.

``slice_comparison`` turns a comparison trained with ``record=True`` into a ``LossSlice``. The
slice then becomes what the surfaces' figures and GIFs already draw: a ``Surface`` (the grid's
loss, interpolated) and one ``Trajectories`` per optimizer (its projected points, each with the
real loss at its recorded weights and the optimizer step it was taken at), so the contour, the
paths, the '[k]' legend, the loss panel, the 3-D view, the animation and the GIF export are the
surfaces' own. Since a projection is not the truth, the picture states a PCA plane's share of
the points, named by what it is (the centred PCA's explained variance ratio, or the uncentred
share of squared displacement from the start), and each path's largest distance from the plane,
relative to the path's length.

``plan_slice`` says what a slice will evaluate and how long that is expected to take (``costs``;
the grid and images are the model's on the device unless given); with ``on_coarse`` a coarse
slice on every other grid point comes first, and the full grid evaluates only the points it misses.

Buffers (BatchNorm's running statistics) are not coordinates of the plane: the grid is evaluated
with those of the reference run (the finished run with the lowest final training loss) at the end
of its training, and each path's real losses with its own run's final buffers.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from .. import optim
from ..animate import TrajectoryAnimation, export_gif
from ..draw import lecture_figure
from ..files import check_results_folder, strict, write_together
from ..surfaces import Surface
from ..trajectory import Trajectories
from . import costs, models
from . import slice as planes
from .images import ImageData

RESULTS = ("slice.json", "slice.png", "slice.gif")
MAX_GRID_POINTS = 201
EVALUATION_BATCH = 500
MARGIN = 0.25  # room around the paths, as a share of their larger extent, on each side
RANDOM_EXTENT = 1.0  # a random plane's view reaches at least ±1 (Li et al.'s figures)
DIRECTIONS = ("pca", "pca-uncentred", "random")
PLANE_NAMES = {"pca": "centred PCA plane through the start", "pca-uncentred": "uncentred PCA plane through the start",
               "random": "random plane through the best run's end", "given": "given plane through the start"}
WHICH = ("train", "validation")
LOSS_NAMES = {"train": "training loss", "validation": "validation loss"}


@dataclass
class SlicePath:
    """One optimizer's path in the plane: at each recorded step, its coordinates (α, β), its
    distance from the plane and the real training loss at its recorded weights (on the slice's
    evaluation images); ``length`` is the path's length in weight space, Σ ‖θ_{t+1} − θ_t‖."""

    optimizer: str
    lr: float
    status: str
    diverged_at_step: int | None
    steps: list[int]
    coords: Tensor  # (T, 2) float64
    off_plane: Tensor  # (T,) float64
    loss: Tensor  # (T,) float64
    length: float

    @property
    def name(self) -> str:
        return f"{self.optimizer}@{self.lr:g}"

    @property
    def off_plane_share(self) -> float:
        """The largest distance from the plane, as a share of the path's length (0 for a path
        that did not move)."""
        largest = float(self.off_plane.max()) if len(self.off_plane) else 0.0
        return largest / self.length if self.length > 0 else 0.0

    def steps_to(self, target: float | None) -> int | None:
        """The first recorded step whose real loss is at most ``target``; None if none."""
        if target is None:
            return None
        reached = (self.loss <= target).nonzero()
        return self.steps[int(reached[0])] if len(reached) else None


@dataclass
class LossSlice:
    """A 2-D slice of a network's loss with every optimizer's path (see the module docstring).

    ``kind`` is the plane's (``slice.KINDS``); ``explained_variance`` a PCA plane's two shares, which
    are what ``variance_meaning`` says (None for the other planes); α and β are measured from the
    plane's origin (the common start, or for a random plane the reference run's final weights).
    ``train_loss`` and ``validation_loss`` are (len(betas), len(alphas)), row i for betas[i];
    ``target_loss`` is the loss every path's '[k]' counts the steps to (by default the lowest
    loss that every run that did not diverge reached), in recorded steps (every ``record_every``
    steps); ``plane`` stays in memory (not saved); ``notes`` say what was decided on the way (a
    fallback to a random plane).
    """

    model: str
    kind: str
    explained_variance: tuple[float, float] | None
    alphas: Tensor
    betas: Tensor
    train_loss: Tensor
    validation_loss: Tensor
    paths: list[SlicePath]
    target_loss: float | None
    evaluation: dict
    record_every: int
    plane: planes.Plane | None = field(default=None, repr=False)
    notes: list[str] = field(default_factory=list)

    @property
    def bounds(self) -> tuple[tuple[float, float], tuple[float, float]]:
        return ((float(self.alphas[0]), float(self.alphas[-1])), (float(self.betas[0]), float(self.betas[-1])))

    @property
    def variance_meaning(self) -> str | None:
        """What ``explained_variance`` is, in words (``slice.VARIANCE_MEANINGS``); None without one."""
        return planes.VARIANCE_MEANINGS.get(self.kind)

    def axis_labels(self) -> tuple[str, str]:
        if self.kind == "pca":
            return tuple(f"{symbol}: principal direction {k + 1} (explained variance ratio {share:.0%})"
                         for k, (symbol, share) in enumerate(zip("αβ", self.explained_variance)))
        if self.kind == "pca-uncentred":
            return tuple(f"{symbol}: uncentred PC {k + 1} ({share:.0%} of squared displacement from start)"
                         for k, (symbol, share) in enumerate(zip("αβ", self.explained_variance)))
        words = "filter-normalised random direction" if self.kind == "random" else "direction"
        return f"α: {words} 1", f"β: {words} 2"

    def title(self) -> str:
        """Three short lines: the model and the plane; what the legend's '[k]' and '(x% off the
        plane)' mean. The colour bar names the loss (``colour_label``)."""
        target = (f"[k]: recorded step (every {self.record_every}) at loss ≤ {self.target_loss:.3g}"
                  if self.target_loss is not None else "[k]: no loss every run reached")
        return f"{self.model}, {PLANE_NAMES[self.kind]}\n{target}\n% off the plane: largest distance / path length"

    def colour_label(self, which: str = "train") -> str:
        """What the contour's colours are, on two lines: "training loss\n(1,000 images)"."""
        return f"{LOSS_NAMES[which]}\n({costs.counted(self.evaluation[f'{which}_images'], 'image')})"

    def surface(self, which: str = "train") -> Surface:
        """The slice as a surface: the grid's ``which`` loss, interpolated bilinearly between grid
        points (no minimum between grid points that the grid does not hold); contour levels
        log-spaced above the lowest value only where the values span more than a decade, a colour
        bar naming the loss; its loss panel shows the paths' real losses."""
        _check_which(which)
        grid = self.train_loss if which == "train" else self.validation_loss
        finite = grid[grid.isfinite()]
        if not len(finite):
            raise ValueError(f"the {which} loss is not finite anywhere on the slice")
        grid = torch.nan_to_num(grid, nan=float(finite.max()), posinf=float(finite.max()))
        losses = torch.cat([path.loss[path.loss.isfinite()] for path in self.paths])
        low, high = (float(losses.min()), float(losses.max())) if len(losses) else (1.0, 1.0)
        spread = float(finite.max()) / max(float(finite.min()), 1e-12)
        return Surface(f"{self.model} slice", self.title(), _interpolated(grid, self.bounds),
                       self.bounds, starts=((0.0, 0.0),), log_levels=spread > 10,
                       axis_labels=self.axis_labels(), default_lr=1.0,  # nothing runs on a slice
                       loss_range=(max(low, 1e-12) / 1.15, high * 1.15), colour_label=self.colour_label(which))

    def trajectories(self, surface: Surface) -> list[Trajectories]:
        """Each path as a run on ``surface`` (``surface()``): its points every recorded step, its
        spec and learning rate (which give its colour, as on the surfaces)."""
        runs = []
        for path in self.paths:
            reached = path.steps_to(self.target_loss)
            diverged = path.diverged_at_step if path.status == "diverged" else None
            runs.append(Trajectories(
                optim.parse(path.optimizer), surface, path.coords.unsqueeze(1), path.loss.unsqueeze(1),
                iterations=torch.tensor([-1 if reached is None else reached]),
                minimum=torch.tensor([-1]), diverged_at=torch.tensor([-1 if diverged is None else diverged]),
                left_at=torch.tensor([-1]), settings={"lr": torch.tensor([path.lr], dtype=torch.float64)},
                name=f"{path.name} ({path.off_plane_share:.0%} off the plane)", point_steps=torch.tensor(path.steps)))
        return runs

    def figure(self, which: str = "train", *, three_d: bool = False, size: tuple[int, int] = (960, 540),
               dpi: float | None = None):
        """The surfaces' lecture figure of the slice: contour, paths, '[k]' legend, loss panel."""
        surface = self.surface(which)
        return lecture_figure(surface, self.trajectories(surface), three_d=three_d, size=size,
                              dpi=dpi).figure

    def animation(self, which: str = "train", **options) -> TrajectoryAnimation:
        """The paths growing point by point, as the surfaces' animations (``TrajectoryAnimation``)."""
        surface = self.surface(which)
        return TrajectoryAnimation(surface, self.trajectories(surface), **options)

    def export_gif(self, path: str | os.PathLike, which: str = "train", *, fps: float = 8, loop: int = 0,
                   size: tuple[int, int] = (960, 540),
                   progress: Callable[[int, int], None] | None = None) -> str:
        """The animation as a GIF (as ``animate.export_gif``), written atomically."""
        surface = self.surface(which)
        return export_gif(path, surface, trajectories=self.trajectories(surface), fps=fps, loop=loop,
                          size=size, progress=progress)

    def to_json(self) -> dict:
        """Everything saved, strict JSON (null for NaN and infinities)."""
        return strict({
            "model": self.model, "directions": self.kind, "explained_variance": self.explained_variance,
            "explained_variance_meaning": self.variance_meaning,
            "evaluation": self.evaluation, "record_every": self.record_every, "target_loss": self.target_loss,
            "notes": self.notes,
            "alpha": self.alphas.tolist(), "beta": self.betas.tolist(),
            "train_loss": self.train_loss.tolist(), "validation_loss": self.validation_loss.tolist(),
            "paths": [{"optimizer": path.optimizer, "lr": path.lr, "status": path.status,
                       "diverged_at_step": path.diverged_at_step, "steps_to_target": path.steps_to(self.target_loss),
                       "path_length": path.length, "largest_off_plane_share": path.off_plane_share,
                       "points": [{"step": step, "alpha": alpha, "beta": beta, "loss": loss, "off_plane": off}
                                  for step, (alpha, beta), loss, off in
                                  zip(path.steps, path.coords.tolist(), path.loss.tolist(), path.off_plane.tolist())]}
                      for path in self.paths]})

    def save(self, folder: str | os.PathLike, *, overwrite: bool = False,
             progress: Callable[[int, int], None] | None = None) -> list[Path]:
        """slice.json, slice.png (the training-loss figure) and slice.gif, moved into ``folder``
        together (``files.write_together``)."""

        def write(staging: Path) -> None:
            (staging / RESULTS[0]).write_text(json.dumps(self.to_json(), indent=1, allow_nan=False))
            self.figure().savefig(staging / RESULTS[1], format="png")
            self.export_gif(staging / RESULTS[2], progress=progress)

        return write_together(folder, RESULTS, write, "slice", overwrite)


def check_slice_options(*, directions="pca", grid: int | None = None, evaluation_images: int | None = None,
                        margin: float = MARGIN, target_loss: float | None = None) -> None:
    """``ValueError`` for any option ``slice_comparison`` would refuse: checked before training.
    ``grid`` and ``evaluation_images`` None: chosen per model and device (``plan_slice``)."""
    if isinstance(directions, str):
        if directions not in DIRECTIONS:
            raise ValueError(f"Invalid directions {directions!r}; valid: {', '.join(DIRECTIONS)}, "
                             f"or two direction vectors (Python)")
    elif not (isinstance(directions, Sequence) and len(directions) == 2):
        raise ValueError(f"Invalid directions: give {', '.join(map(repr, DIRECTIONS))} or two direction "
                         f"vectors (d1, d2)")
    if grid is not None and (isinstance(grid, bool) or not (isinstance(grid, int) and 3 <= grid <= MAX_GRID_POINTS)):
        raise ValueError(f"Invalid grid: {grid!r} (expected 3 to {MAX_GRID_POINTS} points per axis)")
    if evaluation_images is not None and (isinstance(evaluation_images, bool)
                                          or not (isinstance(evaluation_images, int) and evaluation_images >= 1)):
        raise ValueError(f"Invalid evaluation images: {evaluation_images!r} (expected an integer >= 1)")
    if not (isinstance(margin, (int, float)) and math.isfinite(margin) and 0 <= margin <= 10):
        raise ValueError(f"Invalid margin: {margin!r} (expected 0 to 10, a share of the paths' extent)")
    if target_loss is not None and not (isinstance(target_loss, (int, float)) and math.isfinite(target_loss)
                                        and target_loss > 0):
        raise ValueError(f"Invalid target loss: {target_loss!r} (expected a finite number > 0)")


def check_slice_folder(folder: str | os.PathLike, overwrite: bool = False) -> Path:
    """``folder``, if a slice can be saved there (see ``files.check_results_folder``)."""
    return check_results_folder(folder, RESULTS, "slice", overwrite)


@dataclass(frozen=True)
class SlicePlan:
    """What a slice will evaluate, and how long that is expected to take (``costs``): said before
    it starts. ``coarse``: the coarse picture's points per axis (every ``stride``-th point of the
    grid), None without one."""

    device: str
    cost: costs.Cost | None
    grid: int
    train_images: int
    validation_images: int
    path_points: int
    coarse: int | None = None
    stride: int | None = None

    def seconds(self, grid: int | None = None) -> float | None:
        """The estimated time of the paths and a ``grid`` x ``grid`` grid (by default the plan's)."""
        return costs.slice_seconds(self.cost, grid or self.grid, self.train_images, self.validation_images,
                                   self.path_points)

    def work(self, grid: int | None = None) -> str:
        """"21 x 21 points on 500 images"."""
        grid = grid or self.grid
        images = (costs.counted(self.train_images, "image") if self.train_images == self.validation_images else
                  f"{self.train_images:,} training and {costs.counted(self.validation_images, 'validation image')}")
        return f"{grid} x {grid} points on {images}"

    def estimate(self) -> str:
        """The whole slice's estimate, and when the coarse picture comes, in words."""
        text = costs.estimate(self.seconds(), self.work(), self.device)
        if self.coarse is None or self.cost is None:
            return text
        return f"{text}; a coarse {self.coarse} x {self.coarse} picture first, in about " \
               f"{costs.duration(self.seconds(self.coarse))}"

    def remaining(self) -> str:
        """Once the coarse picture is shown: the rest of the grid's estimate, in words."""
        rest = None if self.cost is None else self.seconds() - self.seconds(self.coarse)
        return costs.estimate(rest, f"the rest of the {self.grid} x {self.grid} grid", self.device)


def plan_slice(comparison, data: ImageData, *, grid: int | None = None, evaluation_images: int | None = None,
               coarse: bool = False) -> SlicePlan:
    """The plan of ``comparison``'s slice on ``data``: ``grid`` and ``evaluation_images`` as given,
    else chosen for the model and ``data``'s device (``costs.slice_defaults``); with ``coarse``,
    the coarse picture's grid (``costs.coarse_stride``)."""
    chosen = costs.slice_defaults(comparison.model, data.device)
    grid, images = grid or chosen[0], evaluation_images or chosen[1]
    stride = costs.coarse_stride(grid) if coarse else None
    points = sum(len(run.path.steps) for run in comparison.runs if run.path is not None)
    return SlicePlan(str(data.device), costs.of(comparison.model, data.device), grid,
                     min(images, len(data.train_labels)), min(images, len(data.val_labels)), points,
                     None if stride is None else (grid - 1) // stride + 1, stride)


def slice_comparison(comparison, data: ImageData, *, directions="pca", grid: int | None = None,
                     evaluation_images: int | None = None, margin: float = MARGIN,
                     target_loss: float | None = None, seed: int = 0,
                     status: Callable[[str], None] | None = None,
                     progress: Callable[[int, int], None] | None = None,
                     on_coarse: Callable[[LossSlice], None] | None = None) -> LossSlice:
    """The loss slice of a comparison trained with ``record=True`` (``train_and_compare``) on ``data``.

    ``directions``: "pca" (one plane through the common start, spanned by the centred PCA's top two
    directions of the recorded points of every run that did not diverge, ``slice.pca_plane``, with
    their explained variance ratio, as Li et al.'s code and loss-landscape-anim report it),
    "pca-uncentred" (the same with the uncentred displacements from the start: the plane through
    the start that keeps the most of them, with each direction's share of their squared length);
    for either, a diverged run is projected onto the plane, and may leave the view, and where the
    paths span fewer than two directions, e.g. a run with lr 0, a random plane is used instead,
    said in ``notes``; "random" (filter-normalised, through the reference run's final weights,
    ``slice.random_plane`` with ``seed``), or two direction vectors (d1, d2) through the common
    start. α and β are measured from the plane's origin. The grid has ``grid`` x ``grid`` points
    over a square around the projected paths that did not diverge (``margin`` of their extent on
    each side); its training and validation losses are the means over the first
    ``evaluation_images`` of ``data``'s training and validation images. ``grid`` and
    ``evaluation_images`` not given are the model's on ``data``'s device (``plan_slice``).

    ``on_coarse(loss_slice)``: first the slice on every ``stride``-th point of the grid
    (``SlicePlan.coarse``, at most ``costs.COARSE_POINTS`` per axis), handed over as soon as it is
    done; the full grid then evaluates only the points the coarse one does not hold. ``status(text)``
    says what is being done; ``progress(done, total)`` counts the paths' recorded points and the
    grids' points, training and validation, once each.
    """
    check_slice_options(directions=directions, grid=grid, evaluation_images=evaluation_images,
                        margin=margin, target_loss=target_loss)
    runs = [run for run in comparison.runs if run.path is not None]
    if not runs:
        raise ValueError("no recorded paths to slice: train with record=True (train_and_compare)")
    plan = plan_slice(comparison, data, grid=grid, evaluation_images=evaluation_images,
                      coarse=on_coarse is not None)
    say = status or (lambda text: None)
    counter = _Counter(plan.path_points + 2 * plan.grid ** 2, progress)
    finished = [run for run in runs if run.status == "finished" and run.epochs]
    reference = min(finished, key=lambda run: run.epochs[-1].train_loss) if finished else runs[0]
    start = runs[0].path.weights[0]
    model = models.create(comparison.model, comparison.settings.get("seed", 0)).to(start)
    dtype = start.dtype
    say(f"finding the plane ({directions if isinstance(directions, str) else 'given'}) …")
    # a diverging run's last points are huge: they would make the plane, and the view, theirs
    steady = [run for run in runs if run.status != "diverged"] or runs
    notes = []
    if directions in ("pca", "pca-uncentred"):
        try:
            plane = planes.pca_plane([run.path.weights for run in steady], start, centred=directions == "pca")
        except ValueError as error:
            notes.append(f"no PCA plane ({error}): a random plane instead")
            say(notes[-1])
            directions = "random"
    if directions == "random":
        planes.load_flat_weights(model, reference.path.weights[-1])
        plane = planes.random_plane(model, seed, origin=reference.path.weights[-1])
    elif not isinstance(directions, str):
        plane = planes.given_plane(start, *(torch.as_tensor(d).to(start) for d in directions))
    batches = {"train": _evaluation_batches(data, "train", plan.train_images, dtype),
               "validation": _evaluation_batches(data, "validation", plan.validation_images, dtype)}
    say("evaluating the real loss along each path …")
    paths = [_slice_path(run, plane, model, batches["train"], counter) for run in runs]
    alphas, betas = _axes([path for path in paths if path.status != "diverged"] or paths, plan.grid, margin,
                          plane.kind)
    _load_buffers(model, reference.path.buffers)
    if target_loss is None:
        target_loss = _common_target(paths)
    evaluation = {"train_images": plan.train_images, "validation_images": plan.validation_images}

    def loss_slice(grids: dict[str, Tensor], every: int = 1) -> LossSlice:
        return LossSlice(comparison.model, plane.kind, plane.explained_variance, alphas[::every], betas[::every],
                         grids["train"], grids["validation"], paths, target_loss, evaluation, runs[0].path.every,
                         plane, notes)

    coarse = None
    if plan.stride is not None:
        coarse = {}
        for which in WHICH:
            say(f"evaluating the {LOSS_NAMES[which]} on the coarse {plan.coarse} x {plan.coarse} grid …")
            coarse[which] = _loss_grid(model, plane, alphas[::plan.stride], betas[::plan.stride], batches[which],
                                       counter)
        on_coarse(loss_slice(coarse, plan.stride))
    grids = {}
    for which in WHICH:
        say(f"evaluating the {LOSS_NAMES[which]} on the {plan.grid} x {plan.grid} grid …")
        grids[which] = (_loss_grid(model, plane, alphas, betas, batches[which], counter) if coarse is None else
                        _refined(model, plane, alphas, betas, batches[which], coarse[which], plan.stride, counter))
    return loss_slice(grids)


class _Counter:
    """One ``progress(done, total)`` over a slice's work, counted in points: a path's recorded
    point, a grid point of one loss."""

    def __init__(self, total: int, progress: Callable[[int, int], None] | None):
        self.done, self.total, self.progress = 0, total, progress

    def add(self, points: int) -> None:
        self.done += points
        if self.progress is not None:
            self.progress(self.done, self.total)

    def each(self, items):
        """``items``, counting each once it has been used (when the next one is asked for)."""
        for item in items:
            yield item
            self.add(1)

    def grid(self, points: int) -> Callable[[int, int], None]:
        """A ``slice.loss_grid`` progress for a grid of ``points`` points (it counts evaluations
        over the batches)."""
        base = self.done

        def advance(done: int, total: int) -> None:
            self.add(base + done * points // total - self.done)

        return advance


def _loss_grid(model, plane: planes.Plane, alphas: Tensor, betas: Tensor, batches, counter: _Counter) -> Tensor:
    """``slice.loss_grid`` on (``betas``, ``alphas``), counted, as float64 on the CPU."""
    return (planes.loss_grid(model, plane, alphas, betas, batches, progress=counter.grid(len(alphas) * len(betas)))
            .to("cpu", torch.float64))


def _refined(model, plane: planes.Plane, alphas: Tensor, betas: Tensor, batches, coarse: Tensor, stride: int,
             counter: _Counter) -> Tensor:
    """The full grid's loss given ``coarse``, its loss at every ``stride``-th point: the rows the
    coarse grid misses whole, then the columns it misses of the rows it holds."""
    grid = torch.empty(len(betas), len(alphas), dtype=torch.float64)
    held = torch.arange(len(betas)) % stride == 0  # the same on both axes: the grid is square
    on, off = held.nonzero()[:, 0], (~held).nonzero()[:, 0]
    grid[on[:, None], on] = coarse
    grid[off] = _loss_grid(model, plane, alphas, betas[off], batches, counter)
    grid[on[:, None], off] = _loss_grid(model, plane, alphas[off], betas[on], batches, counter)
    return grid


def _evaluation_batches(data: ImageData, which: str, count: int, dtype) -> list[tuple[Tensor, Tensor]]:
    images, labels = ((data.train_images, data.train_labels) if which == "train"
                      else (data.val_images, data.val_labels))
    images, labels = images[:count], labels[:count]
    return [(data.normalise(images[i:i + EVALUATION_BATCH], dtype), labels[i:i + EVALUATION_BATCH])
            for i in range(0, len(labels), EVALUATION_BATCH)]


def _slice_path(run, plane: planes.Plane, model, batches, counter: _Counter) -> SlicePath:
    weights = run.path.weights
    coords, off_plane = planes.project(plane, weights)
    _load_buffers(model, run.path.buffers)
    losses = planes.losses_at(model, counter.each(weights), batches)
    length = float(torch.linalg.vector_norm(weights[1:] - weights[:-1], dim=1).sum()) if len(weights) > 1 else 0.0
    wide = dict(device="cpu", dtype=torch.float64)
    return SlicePath(run.optimizer, run.lr, run.status, run.diverged_at_step, list(run.path.steps),
                     coords.to(**wide), off_plane.to(**wide), losses.to(**wide), length)


def _load_buffers(model, buffers: dict[str, Tensor]) -> None:
    own = dict(model.named_buffers())
    for name, value in buffers.items():
        own[name].copy_(value)


def _axes(paths: list[SlicePath], grid: int, margin: float, kind: str) -> tuple[Tensor, Tensor]:
    """α and β values: a square around every projected point (equal units on both axes, as the
    surfaces' contours), ``margin`` of its side added on each side; a random plane's at least ±1."""
    points = torch.cat([path.coords for path in paths])
    low, high = points.min(0).values, points.max(0).values
    if kind == "random":
        low, high = low.clamp(max=-RANDOM_EXTENT), high.clamp(min=RANDOM_EXTENT)
    side = float((high - low).max())
    side = side if side > 0 else 1.0
    half = side * (0.5 + margin)
    centre = (low + high) / 2
    return tuple(torch.linspace(float(c) - half, float(c) + half, grid, dtype=torch.float64) for c in centre)


def _common_target(paths: list[SlicePath]) -> float | None:
    """The lowest loss every run that did not diverge reached (the highest of their minima)."""
    minima = [float(path.loss[path.loss.isfinite()].min()) for path in paths
              if path.status != "diverged" and path.loss.isfinite().any()]
    return max(minima) if minima else None


def _interpolated(grid: Tensor, bounds) -> Callable[[Tensor], Tensor]:
    """f(p[..., 2]): ``grid`` (rows over β, columns over α, spanning ``bounds``) interpolated bilinearly."""
    (x0, x1), (y0, y1) = bounds
    image = grid.to(torch.float64)[None, None]

    def loss(p: Tensor) -> Tensor:
        u = 2 * (p[..., 0] - x0) / (x1 - x0) - 1
        v = 2 * (p[..., 1] - y0) / (y1 - y0) - 1
        where = torch.stack([u, v], dim=-1).reshape(1, -1, 1, 2).to(image)
        values = F.grid_sample(image, where, mode="bilinear", padding_mode="border", align_corners=True)
        return values.reshape(p.shape[:-1]).to(p.dtype)

    return loss


def _check_which(which: str) -> None:
    if which not in WHICH:
        raise ValueError(f"Invalid loss {which!r}; valid: {', '.join(WHICH)}")
