"""Presenting a comparison: its loss curves, and its summary table as text (the CLI) and as HTML
(the Real networks tab), both drawn from one description of the table's columns."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import matplotlib.ticker as mticker

from .. import optim
from ..draw import PlainFigure, colours

if TYPE_CHECKING:
    from .train import Comparison

# each batch's training loss, drawn under the epoch curves of its run: thin, but not too faint to read
PER_BATCH = {"alpha": 0.55, "linewidth": 1.0, "zorder": 1.5}


@dataclass(frozen=True)
class Column:
    """One column of the summary table: the summary row's key it shows, its heading, the format
    of its values, its alignment, and its width in characters in the text table."""

    key: str
    heading: str
    format: str
    align: str  # "left" | "right"
    width: int


SUMMARY_COLUMNS = (
    Column("optimizer", "optimizer", "", "left", 40),
    Column("lr", "lr", "g", "right", 8),
    Column("status", "status", "", "left", 12),
    Column("train_loss", "train loss", ".4f", "right", 10),
    Column("val_loss", "val loss", ".4f", "right", 9),
    Column("val_accuracy", "val acc", ".3f", "right", 8),
    Column("seconds_per_epoch", "s/epoch", ".2f", "right", 8),
)


def _cell(row: dict, column: Column, missing: str) -> str:
    value = row[column.key]
    return missing if value is None else format(value, column.format)


def _pad(text: str, column: Column) -> str:
    return text.ljust(column.width) if column.align == "left" else text.rjust(column.width)


def summary_text(rows: list[dict]) -> str:
    """The summary rows (``Comparison.summary``) as a fixed-width text table, '-' where a value is
    missing (a run that diverged or did not start)."""
    lines = [[column.heading for column in SUMMARY_COLUMNS]]
    lines += [[_cell(row, column, "-") for column in SUMMARY_COLUMNS] for row in rows]
    return "\n".join(" ".join(_pad(text, column) for text, column in zip(line, SUMMARY_COLUMNS))
                     for line in lines)


def summary_html(rows: list[dict]) -> str:
    """The summary rows (``Comparison.summary``) as an HTML table, '–' where a value is missing."""
    header = "".join(f"<th style='padding:0 8px;text-align:{column.align}'>{html.escape(column.heading)}</th>"
                     for column in SUMMARY_COLUMNS)
    body = "".join("<tr>" + "".join(f"<td style='text-align:{column.align}'>"
                                    f"{html.escape(_cell(row, column, '–'))}</td>"
                                    for column in SUMMARY_COLUMNS) + "</tr>"
                   for row in rows)
    return f"<table><tr>{header}</tr>{body}</table>"


def curves_figure(comparison: Comparison) -> PlainFigure:
    """Training and validation loss against epoch, log y; epoch time in the legend; each
    optimizer in its colour (``draw.colours``), as on the surfaces."""
    fig = PlainFigure(figsize=(10, 4), dpi=100, layout="constrained")
    train_ax, val_ax = fig.subplots(1, 2)
    settings = comparison.settings
    steps_per_epoch = math.ceil(settings["train_size"] / settings["batch_size"])
    runs = comparison.runs
    for run, colour in zip(runs, colours([optim.parse(run.optimizer) for run in runs], [run.lr for run in runs])):
        if not run.step_losses:  # not started, or interrupted in its first epoch
            continue
        epochs = [epoch.epoch for epoch in run.epochs]
        label = run.optimizer
        if run.seconds_per_epoch is not None:
            label += f" ({run.seconds_per_epoch:.2f} s/epoch)"
        if run.status == "diverged":
            label += f" [diverged at step {run.diverged_at_step}]"
        elif run.status != "finished":
            label += f" [{run.status}]"
        steps = [(i + 1) / steps_per_epoch for i in range(len(run.step_losses))]
        train_ax.plot(steps, run.step_losses, color=colour, **PER_BATCH)
        train_ax.plot(epochs, [epoch.train_loss for epoch in run.epochs], color=colour,
                      marker="o", label=label)
        val_ax.plot(epochs, [epoch.val_loss for epoch in run.epochs], color=colour, marker="o",
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
