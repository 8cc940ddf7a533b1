"""A network's lr x momentum sweep: every (lr, momentum) pair of one optimizer trained as one batched
run of copies (``nets.copies``), as ``trajectory.sweep`` is for a surface; its phase diagram
(drawn by the surfaces' ``draw.phase_grid``) and its saved results.

Cells are row-major (lr index major), as the surfaces' sweeps. A cell that diverged is marked with
its step; the others are unaffected. Results are strict JSON (every cell's per-epoch curves), a
tidy CSV (one row per cell and epoch), a phase diagram of the final validation loss and the "lr
variations around the best" curves (the best momentum's validation loss per epoch at the lrs
next to the best), written together (``files.write_together``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from matplotlib.ticker import MaxNLocator

from .. import draw, optim, schedules
from ..files import check_results_folder, strict, write_together
from . import copies, datasets
from .images import ImageData

RESULTS = ("sweep.json", "sweep.csv", "sweep.png")
MAX_CELLS = 4096
NEIGHBOURS = 2  # lrs on each side of the best in the "lr variations" curves


@dataclass
class NetworkSweep:
    """The sweep's axes and its batched run (``copies``: one copy per cell, row-major)."""

    model: str
    dataset: str
    spec: str
    lrs: torch.Tensor  # (L,)
    momenta: torch.Tensor | None  # (M,), None for a rule without momentum
    run: copies.Copies
    schedule: str = "none"

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.lrs), 1 if self.momenta is None else len(self.momenta)

    def cells(self, values: torch.Tensor) -> torch.Tensor:
        """Per-copy ``values`` (B,) laid out as the (len(lrs), len(momenta)) grid."""
        return values.reshape(self.shape)

    def final(self, key: str) -> torch.Tensor:
        """The last epoch's ``key`` ("train_loss", "val_loss", "val_accuracy") per cell, NaN where
        a cell diverged."""
        values = self.run.epochs[-1][key].double().clone()
        values[self.run.diverged_at >= 0] = float("nan")
        return self.cells(values)

    def best(self) -> tuple[int, int]:
        """The cell (lr index, momentum index) with the lowest final validation loss."""
        losses = self.final("val_loss")
        if not torch.isfinite(losses).any():
            raise ValueError("every cell of the sweep diverged: no best cell")
        index = int(torch.nan_to_num(losses, nan=math.inf).argmin())
        return divmod(index, self.shape[1])

    def best_setting(self) -> dict | None:
        """The best cell's {"lr", "momentum"}; None when every cell diverged."""
        if not torch.isfinite(self.final("val_loss")).any():
            return None
        i, j = self.best()
        return {"lr": float(self.lrs[i]), "momentum": None if self.momenta is None else float(self.momenta[j])}

    def summary(self) -> str:
        """One sentence: how many cells, how many diverged, where the best one is."""
        best = self.best_setting()
        diverged = int((self.run.diverged_at >= 0).sum())
        where = ("every cell diverged" if best is None else f"best validation loss at lr {best['lr']:.3g}"
                 + ("" if best["momentum"] is None else f", momentum {best['momentum']:.3g}"))
        return f"{self.run.count} cells in one batched run, {diverged} diverged; {where}"

    def table(self) -> list[dict]:
        """Tidy rows: one per cell and epoch (a diverged cell's epochs after it diverged hold NaN)."""
        rows = []
        momenta = [None] if self.momenta is None else self.momenta.tolist()
        for cell, (lr, momentum) in enumerate((lr, m) for lr in self.lrs.tolist() for m in momenta):
            diverged = int(self.run.diverged_at[cell])
            for epoch in self.run.epochs:
                accuracy = epoch["val_accuracy"]
                rows.append({"lr": lr, "momentum": momentum, "epoch": epoch["epoch"], "lr_factor": epoch["lr_factor"],
                             "train_loss": float(epoch["train_loss"][cell]), "val_loss": float(epoch["val_loss"][cell]),
                             "val_accuracy": None if accuracy is None else float(accuracy[cell]),
                             "diverged_at_step": None if diverged < 0 else diverged})
        return rows

    def to_json(self) -> dict:
        return strict({"model": self.model, "dataset": self.dataset, "optimizer": self.spec, "schedule": self.schedule,
                       "lrs": self.lrs.tolist(), "momenta": None if self.momenta is None else self.momenta.tolist(),
                       "epochs": len(self.run.epochs), "best": self.best_setting(),
                       "final_train_loss": self.final("train_loss").tolist(),
                       "final_val_loss": self.final("val_loss").tolist(),
                       "final_val_accuracy": (None if self.run.epochs[-1]["val_accuracy"] is None
                                              else self.final("val_accuracy").tolist()),
                       "diverged_at_step": self.cells(self.run.diverged_at).tolist(),
                       "cells": self.table()})

    def figure(self):
        """The phase diagram of the final validation loss and the lr variations around the best cell."""
        figure = draw.PlainFigure(figsize=(12.8, 5.0), dpi=100, layout="constrained")
        phase, curves = figure.subplots(1, 2, width_ratios=[1.2, 1])
        self._phase(phase)
        if torch.isfinite(self.final("val_loss")).any():
            self._lr_variations(curves, *self.best())
        return figure

    def cell_figure(self, lr_index: int, momentum_index: int = 0):
        """The phase diagram with one cell marked, beside that cell's loss curves: what the Real
        networks tab shows for its lr and momentum sliders."""
        figure = draw.PlainFigure(figsize=(12.8, 4.6), dpi=80)  # fixed margins: constrained layout costs ~1 s
        phase, curves = figure.subplots(1, 2, width_ratios=[1.2, 1], gridspec_kw=dict(
            left=0.06, right=0.98, bottom=0.11, top=0.92, wspace=0.22))
        momenta = np.zeros(1) if self.momenta is None else self.momenta.numpy()
        self._phase(phase, (float(self.lrs[lr_index]), float(momenta[momentum_index])))
        cell = lr_index * self.shape[1] + momentum_index
        steps = self.run.step_losses[:, cell].numpy()
        per_epoch = len(steps) // len(self.run.epochs)
        curves.plot(np.arange(1, len(steps) + 1) / per_epoch, steps, color=draw.colour(0), alpha=0.35,
                    linewidth=1, label="training loss per batch")
        epochs = [epoch["epoch"] for epoch in self.run.epochs]
        curves.plot(epochs, [float(epoch["train_loss"][cell]) for epoch in self.run.epochs], color=draw.colour(0),
                    marker="o", linewidth=2, label="training loss per epoch")
        curves.plot(epochs, [float(epoch["val_loss"][cell]) for epoch in self.run.epochs], color=draw.colour(2),
                    marker="o", linewidth=2, label="validation loss")
        diverged = int(self.run.diverged_at[cell])
        final = float(self.final("val_loss")[lr_index, momentum_index])
        what = f"diverged at step {diverged}" if diverged >= 0 else f"validation loss {final:.3g}"
        where = "" if self.momenta is None else f", β = {float(momenta[momentum_index]):.3g}"
        _epoch_axes(curves, f"η = {float(self.lrs[lr_index]):.3g}{where}: {what}", "loss")
        return figure

    def _phase(self, ax, current: tuple[float, float] | None = None) -> None:
        momenta = np.zeros(1) if self.momenta is None else self.momenta.numpy()
        draw.phase_grid(ax, self.lrs.numpy(), momenta, self.final("val_loss").numpy(),
                        self.cells(self.run.diverged_at).numpy() >= 0,
                        colour_label=f"validation loss after {len(self.run.epochs)} epochs",
                        missing_label="no loss", momentum_label=draw.momentum_label(optim.parse(self.spec)),
                        title=f"{self.spec}: {self.model} on {datasets.DATASETS[self.dataset].title}"
                              + ("" if self.schedule == "none" else f", {self.schedule} schedule"), current=current)
        if torch.isfinite(self.final("val_loss")).any():
            i, j = self.best()
            ax.plot(float(self.lrs[i]), momenta[j], marker="*", markersize=16, color="#f58231",
                    markeredgecolor="black", linestyle="none", label="best")
        ax.legend(loc="lower left", fontsize=8, framealpha=0.85)

    def _lr_variations(self, ax, best_lr: int, momentum: int) -> None:
        epochs = [epoch["epoch"] for epoch in self.run.epochs]
        for colour, i in enumerate(range(max(0, best_lr - NEIGHBOURS), min(len(self.lrs), best_lr + NEIGHBOURS + 1))):
            cell = i * self.shape[1] + momentum
            losses = [float(epoch["val_loss"][cell]) for epoch in self.run.epochs]
            ax.plot(epochs, losses, marker="o", color=draw.colour(colour), linewidth=2.5 if i == best_lr else 1.5,
                    label=f"η = {float(self.lrs[i]):.3g}" + (" (best)" if i == best_lr else ""))
        where = ("" if self.momenta is None else
                 f", {draw.momentum_label(optim.parse(self.spec))} = {float(self.momenta[momentum]):.3g}")
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


def _axis(name: str, values, low: float, high: float | None) -> torch.Tensor:
    axis = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    if len(axis) == 0 or not torch.isfinite(axis).all() or (axis < low).any() or (high is not None and (axis >= high).any()):
        bound = f"in [{low:g}, {high:g})" if high is not None else f">= {low:g}"
        raise ValueError(f"Invalid {name}: {axis.tolist()} (expected finite numbers {bound})")
    return axis


def sweep_network(model: str | None = None, spec: str = "momentum", lrs: Sequence[float] = (0.01,),
                  momenta: Sequence[float] | None = None, *, dataset: str = "cifar10", epochs: int = 1,
                  batch_size: int = 128, train_size: int | None = None, val_size: int | None = None,
                  seed: int = 0, device="auto", data_dir=None, data: ImageData | None = None, schedule: str = "none",
                  out: str | os.PathLike | None = None, overwrite: bool = False,
                  progress: Callable[[int, int], None] | None = None, **hyperparameters) -> NetworkSweep:
    """Train ``model`` with ``spec`` at every (lr, momentum) of ``lrs`` x ``momenta`` in one batched
    run (``copies.train_copies``); momenta None sweeps lrs only (and is required for a rule
    without momentum). Every input is checked before any data is loaded, the memory the copies
    need too (``copies.check_memory``: refused with the estimate where they do not fit). With ``out`` the results
    are saved there (``NetworkSweep.save``). ``schedule`` scales every cell's lr alike after each
    epoch (``copies.train_copies``)."""
    from .train import resolve_device

    parsed = optim.parse(spec)
    schedules.check(schedule)
    lrs = _axis("lrs", lrs, 0.0, None)
    if (lrs <= 0).any():
        raise ValueError(f"Invalid lrs: {lrs.tolist()} (expected numbers > 0)")
    if momenta is not None:
        if parsed.momentum is None:
            raise ValueError(f"Invalid momenta: {spec!r} has no momentum; sweep lrs only")
        momenta = _axis("momenta", momenta, 0.0, 1.0)
    cells = len(lrs) * (1 if momenta is None else len(momenta))
    if cells > MAX_CELLS:
        raise ValueError(f"Invalid sweep: {cells:,} cells (at most {MAX_CELLS:,}: fewer lrs or momenta)")
    if data is not None:
        dataset = datasets.dataset_of(data)
    model = datasets.model_for(dataset, model)
    copies.check_model(model)
    target = data.device if data is not None else resolve_device(device)
    copies.check_memory(model, cells, batch_size, target)
    if out is not None:
        check_sweep_folder(out, overwrite)
    if data is None:
        data = datasets.check(dataset).load(data_dir, device=target, train_size=train_size,
                                            val_size=val_size, seed=seed)
    lr_rows = lrs.repeat_interleave(1 if momenta is None else len(momenta))
    momentum_rows = None if momenta is None else momenta.repeat(len(lrs))
    run = copies.train_copies(model, spec, data, lr=lr_rows, momentum=momentum_rows, epochs=epochs,
                              batch_size=batch_size, seed=seed, schedule=schedule, progress=progress,
                              **hyperparameters)
    result = NetworkSweep(model, dataset, spec, lrs, momenta, run, schedule)
    if out is not None:
        result.save(out, overwrite=overwrite)
    return result
