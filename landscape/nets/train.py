"""The real-network comparison: the same landscape.optim optimizers on CIFAR-10 or MNIST models.

Every optimizer starts from the same initial weights and sees the same batches in the same
order (both seeded). A run whose loss becomes NaN/inf stops and is marked diverged; the others
go on. Every optimizer is built once before any training, so a bad setting fails first. Ctrl-C
keeps the finished runs (and the epochs of the current one), records the others as not started,
and saves them. Results are strict JSON, CSV and PNG, moved into their folder together.

With ``record=True`` each run also keeps its weights along the way (``Run.path``, a
``RecordedPath`` on the training device, never saved to disk): the common start, every N-th
step and the end, for drawing every optimizer's path in one plane of the loss landscape.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from .. import optim, schedules
from . import datasets, models, report
from ..files import check_results_folder, strict, write_together
from .images import ImageData
from .slice import flat_weights

CHECK_EVERY = 20  # steps between finiteness checks (each one synchronises with the GPU)
RECORD_POINTS = 40  # points a recorded run keeps by default, over its planned steps
MIN_RECORD_EVERY = 6  # steps between recorded points at least, by default: recording a step costs
# about a sixth of a CIFAR MLP step on a CPU (docs/benchmarks.md): every 6th keeps it within 5 %
RESULTS = ("comparison.json", "comparison.csv", "comparison.png")


def available_devices() -> list[str]:
    """The devices this machine's torch can train on, e.g. ['cpu', 'cuda', 'cuda:0']."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names += ["cuda"] + [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        names.append("mps")
    return names


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """"auto": CUDA, else MPS, else CPU. Any other device must exist here, else ``ValueError``
    saying which devices do."""
    available = available_devices()
    if str(device) == "auto":
        return torch.device(next(name for name in ("cuda", "mps", "cpu") if name in available))
    try:
        target = torch.device(device)
    except (RuntimeError, TypeError):
        target = None
    if target is None or (target.type != "cpu" and str(target) not in available):
        build = "" if torch.version.cuda or torch.version.hip else " (this torch is built without CUDA)"
        raise ValueError(f"Invalid device {str(device)!r}: this machine has "
                         f"{', '.join(['auto'] + available)}{build}")
    return target


def default_record_every(total_steps: int) -> int:
    """Steps between recorded points that give about ``RECORD_POINTS`` points over ``total_steps``,
    and at least ``MIN_RECORD_EVERY`` (a short run keeps fewer points)."""
    return max(MIN_RECORD_EVERY, math.ceil(total_steps / RECORD_POINTS))


@dataclass(eq=False)
class RecordedPath:
    """One run's weights along its training, on the training device (kept in memory, never saved).

    ``weights[i]`` is the model's trainable parameters after ``steps[i]`` optimizer steps,
    flattened in ``model.named_parameters()`` order (as ``torch.nn.utils.parameters_to_vector``;
    ``vector_to_parameters(weights[i], model.parameters())`` puts a point back into a model).
    The steps are 0 (the start, the same weights for every optimizer), N, 2N, ... and the last
    step. ``losses[i]`` is the training loss ``Run.step_losses`` reports for step ``steps[i]``:
    that step's batch loss, computed on the weights just before its update; at step 0 the first
    batch's loss (computed on the start weights); None where the run kept no loss (an interrupted
    epoch). ``buffers`` are the model's buffers at the end of training (BatchNorm running
    statistics; empty for models without them), for evaluating the model at these weights.
    """

    every: int
    steps: list[int]
    losses: list[float | None]
    weights: torch.Tensor  # (len(steps), number of trainable parameters)
    buffers: dict[str, torch.Tensor]


class PathRecorder:
    """Copies a model's trainable parameters, flattened, into a (points, P) buffer preallocated on
    their device, without synchronising: at step 0 and at every ``every``-th step (``after_step``)."""

    def __init__(self, model: torch.nn.Module, every: int, total_steps: int):
        self.model, self.every, self.steps = model, every, []
        parameters = list(model.parameters())
        first = parameters[0]
        points = total_steps // every + 1 + (total_steps % every != 0)  # 0, N, 2N, ... and the last
        self.weights = torch.empty(points, sum(p.numel() for p in parameters), dtype=first.dtype,
                                   device=first.device)
        self.take(0)

    def take(self, step: int) -> None:
        """Record the weights as they are now, after ``step`` optimizer steps."""
        flat_weights(self.model, out=self.weights[len(self.steps)])
        self.steps.append(step)

    def after_step(self, step: int) -> None:
        if step % self.every == 0:
            self.take(step)

    def path(self, run: Run) -> RecordedPath:
        """The finished run's points and the last step's; a diverged run's finite points before it
        diverged; an interrupted run's points so far."""
        if run.status == "finished" and self.steps[-1] != len(run.step_losses):
            self.take(len(run.step_losses))
        count = len(self.steps)
        keep = torch.isfinite(self.weights[:count]).all(dim=1).cpu().tolist()
        if run.status == "diverged":
            keep = [kept and step < run.diverged_at_step for kept, step in zip(keep, self.steps)]
        steps = [step for kept, step in zip(keep, self.steps) if kept]
        if len(steps) == len(self.weights):
            weights = self.weights
        else:
            weights = self.weights[:count][torch.tensor(keep, dtype=torch.bool, device=self.weights.device)]
        buffers = {name: buffer.detach().clone() for name, buffer in self.model.named_buffers()}
        return RecordedPath(self.every, steps, [_loss_at(run.step_losses, step) for step in steps], weights,
                            buffers)


def _loss_at(step_losses: list[float], step: int) -> float | None:
    """The loss ``step_losses`` reports for ``step`` (the first batch's for step 0), None if not kept."""
    index = max(step, 1) - 1
    return step_losses[index] if index < len(step_losses) else None


@dataclass
class Run:
    """One optimizer's training: losses per step and per epoch, how it ended, and with
    ``record=True`` its recorded weights (``path``, kept in memory only: not in the saved results)."""

    optimizer: str
    lr: float
    step_losses: list[float] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)
    status: str = "running"  # finished | diverged | interrupted | not started
    diverged_at_step: int | None = None
    diverged_at_epoch: int | None = None
    path: RecordedPath | None = field(default=None, repr=False, compare=False)

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
        """Tidy rows: one per optimizer and epoch, and one for the epoch a run diverged in (no
        losses); a run without epochs (not started, interrupted) still has a row with its status."""
        rows = []
        for run in self.runs:
            about = {"model": self.model, "optimizer": run.optimizer, "lr": run.lr, "status": run.status,
                     "diverged_at_step": run.diverged_at_step}
            rows += [{**about, **epoch} for epoch in run.epochs]
            if run.status == "diverged" or not run.epochs:
                rows.append({**about, "epoch": run.diverged_at_epoch})
        return rows

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

    @property
    def paths(self) -> dict[str, RecordedPath]:
        """The recorded runs' paths by optimizer spec (empty without ``record=True``)."""
        return {run.optimizer: run.path for run in self.runs if run.path is not None}

    def save(self, folder: str | os.PathLike, *, overwrite: bool = False) -> list[Path]:
        """comparison.json (everything, strict: null for NaN/inf), comparison.csv (tidy, see
        ``table``) and comparison.png, written into a temporary folder and then moved into
        ``folder`` together, so the three always describe the same run. An earlier comparison
        there is replaced only with ``overwrite``; ``folder`` is created only now."""
        return write_together(folder, RESULTS, self._write, "comparison", overwrite)

    def _saved(self) -> dict:
        """``asdict(self)`` without the runs' recorded paths (tensors, kept in memory only)."""
        values = asdict(replace(self, runs=[replace(run, path=None) for run in self.runs]))
        for run in values["runs"]:
            del run["path"]
        return values

    def _write(self, folder: Path) -> None:
        (folder / RESULTS[0]).write_text(json.dumps(strict(self._saved()), indent=1, allow_nan=False,
                                                    default=str))
        buffer = io.StringIO()
        fields = ["model", "optimizer", "lr", "status", "epoch", "epoch_lr", "train_loss", "val_loss",
                  "val_accuracy", "seconds", "diverged_at_step"]
        writer = csv.DictWriter(buffer, fieldnames=fields)
        writer.writeheader()
        writer.writerows(strict(self.table()))
        (folder / RESULTS[1]).write_text(buffer.getvalue())
        report.curves_figure(self).savefig(folder / RESULTS[2], format="png")

    def figure(self):
        """Training and validation loss against epoch (see ``report.curves_figure``)."""
        return report.curves_figure(self)


def _evaluate(model, data: ImageData, amp: bool) -> tuple[float, float | None]:
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


def _train_one(run: Run, spec: str, model_name: str, data: ImageData, epochs: int,
               batch_size: int, seed: int, amp: bool, progress: bool, hyperparameters: dict,
               on_epoch=None, record_every: int | None = None, schedule: str = "none") -> None:
    """Train ``run``; with ``record_every`` (steps) also record its path into ``run.path``; the
    learning rate follows ``schedule`` from epoch to epoch (``landscape.schedules``)."""
    from tqdm.auto import tqdm

    model = models.create(model_name, seed).to(data.device)
    optimizer = optim.build(spec, model.parameters(), seed=seed, lr=run.lr, **hyperparameters)
    rate = schedules.Schedule(schedule, epochs, [optimizer])
    total_steps = epochs * _steps_per_epoch(data, batch_size)
    recorder = None if record_every is None else PathRecorder(model, record_every, total_steps)
    bar = tqdm(total=total_steps, desc=f"{model_name} / {spec}", disable=not progress, leave=True)
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
                if recorder is not None:
                    recorder.after_step(len(run.step_losses) + len(losses))
                bar.update(1)
                if (len(losses) % CHECK_EVERY == 0
                        and not torch.isfinite(torch.stack(losses[-CHECK_EVERY:])).all()):
                    break
            values = torch.stack(losses).cpu().tolist()
            seconds = time.perf_counter() - start
            bad = [i for i, v in enumerate(values) if not math.isfinite(v)]
            if bad:
                run.step_losses += values[: bad[0] + 1]
                run.diverged_at_step, run.diverged_at_epoch = len(run.step_losses), epoch
                run.status = "diverged"
                bar.set_postfix_str(f"diverged at step {run.diverged_at_step}")
                return
            run.step_losses += values
            val_loss, val_accuracy = _evaluate(model, data, amp)
            run.epochs.append({"epoch": epoch, "epoch_lr": run.lr * rate.factor,
                               "train_loss": sum(values) / len(values), "val_loss": val_loss,
                               "val_accuracy": val_accuracy, "seconds": seconds})
            rate.step(val_loss)
            bar.set_postfix_str(f"val loss {val_loss:.3f}")
            if on_epoch is not None:
                on_epoch(run)
        run.status = "finished"
    finally:
        bar.close()
        if recorder is not None:
            run.path = recorder.path(run)


def _steps_per_epoch(data: ImageData, batch_size: int) -> int:
    return math.ceil(len(data.train_labels) / batch_size)


def _build_each(model_name: str, specs: list[str], rates: dict, seed: int, hyperparameters: dict) -> None:
    """Build every optimizer once on a throwaway model, so that a bad setting for the last one
    fails before the first one trains."""
    parameters = list(models.create(model_name, seed).parameters())
    for spec in specs:
        try:
            optim.build(spec, parameters, seed=seed, lr=rates[spec], **hyperparameters)
        except ValueError as error:
            raise ValueError(str(error) if repr(spec) in str(error) else f"{spec}: {error}") from None


def _check_record_every(record: bool, record_every) -> None:
    if record_every is None:
        return
    if isinstance(record_every, bool) or not (isinstance(record_every, int) and record_every >= 1):
        raise ValueError(f"Invalid record_every: {record_every!r} (expected an integer >= 1)")
    if not record:
        raise ValueError(f"Invalid record_every: {record_every!r} (applies only with record=True)")


def train_and_compare(model: str | None = None, optimizers=("sgd+momentum", "adam"), *, dataset: str | None = None,
                      epochs: int = 1,
                      lr=None, batch_size: int = 128, train_size: int | None = None,
                      val_size: int | None = None, seed: int = 0, device="auto", amp: bool = False,
                      data_dir=None, data: ImageData | None = None, progress: bool = True,
                      out: str | os.PathLike | None = None, overwrite: bool = False, on_epoch=None,
                      record: bool = False, record_every: int | None = None, schedule: str = "none",
                      **hyperparameters) -> Comparison:
    """Train ``model`` once per optimizer spec on ``dataset`` ("cifar10", the default, or "mnist")
    and compare. ``model`` None is the data set's default (``datasets.DATASETS``: the CNN, the MNIST
    MLP); a model must take the data set's images.

    ``lr`` is one number, {spec: lr}, or None for each rule's ``network_lr`` (``optim.BASE_RULES``).
    Other keywords go to ``landscape.optim.build``; every optimizer is built once before any
    training, so a bad setting fails first. ``data`` may be preloaded ``ImageData`` (its data set
    is then ``dataset``; else it is loaded from ``data_dir``, see ``landscape.nets.data`` and
    ``landscape.nets.mnist``). With ``out`` the results are saved there (see
    ``Comparison.save``; an earlier comparison there is replaced only with ``overwrite``), also
    after Ctrl-C, which returns the comparison with ``interrupted`` set, the finished runs, the
    interrupted one and the rest marked "not started". ``on_epoch(comparison)`` is called after
    every epoch (live plots).

    ``record=True`` keeps each run's weights on the training device (``Run.path``, also
    ``Comparison.paths``; see ``RecordedPath``; not saved with ``out``): at step 0, every
    ``record_every`` optimizer steps and at the last step. ``record_every`` defaults to about
    ``RECORD_POINTS`` points over the planned epochs (``default_record_every``); memory per run:
    points x parameters x 4 bytes (float32). Recording changes none of the training's numbers.

    ``schedule`` ("none", "step", "cosine", "plateau": ``landscape.schedules``) scales each run's
    learning rate after every epoch as torch's scheduler would ("plateau" on the validation
    loss); each epoch records the learning rate it trained with (``epoch_lr``).
    """
    specs = [optimizers] if isinstance(optimizers, str) else list(optimizers)
    if not specs:
        raise ValueError("Invalid optimizers: give at least one spec")
    twice = sorted({spec for spec in specs if specs.count(spec) > 1})
    if twice:
        raise ValueError(f"Invalid optimizers: {', '.join(twice)} given twice (each run is one optimizer's; "
                         f"for another learning rate use a per-optimizer lr or a second comparison)")
    for spec in specs:
        optim.parse(spec)
    if data is not None:
        loaded = datasets.dataset_of(data)
        if dataset is not None and dataset != loaded:
            raise ValueError(f"Invalid dataset {dataset!r}: the data given is {loaded}")
        dataset = loaded
    dataset = dataset or "cifar10"
    model = datasets.model_for(dataset, model)
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not (isinstance(value, int) and value >= 1):
            raise ValueError(f"Invalid {name}: {value!r} (expected an integer >= 1)")
    _check_record_every(record, record_every)
    schedules.check(schedule)
    if isinstance(lr, dict) and set(specs) - set(lr):
        raise ValueError(f"Invalid lr: no learning rate for {', '.join(sorted(set(specs) - set(lr)))}")
    if out is not None:  # fail before training, not after it
        check_results_folder(out, RESULTS, "comparison", overwrite)
    target = resolve_device(device)
    if amp and target.type != "cuda":
        raise ValueError(f"Invalid amp: bf16 autocast is offered on CUDA only (device is {target})")
    rates = {s: (lr[s] if isinstance(lr, dict) else lr if lr is not None
                 else optim.parse(s).info.network_lr) for s in specs}
    _build_each(model, specs, rates, seed, hyperparameters)
    if data is None:
        data = datasets.check(dataset).load(data_dir, device=target, train_size=train_size, val_size=val_size,
                                            seed=seed)
    if record and record_every is None:
        record_every = default_record_every(epochs * _steps_per_epoch(data, batch_size))
    comparison = Comparison(model, str(data.device), dict(dataset=dataset, schedule=schedule, epochs=epochs, batch_size=batch_size,
                            train_size=len(data.train_labels), val_size=len(data.val_labels), seed=seed,
                            amp=amp, hyperparameters={k: v for k, v in hyperparameters.items()}))
    try:
        for spec in specs:
            run = Run(spec, rates[spec])
            comparison.runs.append(run)
            _train_one(run, spec, model, data, epochs, batch_size, seed, amp, progress, hyperparameters,
                       None if on_epoch is None else (lambda _: on_epoch(comparison)), record_every, schedule)
    except KeyboardInterrupt:
        comparison.interrupted = True
        for run in comparison.runs:
            if run.status == "running":
                run.status = "interrupted"
        comparison.runs += [Run(spec, rates[spec], status="not started")
                            for spec in specs[len(comparison.runs):]]
    if out is not None:
        comparison.save(out, overwrite=overwrite)
    return comparison
