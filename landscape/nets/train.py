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
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch

from .. import optim, schedules
from ..files import Terminated, check_results_folder, strict, write_together
from . import datasets, loop, models, report
from .devices import resolve_device
from .images import ImageData
from .loop import Epoch
from .slice import flat_weights

RECORD_POINTS = 40  # points a recorded run keeps by default, over its planned steps
MIN_RECORD_EVERY = 6  # steps between recorded points at least, by default: recording a step costs
# about a sixth of a CIFAR MLP step on a CPU (docs/benchmarks.md): every 6th keeps it within 5 %
RESULTS = ("comparison.json", "comparison.csv", "comparison.png")


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
    epochs: list[Epoch] = field(default_factory=list)
    status: str = "running"  # finished | diverged | interrupted | not started
    diverged_at_step: int | None = None
    diverged_at_epoch: int | None = None
    path: RecordedPath | None = field(default=None, repr=False, compare=False)

    @property
    def seconds_per_epoch(self) -> float | None:
        times = [epoch.seconds for epoch in self.epochs]
        return sum(times) / len(times) if times else None


@dataclass
class Comparison:
    model: str
    device: str
    settings: dict
    runs: list[Run] = field(default_factory=list)
    interrupted: str | None = None  # "Ctrl-C" or "SIGTERM" when the comparison was stopped

    def table(self) -> list[dict]:
        """Tidy rows: one per optimizer and epoch, and one for the epoch a run diverged in (no
        losses); a run without epochs (not started, interrupted) still has a row with its status."""
        rows = []
        for run in self.runs:
            about = {"model": self.model, "optimizer": run.optimizer, "lr": run.lr, "status": run.status,
                     "diverged_at_step": run.diverged_at_step}
            rows += [{**about, **asdict(epoch)} for epoch in run.epochs]
            if run.status == "diverged" or not run.epochs:
                rows.append({**about, "epoch": run.diverged_at_epoch})
        return rows

    def summary(self) -> list[dict]:
        """One row per optimizer: final losses, accuracy, seconds per epoch, status."""
        rows = []
        for run in self.runs:
            last = run.epochs[-1] if run.epochs else None
            rows.append({"optimizer": run.optimizer, "lr": run.lr, "status": run.status,
                         "epochs": len(run.epochs), "train_loss": last and last.train_loss,
                         "val_loss": last and last.val_loss, "val_accuracy": last and last.val_accuracy,
                         "seconds_per_epoch": run.seconds_per_epoch})
        return rows

    @property
    def completed(self) -> list[str]:
        """The optimizers whose runs completed: finished, or diverged (an outcome too), in order."""
        return [run.optimizer for run in self.runs if run.status in ("finished", "diverged")]

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
        fields = ["model", "optimizer", "lr", "status", "epoch", "lr_factor", "train_loss", "val_loss",
                  "val_accuracy", "seconds", "diverged_at_step"]
        writer = csv.DictWriter(buffer, fieldnames=fields)
        writer.writeheader()
        writer.writerows(strict(self.table()))
        (folder / RESULTS[1]).write_text(buffer.getvalue())
        report.curves_figure(self).savefig(folder / RESULTS[2], format="png")

    def figure(self):
        """Training and validation loss against epoch (see ``report.curves_figure``)."""
        return report.curves_figure(self)


def _train_one(run: Run, spec: optim.Spec, model_name: str, data: ImageData, epochs: int,
               batch_size: int, seed: int, amp: bool, progress: bool, hyperparameters: dict,
               on_epoch=None, record_every: int | None = None, schedule: str = "none") -> None:
    """Train ``run`` with ``loop.train`` (a batch of one); with ``record_every`` (steps) also record
    its path into ``run.path``; the learning rate follows ``schedule`` from epoch to epoch."""
    from tqdm.auto import tqdm

    model = models.create(model_name, seed).to(data.device)
    dtype = next(model.parameters()).dtype
    optimizer = spec.without_lr().build(model.parameters(), seed=seed, lr=run.lr, **hyperparameters)
    rate = schedules.Schedule(schedule, epochs, [optimizer])
    total_steps = epochs * loop.steps_per_epoch(data, batch_size)
    recorder = None if record_every is None else PathRecorder(model, record_every, total_steps)
    bar = tqdm(total=total_steps, desc=f"{model_name} / {spec.text}", disable=not progress, leave=True)
    training = loop.Training(torch.empty(0, 1, dtype=torch.float64))

    def autocast():
        return torch.autocast(data.device.type, dtype=torch.bfloat16, enabled=amp)

    def step(x, y):
        with autocast():
            loss, _ = models.loss_and_correct(model, x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss.detach()

    def validation():
        model.eval()
        try:
            with autocast():
                return loop.evaluate(lambda x, y: models.loss_and_correct(model, x, y), data, dtype,
                                     model.task == "classification")
        finally:
            model.train()

    def after_step(done: int, total: int) -> None:
        if recorder is not None:
            recorder.after_step(done)
        bar.update(1)

    def after_epoch(training: loop.Training) -> None:
        _record(run, training)
        bar.set_postfix_str(f"val loss {run.epochs[-1].val_loss:.3f}")
        if on_epoch is not None:
            on_epoch(run)

    finished = False
    try:
        loop.train(training, step, validation, data, epochs=epochs, batch_size=batch_size, seed=seed,
                   dtype=dtype, schedule=rate, stop_when_diverged=True, after_step=after_step,
                   on_epoch=after_epoch)
        finished = True
    finally:  # after an interruption too: what the run did so far
        _record(run, training)
        if finished:
            run.status = "finished" if run.diverged_at_step is None else "diverged"
            if run.status == "diverged":
                bar.set_postfix_str(f"diverged at step {run.diverged_at_step}")
        bar.close()
        if recorder is not None:
            run.path = recorder.path(run)


def _record(run: Run, training: loop.Training) -> None:
    """``run``'s losses and epochs from its ``training`` (losses up to the step it diverged at)."""
    diverged_at = int(training.diverged_at[0])
    losses = training.step_losses[:, 0] if diverged_at < 0 else training.step_losses[:diverged_at, 0]
    run.step_losses = losses.tolist()
    run.epochs = [epoch.of_copy(0) for epoch in training.epochs]
    if diverged_at >= 0:
        run.diverged_at_step, run.diverged_at_epoch = diverged_at, len(training.epochs) + 1


def _build_each(model_name: str, specs: list[optim.Spec], rates: list[float], seed: int,
                hyperparameters: dict) -> None:
    """Build every optimizer once on a throwaway model, so that a bad setting for the last one
    fails before the first one trains."""
    parameters = list(models.create(model_name, seed).parameters())
    for spec, rate in zip(specs, rates):
        try:
            spec.without_lr().build(parameters, seed=seed, lr=rate, **hyperparameters)
        except ValueError as error:
            raise ValueError(str(error) if repr(spec.words) in str(error) else f"{spec.text}: {error}") from None


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

    ``optimizers``: specs as ``optim.parse_list`` takes them; a spec may have its own learning rate
    ('sgd@0.1'). ``lr`` is one number, {spec: lr}, or None for each rule's ``network_lr``
    (``optim.BASE_RULES``; ``optim.learning_rates``). Other keywords go to ``landscape.optim.build``; every optimizer is built once before any
    training, so a bad setting fails first. ``data`` may be preloaded ``ImageData`` (its data set
    is then ``dataset``; else it is loaded from ``data_dir``, see ``landscape.nets.data`` and
    ``landscape.nets.mnist``). With ``out`` the results are saved there (see
    ``Comparison.save``; an earlier comparison there is replaced only with ``overwrite``), also
    complete: Ctrl-C or SIGTERM returns the comparison with ``interrupted`` set, the finished runs,
    the interrupted one and the rest marked "not started", and never writes into ``out``: the
    completed runs, if any, go beside it (``interrupted_folder(out)``), so ``out`` holds a complete
    comparison or what it held before. ``on_epoch(comparison)`` is called after
    every epoch (live plots).

    ``record=True`` keeps each run's weights on the training device (``Run.path``, also
    ``Comparison.paths``; see ``RecordedPath``; not saved with ``out``): at step 0, every
    ``record_every`` optimizer steps and at the last step. ``record_every`` defaults to about
    ``RECORD_POINTS`` points over the planned epochs (``default_record_every``); memory per run:
    points x parameters x 4 bytes (float32). Recording changes none of the training's numbers.

    ``schedule`` ("none", "step", "cosine", "plateau": ``landscape.schedules``) scales each run's
    learning rate after every epoch as torch's scheduler would ("plateau" on the validation
    loss); each epoch records the factor η / η_0 it trained with (``Epoch.lr_factor``).
    """
    specs = optim.parse_list(optimizers)
    rates = optim.learning_rates(specs, lr, default=lambda spec: spec.info.network_lr)
    optim.require_seed(seed)
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
    if out is not None:  # fail before training, not after it
        check_results_folder(out, RESULTS, "comparison", overwrite)
    target = resolve_device(device)
    if amp and target.type != "cuda":
        raise ValueError(f"Invalid amp: bf16 autocast is offered on CUDA only (device is {target})")
    _build_each(model, specs, rates, seed, hyperparameters)
    if data is None:
        data = datasets.check(dataset).load(data_dir, device=target, train_size=train_size, val_size=val_size,
                                            seed=seed)
    if record and record_every is None:
        record_every = default_record_every(epochs * loop.steps_per_epoch(data, batch_size))
    comparison = Comparison(model, str(data.device), dict(dataset=dataset, schedule=schedule, epochs=epochs, batch_size=batch_size,
                            train_size=len(data.train_labels), val_size=len(data.val_labels), seed=seed,
                            amp=amp, hyperparameters={k: v for k, v in hyperparameters.items()}))
    try:
        for spec, rate in zip(specs, rates):
            run = Run(spec.text, rate)
            comparison.runs.append(run)
            _train_one(run, spec, model, data, epochs, batch_size, seed, amp, progress, hyperparameters,
                       None if on_epoch is None else (lambda _: on_epoch(comparison)), record_every, schedule)
    except KeyboardInterrupt as interruption:
        comparison.interrupted = "SIGTERM" if isinstance(interruption, Terminated) else "Ctrl-C"
        for run in comparison.runs:
            if run.status == "running":
                run.status = "interrupted"
        comparison.runs += [Run(spec.text, rate, status="not started")
                            for spec, rate in list(zip(specs, rates))[len(comparison.runs):]]
        if out is not None and comparison.completed:
            comparison.save(interrupted_folder(out), overwrite=True)
        return comparison
    if out is not None:
        comparison.save(out, overwrite=overwrite)
    return comparison


def interrupted_folder(out: str | os.PathLike) -> Path:
    """Where an interrupted comparison meant for ``out`` keeps its finished runs: beside ``out``,
    never in it (``out/`` -> ``out.interrupted/``)."""
    out = Path(out)
    return out.parent / f"{out.name}.interrupted"
