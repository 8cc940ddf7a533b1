"""A network's lr x momentum sweep: every (lr, momentum) pair of one optimizer trained as one batched
run of copies (``nets.copies``), as ``trajectory.sweep`` is for a surface; its phase diagram
(drawn by the surfaces' ``draw.phase_grid``) and its saved results.

Cells are laid out on a ``grid.Grid``, as the surfaces' sweeps. A cell that diverged is marked with
its step; the others are unaffected. Results are strict JSON (every cell's per-epoch curves), a
tidy CSV (one row per cell and epoch), a phase diagram of the final validation loss and the "lr
variations around the best" curves (the best momentum's validation loss per epoch at the lrs
next to the best), written together (``files.write_together``).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from matplotlib.ticker import MaxNLocator

from .. import draw, optim, schedules
from ..files import check_results_folder, strict, write_together
from ..grid import Grid
from . import copies, costs, datasets
from .devices import resolve_device
from .images import VALIDATION_BATCH, ImageData
from .report import PER_BATCH

RESULTS = ("sweep.json", "sweep.csv", "sweep.png")
MAX_CELLS = 4096
NEIGHBOURS = 2  # lrs on each side of the best in the "lr variations" curves


@dataclass
class NetworkSweep:
    """The sweep's grid and its batched run (``copies``: one copy per cell, row-major)."""

    model: str
    dataset: str
    spec: optim.Spec
    grid: Grid
    run: copies.Copies
    schedule: str = "none"

    def final(self, key: str) -> torch.Tensor:
        """The last epoch's ``key`` ("train_loss", "val_loss", "val_accuracy") per cell (L, M),
        NaN where a cell diverged."""
        values = getattr(self.run.epochs[-1], key).double().clone()
        values[self.run.diverged_at >= 0] = float("nan")
        return self.grid.values(values)

    def best(self) -> tuple[int, int]:
        """The cell (lr index, momentum index) with the lowest final validation loss."""
        cell = self.grid.best(self.final("val_loss").reshape(-1))
        if cell is None:
            raise ValueError("every cell of the sweep diverged: no best cell")
        return cell

    def best_setting(self) -> dict | None:
        """The best cell's {"lr", "momentum"}; None when every cell diverged."""
        cell = self.grid.best(self.final("val_loss").reshape(-1))
        return None if cell is None else self.grid.setting(*cell)

    def summary(self) -> str:
        """One sentence: how many cells, how many diverged, where the best one is."""
        best = self.best_setting()
        diverged = int((self.run.diverged_at >= 0).sum())
        where = ("every cell diverged" if best is None else f"best validation loss at lr {best['lr']:.3g}"
                 + ("" if best["momentum"] is None else f", momentum {best['momentum']:.3g}"))
        return f"{costs.counted(self.run.count, 'cell')} in one batched run, {diverged} diverged; {where}"

    def table(self) -> list[dict]:
        """Tidy rows: one per cell and epoch (a diverged cell's epochs after it diverged hold NaN)."""
        rows = []
        for cell in range(self.grid.cells):
            setting = self.grid.setting(*self.grid.cell(cell))
            diverged = int(self.run.diverged_at[cell])
            for epoch in self.run.epochs:
                values = epoch.of_copy(cell)
                rows.append({**setting, "epoch": values.epoch, "lr_factor": values.lr_factor,
                             "train_loss": values.train_loss, "val_loss": values.val_loss,
                             "val_accuracy": values.val_accuracy, "diverged_at_step": None if diverged < 0 else diverged})
        return rows

    def to_json(self) -> dict:
        return strict({"model": self.model, "dataset": self.dataset, "optimizer": self.spec.text,
                       "schedule": self.schedule, "lrs": self.grid.lrs.tolist(),
                       "momenta": None if self.grid.momenta is None else self.grid.momenta.tolist(),
                       "epochs": len(self.run.epochs), "best": self.best_setting(),
                       "final_train_loss": self.final("train_loss").tolist(),
                       "final_val_loss": self.final("val_loss").tolist(),
                       "final_val_accuracy": (None if self.run.epochs[-1].val_accuracy is None
                                              else self.final("val_accuracy").tolist()),
                       "diverged_at_step": self.grid.values(self.run.diverged_at).tolist(),
                       "cells": self.table()})

    def figure(self):
        """The phase diagram of the final validation loss and the lr variations around the best cell."""
        figure = draw.PlainFigure(figsize=(12.8, 5.0), dpi=100, layout="constrained")
        phase, curves = figure.subplots(1, 2, width_ratios=[1.2, 1])
        self._phase(phase)
        best = self.grid.best(self.final("val_loss").reshape(-1))
        if best is not None:
            self._lr_variations(curves, *best)
        return figure

    def cell_figure(self, lr_index: int, momentum_index: int = 0):
        """The phase diagram with one cell marked, beside that cell's loss curves: what the Real
        networks tab shows for its lr and momentum sliders."""
        figure = draw.PlainFigure(figsize=(12.8, 4.6), dpi=80)  # fixed margins: constrained layout costs ~1 s
        phase, curves = figure.subplots(1, 2, width_ratios=[1.2, 1], gridspec_kw=dict(
            left=0.06, right=0.98, bottom=0.11, top=0.92, wspace=0.22))
        setting = self.grid.setting(lr_index, momentum_index)
        self._phase(phase, (setting["lr"], setting["momentum"] or 0.0))
        cell = self.grid.row(lr_index, momentum_index)
        steps = self.run.step_losses[:, cell].numpy()
        per_epoch = len(steps) // len(self.run.epochs)
        (colour,) = draw.colours([self.spec], [setting["lr"]])
        curves.plot(np.arange(1, len(steps) + 1) / per_epoch, steps, color=colour, **PER_BATCH,
                    label="training loss per batch")
        epochs = [epoch.of_copy(cell) for epoch in self.run.epochs]
        curves.plot([e.epoch for e in epochs], [e.train_loss for e in epochs], color=colour,
                    marker="o", linewidth=2, label="training loss per epoch")
        curves.plot([e.epoch for e in epochs], [e.val_loss for e in epochs], color=colour,
                    marker="s", linestyle="--", linewidth=2, label="validation loss")
        _epoch_axes(curves, self.cell_title(lr_index, momentum_index), "loss")
        return figure

    def cell_title(self, lr_index: int, momentum_index: int = 0) -> str:
        """What ``cell_figure``'s curves are titled: the cell's setting and how it ended."""
        setting = self.grid.setting(lr_index, momentum_index)
        diverged = int(self.run.diverged_at[self.grid.row(lr_index, momentum_index)])
        final = float(self.final("val_loss")[lr_index, momentum_index])
        what = f"diverged at step {diverged}" if diverged >= 0 else f"validation loss {final:.3g}"
        where = "" if setting["momentum"] is None else f", β = {setting['momentum']:.3g}"
        return f"η = {setting['lr']:.3g}{where}: {what}"

    def _phase(self, ax, current: tuple[float, float] | None = None) -> None:
        momenta = np.zeros(1) if self.grid.momenta is None else self.grid.momenta.numpy()
        epochs = len(self.run.epochs)
        draw.phase_grid(ax, self.grid.lrs.numpy(), momenta, self.final("val_loss").numpy(),
                        self.grid.values(self.run.diverged_at).numpy() >= 0,
                        shades=[draw.Shade(f"validation loss after {epochs} epoch{'s' * (epochs != 1)}")],
                        missing_label="no loss", momentum_label=draw.momentum_label(self.spec),
                        title=f"{self.spec.text}: {self.model} on {datasets.DATASETS[self.dataset].title}"
                              + ("" if self.schedule == "none" else f", {self.schedule} schedule"), current=current)
        best = self.best_setting()
        if best is not None:
            ax.plot(best["lr"], best["momentum"] or 0.0, marker="*", markersize=16, color="#f58231",
                    markeredgecolor="black", linestyle="none", label="best")
        ax.legend(loc="lower left", fontsize=8, framealpha=0.85)

    def _lr_variations(self, ax, best_lr: int, momentum: int) -> None:
        """The validation loss at the best cell's lr and its neighbours, in shades of the
        optimizer's colour ordered by lr (``draw.colours``)."""
        indices = range(max(0, best_lr - NEIGHBOURS), min(len(self.grid.lrs), best_lr + NEIGHBOURS + 1))
        lrs = [float(self.grid.lrs[i]) for i in indices]
        for i, colour in zip(indices, draw.colours([self.spec] * len(lrs), lrs)):
            epochs = [epoch.of_copy(self.grid.row(i, momentum)) for epoch in self.run.epochs]
            ax.plot([e.epoch for e in epochs], [e.val_loss for e in epochs], marker="o", color=colour,
                    linewidth=2.5 if i == best_lr else 1.5,
                    label=f"η = {float(self.grid.lrs[i]):.3g}" + (" (best)" if i == best_lr else ""))
        setting = self.grid.setting(best_lr, momentum)
        where = ("" if setting["momentum"] is None else
                 f", {draw.momentum_label(self.spec)} = {setting['momentum']:.3g}")
        _epoch_axes(ax, f"lr variations around the best{where}", "validation loss")

    def save(self, folder: str | os.PathLike, *, overwrite: bool = False) -> list[Path]:
        """sweep.json, sweep.csv and sweep.png, moved into ``folder`` together."""

        def write(staging: Path) -> None:
            (staging / RESULTS[0]).write_text(json.dumps(self.to_json(), indent=1, allow_nan=False))
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=["lr", "momentum", "epoch", "lr_factor", "train_loss", "val_loss",
                                                        "val_accuracy", "diverged_at_step"])
            writer.writeheader()
            writer.writerows(strict(self.table()))
            (staging / RESULTS[1]).write_text(buffer.getvalue())
            self.figure().savefig(staging / RESULTS[2], format="png")

        return write_together(folder, RESULTS, write, "sweep", overwrite)


def _epoch_axes(ax, title: str, ylabel: str) -> None:
    """Loss against epoch, on a log axis, as both of a sweep's curve panels show it."""
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)


def check_sweep_folder(folder: str | os.PathLike, overwrite: bool = False) -> Path:
    return check_results_folder(folder, RESULTS, "sweep", overwrite)


def sweep_network(model: str | None = None, spec: str | optim.Spec = "momentum", lrs: Sequence[float] = (0.01,),
                  momenta: Sequence[float] | None = None, *, dataset: str = "cifar10", epochs: int = 1,
                  batch_size: int = 128, train_size: int | None = None, val_size: int | None = None,
                  seed: int = 0, device="auto", data_dir=None, data: ImageData | None = None, schedule: str = "none",
                  out: str | os.PathLike | None = None, overwrite: bool = False,
                  progress: Callable[[int, int], None] | None = None, status: Callable[[str], None] | None = None,
                  **hyperparameters) -> NetworkSweep:
    """Train ``model`` with ``spec`` at every (lr, momentum) cell of ``Grid(lrs, momenta)`` in one
    batched run (``copies.train_copies``); momenta None sweeps lrs only (and is required for a
    rule without momentum). Every input is checked before any data is loaded, the memory the
    copies need too (``copies.check_memory``: refused with the estimate where they do not fit).
    With ``out`` the results are saved there (``NetworkSweep.save``). ``schedule`` scales every
    cell's lr alike after each epoch (``copies.train_copies``). ``status(text)`` hears the
    estimated time (``costs.sweep_seconds``) once the data is loaded, before training."""
    spec = optim.parse(spec)
    if spec.lr is not None:
        raise ValueError(f"Invalid optimizer {spec.text!r}: a sweep sets the learning rate of each cell; "
                         f"give the spec without @lr")
    schedules.check(schedule)
    optim.require_seed(seed)
    if momenta is not None and spec.momentum_parameter is None:
        raise ValueError(f"Invalid momenta: {spec.text!r} has no momentum; sweep lrs only")
    try:
        grid = Grid(lrs, momenta)
    except ValueError as error:
        raise ValueError(f"Invalid {error}") from None
    if grid.cells > MAX_CELLS:
        raise ValueError(f"Invalid sweep: {grid.cells:,} cells (at most {MAX_CELLS:,}: fewer lrs or momenta)")
    if data is not None:
        dataset = datasets.dataset_of(data)
    model = datasets.model_for(dataset, model)
    copies.check_model(model)
    target = data.device if data is not None else resolve_device(device)
    if progress is not None and not callable(progress):
        raise ValueError(f"Invalid progress: {progress!r} (expected a function, or None)")
    train_images = len(data.train_labels) if data is not None else train_size or batch_size  # a batch holds at most these
    validation_images = len(data.val_labels) if data is not None else val_size or VALIDATION_BATCH
    copies.check_memory(model, grid.cells, min(batch_size, train_images), target,
                        evaluation_images=min(VALIDATION_BATCH, validation_images))
    if out is not None:
        check_sweep_folder(out, overwrite)
    if data is None:
        data = datasets.check(dataset).load(data_dir, device=target, train_size=train_size,
                                            val_size=val_size, seed=seed)
    if status is not None:
        train, validation = len(data.train_labels), len(data.val_labels)
        seconds = costs.sweep_seconds(costs.of(model, data.device), grid.cells, epochs, train, validation)
        status(costs.estimate(seconds, f"{costs.counted(grid.cells, 'cell')} x {costs.counted(epochs, 'epoch')} on "
                                       f"{train:,} training and {costs.counted(validation, 'validation image')}",
                              data.device))
    rows = grid.rows()
    run = copies.train_copies(model, spec, data, lr=rows["lr"], momentum=rows.get("momentum"), epochs=epochs,
                              batch_size=batch_size, seed=seed, schedule=schedule, progress=progress,
                              **hyperparameters)
    result = NetworkSweep(model, dataset, spec, grid, run, schedule)
    if out is not None:
        result.save(out, overwrite=overwrite)
    return result
