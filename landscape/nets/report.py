"""Presenting a comparison: its loss curves."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import matplotlib.ticker as mticker

from ..draw import PlainFigure, colour

if TYPE_CHECKING:
    from .train import Comparison


def curves_figure(comparison: Comparison) -> PlainFigure:
    """Training and validation loss against epoch, log y; epoch time in the legend."""
    fig = PlainFigure(figsize=(10, 4), dpi=100, layout="constrained")
    train_ax, val_ax = fig.subplots(1, 2)
    settings = comparison.settings
    steps_per_epoch = math.ceil(settings["train_size"] / settings["batch_size"])
    for index, run in enumerate(comparison.runs):
        if not run.step_losses:  # not started, or interrupted in its first epoch
            continue
        epochs = [e["epoch"] for e in run.epochs]
        label = run.optimizer
        if run.seconds_per_epoch is not None:
            label += f" ({run.seconds_per_epoch:.2f} s/epoch)"
        if run.status == "diverged":
            label += f" [diverged at step {run.diverged_at_step}]"
        elif run.status != "finished":
            label += f" [{run.status}]"
        steps = [(i + 1) / steps_per_epoch for i in range(len(run.step_losses))]
        train_ax.plot(steps, run.step_losses, color=colour(index), alpha=0.25, linewidth=0.8)
        train_ax.plot(epochs, [e["train_loss"] for e in run.epochs], color=colour(index),
                      marker="o", label=label)
        val_ax.plot(epochs, [e["val_loss"] for e in run.epochs], color=colour(index), marker="o",
                    label=label)
    for ax, title in ((train_ax, "training loss (per step, and epoch mean)"),
                      (val_ax, "validation loss")):
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(mticker.FormatStrFormatter("%.3g"))  # '2.3', not '2.3 × 10⁰'
        ax.yaxis.set_minor_formatter(mticker.FormatStrFormatter("%.3g"))
        ax.xaxis.set_major_locator(mticker.MaxNLocator(integer=True))
        ax.set_xlim(0, max(settings["epochs"], 1) + 0.25)
        ax.set_xlabel("epoch")
        ax.set_title(f"{comparison.model}: {title}", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
    val_ax.legend(fontsize=8)
    return fig
