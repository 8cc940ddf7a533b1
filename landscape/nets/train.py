"""The real-network comparison: the same landscape.optim optimizers on CIFAR-10 models.

Every optimizer starts from the same initial weights and sees the same batches in the same
order (both seeded). A run whose loss becomes NaN/inf stops and is marked diverged; the others
go on. Ctrl-C keeps the finished runs (and the epochs of the current one) and saves them.
"""

from __future__ import annotations

import csv
import inspect
import io
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from .. import optim
from ..files import atomic_path, check_writable
from . import data as cifar
from . import models

CHECK_EVERY = 20  # steps between finiteness checks (each one synchronises with the GPU)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """"auto": CUDA, else MPS, else CPU."""
    if str(device) != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass
class Run:
    """One optimizer's training: losses per step and per epoch, and how it ended."""

    optimizer: str
    lr: float
    step_losses: list[float] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)
    status: str = "running"  # finished | diverged | interrupted
    diverged_at_step: int | None = None

    @property
    def seconds_per_epoch(self) -> float | None:
        times = [e["seconds"] for e in self.epochs]
        return sum(times) / len(times) if times else None


@dataclass
class Comparison:
    model: str
    device: str
    settings: dict
    runs: list[Run] = field(default_factory=list)
    interrupted: bool = False

    def table(self) -> list[dict]:
        """Tidy rows: one per optimizer and epoch."""
        return [{"model": self.model, "optimizer": run.optimizer, "lr": run.lr, "status": run.status,
                 **epoch} for run in self.runs for epoch in run.epochs]

    def summary(self) -> list[dict]:
        """One row per optimizer: final losses, accuracy, seconds per epoch, status."""
        rows = []
        for run in self.runs:
            last = run.epochs[-1] if run.epochs else {}
            rows.append({"optimizer": run.optimizer, "lr": run.lr, "status": run.status,
                         "epochs": len(run.epochs), "train_loss": last.get("train_loss"),
                         "val_loss": last.get("val_loss"), "val_accuracy": last.get("val_accuracy"),
                         "seconds_per_epoch": run.seconds_per_epoch})
        return rows

    def save(self, folder: str | os.PathLike) -> list[Path]:
        """comparison.json (everything), comparison.csv (tidy per epoch), comparison.png; atomically."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        with atomic_path(folder / "comparison.json") as temporary:
            temporary.write_text(json.dumps(asdict(self), indent=1, allow_nan=True))
        written.append(folder / "comparison.json")
        buffer = io.StringIO()
        rows = self.table()
        fields = ["model", "optimizer", "lr", "status", "epoch", "train_loss", "val_loss",
                  "val_accuracy", "seconds"]
        writer = csv.DictWriter(buffer, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
        with atomic_path(folder / "comparison.csv") as temporary:
            temporary.write_text(buffer.getvalue())
        written.append(folder / "comparison.csv")
        if any(run.epochs for run in self.runs):
            figure = self.figure()
            with atomic_path(folder / "comparison.png") as temporary:
                figure.savefig(temporary, format="png")
            written.append(folder / "comparison.png")
        return written

    def figure(self):
        """Training and validation loss against epoch, log y; epoch time in the legend."""
        import matplotlib.ticker as mticker

        from ..draw import PlainFigure, colour

        fig = PlainFigure(figsize=(10, 4), dpi=100, layout="constrained")
        train_ax, val_ax = fig.subplots(1, 2)
        for index, run in enumerate(self.runs):
            if not run.epochs:
                continue
            epochs = [e["epoch"] for e in run.epochs]
            label = f"{run.optimizer} ({run.seconds_per_epoch:.2f} s/epoch)"
            if run.status != "finished":
                label += f" [{run.status}]"
            steps_per_epoch = max(1, len(run.step_losses) // max(1, len(run.epochs)))
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
            ax.set_xlim(0, max(self.settings["epochs"], 1) + 0.25)
            ax.set_xlabel("epoch")
            ax.set_title(f"{self.model}: {title}", fontsize=10)
            ax.grid(True, which="both", alpha=0.3)
        val_ax.legend(fontsize=8)
        return fig


def _default_lr(spec: str) -> float:
    return inspect.signature(optim.parse(spec).rule.__init__).parameters["lr"].default


def _evaluate(model, data: cifar.CIFAR10, amp: bool) -> tuple[float, float | None]:
    model.eval()
    total, correct, count = 0.0, 0, 0
    dtype = next(model.parameters()).dtype
    with torch.no_grad(), torch.autocast(data.device.type, dtype=torch.bfloat16, enabled=amp):
        for x, y in data.val_batches(dtype=dtype):
            loss, right = models.loss_and_correct(model, x, y)
            total += loss.float().item() * len(y)
            count += len(y)
            correct += int(right) if right is not None else 0
    model.train()
    return total / count, (correct / count if model.task == "classification" else None)


def _train_one(run: Run, spec: str, model_name: str, data: cifar.CIFAR10, epochs: int,
               batch_size: int, seed: int, amp: bool, progress: bool, hyperparameters: dict,
               on_epoch=None) -> None:
    from tqdm.auto import tqdm

    model = models.create(model_name, seed).to(data.device)
    optimizer = optim.build(spec, model.parameters(), seed=seed, lr=run.lr, **hyperparameters)
    steps_per_epoch = math.ceil(len(data.train_labels) / batch_size)
    bar = tqdm(total=epochs * steps_per_epoch, desc=f"{model_name} / {spec}", disable=not progress,
               leave=True)
    try:
        for epoch in range(1, epochs + 1):
            generator = torch.Generator().manual_seed(seed * 100_003 + epoch)  # same order for all
            if data.device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            losses = []
            for x, y in data.train_batches(batch_size, generator, next(model.parameters()).dtype):
                with torch.autocast(data.device.type, dtype=torch.bfloat16, enabled=amp):
                    loss, _ = models.loss_and_correct(model, x, y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                losses.append(loss.detach().float())
                bar.update(1)
                if len(losses) % CHECK_EVERY == 0 and not torch.isfinite(torch.stack(losses[-CHECK_EVERY:])).all():
                    break
            values = torch.stack(losses).cpu().tolist()
            seconds = time.perf_counter() - start
            bad = [i for i, v in enumerate(values) if not math.isfinite(v)]
            if bad:
                run.step_losses += values[: bad[0] + 1]
                run.diverged_at_step = len(run.step_losses)
                run.status = "diverged"
                bar.set_postfix_str(f"diverged at step {run.diverged_at_step}")
                return
            run.step_losses += values
            val_loss, val_accuracy = _evaluate(model, data, amp)
            run.epochs.append({"epoch": epoch, "train_loss": sum(values) / len(values),
                               "val_loss": val_loss, "val_accuracy": val_accuracy, "seconds": seconds})
            bar.set_postfix_str(f"val loss {val_loss:.3f}")
            if on_epoch is not None:
                on_epoch(run)
        run.status = "finished"
    finally:
        bar.close()


def compare(model: str = "cnn", optimizers=("sgd+momentum", "adam"), *, epochs: int = 1, lr=None,
            batch_size: int = 128, train_size: int | None = None, val_size: int | None = None, seed: int = 0,
            device="auto", amp: bool = False, data_dir=None, data: cifar.CIFAR10 | None = None,
            progress: bool = True, out: str | os.PathLike | None = None, on_epoch=None,
            **hyperparameters) -> Comparison:
    """Train ``model`` once per optimizer spec on CIFAR-10 and compare.

    ``lr`` is one number, {spec: lr}, or None for each rule's default. Other keywords go to
    ``landscape.optim.build``. ``data`` may be a preloaded ``CIFAR10`` (else it is loaded from
    ``data_dir``, see ``landscape.nets.data``). With ``out`` the results are saved there, also
    after Ctrl-C. ``on_epoch(comparison)`` is called after every epoch (live plots).
    """
    specs = [optimizers] if isinstance(optimizers, str) else list(optimizers)
    if not specs:
        raise ValueError("Invalid optimizers: give at least one spec")
    for spec in specs:
        optim.parse(spec)
    if model not in models.MODELS:
        raise ValueError(f"Invalid model {model!r}; valid: {', '.join(models.MODELS)}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not (isinstance(value, int) and value >= 1):
            raise ValueError(f"Invalid {name}: {value!r} (expected an integer >= 1)")
    if isinstance(lr, dict) and set(specs) - set(lr):
        raise ValueError(f"Invalid lr: no learning rate for {', '.join(sorted(set(specs) - set(lr)))}")
    if out is not None:  # fail before training, not after it
        try:
            Path(out).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ValueError(f"cannot write results to {out}: {error.strerror}") from None
        check_writable(Path(out) / "comparison.json")
    target = resolve_device(device)
    if amp and target.type != "cuda":
        raise ValueError(f"Invalid amp: bf16 autocast is offered on CUDA only (device is {target})")
    if data is None:
        data = cifar.load(data_dir, device=target, train_size=train_size, val_size=val_size, seed=seed)
    rates = {s: (lr[s] if isinstance(lr, dict) else lr if lr is not None else _default_lr(s)) for s in specs}
    comparison = Comparison(model, str(data.device), dict(epochs=epochs, batch_size=batch_size,
                            train_size=len(data.train_labels), val_size=len(data.val_labels), seed=seed,
                            amp=amp, hyperparameters={k: v for k, v in hyperparameters.items()}))
    try:
        for spec in specs:
            run = Run(spec, rates[spec])
            comparison.runs.append(run)
            _train_one(run, spec, model, data, epochs, batch_size, seed, amp, progress, hyperparameters,
                       None if on_epoch is None else (lambda _: on_epoch(comparison)))
    except KeyboardInterrupt:
        comparison.interrupted = True
        comparison.runs[-1].status = "interrupted"
        print("interrupted: keeping the finished runs" + (f", saving to {out}" if out else ""))
    if out is not None:
        comparison.save(out)
    return comparison
