"""Learning-rate schedules, "adaptive η as a function of the iteration": torch's own
``torch.optim.lr_scheduler`` rules, as factors on the base learning rate.

A schedule drives one of torch's schedulers on a probe optimizer whose learning rate starts at 1,
so its learning rate is the nominal factor η_t / η_0. After each period every param group of the
run's optimizers follows it, a scalar lr (a comparison) and each row of a (B, 1) lr tensor (a
sweep's copies, a surface's rows) alike, so that each group's, and each row's, sequence of
learning rates is the one torch's scheduler gives an optimizer at that lr:

    none     η_t = η_0
    step     η_t = η_0 · γ^⌊t / s⌋                        (StepLR: γ = 0.1, s = a third of the run)
    cosine   η_t = η_0 · (1 + cos(π t / T)) / 2            (CosineAnnealingLR, to 0 at T)
    plateau  η_t ← η_t · 0.1 after p periods without a lower loss (ReduceLROnPlateau; p = a
             twentieth of the run, at least 1), except where η_t − η_t · 0.1 ≤ 10⁻⁸: there η_t
             stays (torch's eps), row by row for a tensor lr

Step and cosine set each group's lr to its base lr (the one it had when the schedule began) times
the factor; plateau applies torch's reduction to each group's lr whenever the probe's is reduced
(the probe has eps 0, so it marks every reduction). A period is an epoch for a network and an
iteration for a surface.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor
from torch.optim import lr_scheduler

SCHEDULES = ("none", "step", "cosine", "plateau")
SUMMARIES = {"none": "constant η", "step": "x0.1 every third of the run", "cosine": "to 0 at the end",
             "plateau": "x0.1 when the loss stops falling"}  # what each does, in a few words
GAMMA = 0.1
PLATEAU_EPS = 1e-8  # ReduceLROnPlateau's default eps: a smaller reduction of an lr is skipped


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
            "plateau": lambda: lr_scheduler.ReduceLROnPlateau(self._probe, factor=GAMMA, eps=0.0,
                                                              patience=max(1, periods // 20)),
        }[name]()

    @property
    def factor(self) -> float:
        """The nominal factor η_t / η_0 now (plateau: 0.1 to the number of reductions)."""
        return float(self._probe.param_groups[0]["lr"])

    def factors(self) -> list[float | Tensor]:
        """Each param group's lr now over its base lr, in order: a number for a number lr, a tensor
        of the lr's shape for a tensor lr; the nominal factor where the base lr is 0."""
        factors = []
        for group, base in self._groups:
            if isinstance(base, Tensor):
                factors.append(torch.where(base == 0, self.factor, group["lr"] / base))
            else:
                factors.append(self.factor if base == 0 else float(group["lr"] / base))
        return factors

    def step(self, loss: float | None = None) -> float:
        """After a period: the next nominal factor; every param group's lr (a number or a tensor)
        follows it (``loss``, the period's loss, drives "plateau" only; a non-finite loss counts
        as no improvement)."""
        if self._scheduler is None:
            return self.factor
        self._probe.step()  # no gradient, no change: torch warns of a scheduler stepped first
        if self.name != "plateau":
            self._scheduler.step()
            for group, base in self._groups:
                group["lr"] = base * self.factor
            return self.factor
        before = self.factor
        self._scheduler.step(loss if loss is not None and math.isfinite(loss) else math.inf)
        if self.factor != before:  # a reduction
            for group, _ in self._groups:
                group["lr"] = reduced(group["lr"])
        return self.factor


def reduced(lr: float | Tensor) -> float | Tensor:
    """ReduceLROnPlateau's reduction of ``lr``: lr · 0.1, except where lr − lr · 0.1 ≤ 10⁻⁸ (kept);
    elementwise for a tensor."""
    new = lr * GAMMA
    if isinstance(lr, Tensor):
        return torch.where(lr - new > PLATEAU_EPS, new, lr)
    return new if lr - new > PLATEAU_EPS else lr


def check(name: str) -> str:
    if name not in SCHEDULES:
        raise ValueError(f"Invalid schedule {name!r}; valid: {', '.join(SCHEDULES)}")
    return name
