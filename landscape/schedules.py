"""Learning-rate schedules, "adaptive η as a function of the iteration": torch's own
``torch.optim.lr_scheduler`` rules, as factors on the base learning rate.

A schedule drives one of torch's schedulers on a probe optimizer whose learning rate starts at 1,
so its learning rate is the factor η_t / η_0; after each period it sets every param group of the
run's optimizers to its base learning rate (the one it had when the schedule began) times it. The same factor thus applies to a scalar lr (a comparison) and to a (B, 1) lr tensor
(a sweep's copies, a surface's rows: every row scaled alike), and the sequence of learning rates
is exactly torch's.

    none     η_t = η_0
    step     η_t = η_0 · γ^⌊t / s⌋                        (StepLR: γ = 0.1, s = a third of the run)
    cosine   η_t = η_0 · (1 + cos(π t / T)) / 2            (CosineAnnealingLR, to 0 at T)
    plateau  η_t ← η_t · 0.1 after p periods without a lower loss (ReduceLROnPlateau; p = a
             twentieth of the run, at least 1)

A period is an epoch for a network and an iteration for a surface.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch.optim import lr_scheduler

SCHEDULES = ("none", "step", "cosine", "plateau")
GAMMA = 0.1


class Schedule:
    """The learning-rate factor of ``name`` over ``periods`` periods for ``optimizers``;
    ``step(loss)`` after each period."""

    def __init__(self, name: str = "none", periods: int = 1, optimizers: Sequence[torch.optim.Optimizer] = ()):
        check(name)
        if isinstance(periods, bool) or not (isinstance(periods, int) and periods >= 1):
            raise ValueError(f"Invalid periods: {periods!r} (expected an integer >= 1)")
        self.name = name
        self._groups = [(group, group["lr"]) for optimizer in optimizers for group in optimizer.param_groups]
        self._probe = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
        self._scheduler = {
            "none": lambda: None,
            "step": lambda: lr_scheduler.StepLR(self._probe, step_size=max(1, math.ceil(periods / 3)), gamma=GAMMA),
            "cosine": lambda: lr_scheduler.CosineAnnealingLR(self._probe, T_max=periods),
            "plateau": lambda: lr_scheduler.ReduceLROnPlateau(self._probe, factor=GAMMA,
                                                              patience=max(1, periods // 20)),
        }[name]()

    @property
    def factor(self) -> float:
        """η_t / η_0 now."""
        return float(self._probe.param_groups[0]["lr"])

    def step(self, loss: float | None = None) -> float:
        """After a period: the next factor, and every param group's lr (a number or a tensor) its
        base lr times it (``loss``, the period's loss, drives "plateau" only; a non-finite loss
        counts as no improvement)."""
        if self._scheduler is None:
            return self.factor
        self._probe.step()  # no gradient, no change: torch warns of a scheduler stepped first
        if self.name == "plateau":
            self._scheduler.step(loss if loss is not None and math.isfinite(loss) else math.inf)
        else:
            self._scheduler.step()
        for group, base in self._groups:
            group["lr"] = base * self.factor
        return self.factor


def check(name: str) -> str:
    if name not in SCHEDULES:
        raise ValueError(f"Invalid schedule {name!r}; valid: {', '.join(SCHEDULES)}")
    return name
