"""The network training loop, one for a single run (``train.py``) and for B copies trained
together (``copies.py``): each epoch's batches in the seeded order ``batch_order`` gives (the same
for every run and copy of one seed), a step per batch, the steps' losses and where each copy's
stopped being finite, the validation loss and accuracy, the learning-rate schedule, and one
``Epoch`` record per epoch.

A single run is a batch of one: its losses are (T, 1), its epochs' values (1,) tensors
(``Epoch.of_copy(0)`` gives numbers).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import torch
from torch import Tensor

from .. import schedules
from .images import ImageData

CHECK_EVERY = 20  # steps between finiteness checks where a diverged run stops (each one a GPU sync)


def batch_order(seed: int, epoch: int) -> torch.Generator:
    """The generator that orders epoch ``epoch``'s batches: the same for every run and copy of ``seed``."""
    return torch.Generator().manual_seed((seed * 100_003 + epoch) % 2**63)


def steps_per_epoch(data: ImageData, batch_size: int) -> int:
    return math.ceil(len(data.train_labels) / batch_size)


@dataclass
class Epoch:
    """What one epoch did, each value per copy ((B,) tensors) or, for one copy, a number.

    ``lr_factor``: η / η_0, the schedule's factor the epoch trained with (torch's plateau rule
    leaves a tiny lr unreduced, so copies can differ); ``train_loss``: the mean
    of its steps' losses; ``val_loss``, ``val_accuracy`` (None for an autoencoder): on the
    validation images after it; ``seconds``: its training time."""

    epoch: int
    lr_factor: float | Tensor
    train_loss: float | Tensor
    val_loss: float | Tensor
    val_accuracy: float | Tensor | None
    seconds: float

    def of_copy(self, index: int) -> "Epoch":
        """Copy ``index``'s epoch, as numbers."""

        def number(value):
            return float(value.reshape(-1)[index]) if isinstance(value, Tensor) else value

        return replace(self, lr_factor=number(self.lr_factor), train_loss=number(self.train_loss),
                       val_loss=number(self.val_loss), val_accuracy=number(self.val_accuracy))


@dataclass
class Training:
    """A training's record so far, filled in as the loop goes (an interruption leaves what was
    done): each step's loss (T, B) on the CPU and each finished epoch."""

    step_losses: Tensor
    epochs: list[Epoch] = field(default_factory=list)

    @property
    def diverged_at(self) -> Tensor:
        """(B,) the first step (1-based) whose loss was not finite; -1 where every loss was."""
        bad = ~torch.isfinite(self.step_losses)
        if not len(bad):
            return torch.full((bad.shape[1],), -1)
        return torch.where(bad.any(0), bad.int().argmax(0) + 1, -1)


def evaluate(loss_and_correct: Callable[[Tensor, Tensor], tuple[Tensor, Tensor]], data: ImageData,
             dtype: torch.dtype, classification: bool) -> tuple[Tensor, Tensor | None]:
    """The mean loss on the validation images and the share classified right (None unless
    ``classification``), per copy (B,) or () for one, on the CPU, from ``loss_and_correct(x, y)``."""
    total = correct = 0
    count = 0
    with torch.no_grad():
        for x, y in data.val_batches(dtype=dtype):
            loss, right = loss_and_correct(x, y)
            total = total + loss.double() * len(y)
            correct = correct + right
            count += len(y)
    return (total / count).cpu(), ((correct.double() / count).cpu() if classification else None)


def train(training: Training, step: Callable[[Tensor, Tensor], Tensor],
          validation: Callable[[], tuple[Tensor, Tensor | None]], data: ImageData, *, epochs: int,
          batch_size: int, seed: int, dtype: torch.dtype, schedule: schedules.Schedule,
          stop_when_diverged: bool = False, after_step: Callable[[int, int], None] | None = None,
          on_epoch: Callable[[Training], None] | None = None) -> None:
    """Train for ``epochs``, recording into ``training``: ``step(x, y)`` does one optimizer step
    on a batch and returns its loss per copy (detached); ``validation()`` gives the validation loss
    and accuracy per copy after each epoch; ``schedule`` steps after it, on the lowest finite
    validation loss. ``after_step(done, total)`` after each step; ``on_epoch(training)`` after
    each epoch. With ``stop_when_diverged`` the loop stops (no evaluation) once every copy's loss
    has stopped being finite, looking every ``CHECK_EVERY`` steps and at each epoch's end."""
    total = epochs * steps_per_epoch(data, batch_size)
    done = 0
    for epoch in range(1, epochs + 1):
        _synchronise(data.device)
        start = time.perf_counter()
        losses = []
        for x, y in data.train_batches(batch_size, batch_order(seed, epoch), dtype):
            losses.append(step(x, y).reshape(-1))
            done += 1
            if after_step is not None:
                after_step(done, total)
            if stop_when_diverged and len(losses) % CHECK_EVERY == 0 and _all_diverged(torch.stack(losses)):
                break
        _synchronise(data.device)
        seconds = time.perf_counter() - start
        epoch_losses = torch.stack(losses).double().cpu()
        training.step_losses = torch.cat([training.step_losses, epoch_losses])
        if stop_when_diverged and _all_diverged(training.step_losses):
            return
        val_loss, val_accuracy = validation()
        factor = schedule.factors()[0]  # every group (parameter) of a run or copy has the same lr
        training.epochs.append(Epoch(epoch, factor.reshape(-1).cpu() if isinstance(factor, Tensor) else factor,
                                     epoch_losses.mean(0), val_loss.reshape(-1),
                                     None if val_accuracy is None else val_accuracy.reshape(-1), seconds))
        finite = val_loss[torch.isfinite(val_loss)]
        schedule.step(float(finite.min()) if len(finite) else None)
        if on_epoch is not None:
            on_epoch(training)


def _all_diverged(losses: Tensor) -> bool:
    return bool((~torch.isfinite(losses)).any(0).all())


def _synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
