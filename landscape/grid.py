"""The lr x momentum grid: a sweep's two axes and its cells, laid out once for every sweep.

A surface's phase diagram (``trajectory.sweep``), the explorer's sliders and a network's sweep
(``nets.sweep``) all put their runs on a ``Grid``: cell (i, j) is learning rate ``lrs[i]`` with
momentum ``momenta[j]`` (β1 for the Adam family), and it is row ``i * len(momenta) + j`` of the
batched run (row-major, lr index major). A rule without momentum has no momentum axis
(``momenta`` None: one column); a spec with its own learning rate has one lr. An axis of one
value serves every index along it (``row``), so the explorer's sliders can look up such runs
at any slider position.

Errors say what is wrong with the values; the caller says where they came from ("--lrs", "the
sweep panel's momenta").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor


def parse_range(text: str) -> tuple[float, float, int]:
    """'low:high:count' (e.g. '0.001:1:16') as numbers; ``ValueError`` saying what is wrong."""
    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(f"expected low:high:count, got {text!r}")
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"low and high must be numbers, got {text!r}") from None
    try:
        count = int(parts[2])
    except ValueError:
        raise ValueError(f"count must be an integer, got {parts[2]!r}") from None
    return low, high, count


def log_range(low: float, high: float, count: int) -> Tensor:
    """``count`` learning rates log-spaced from ``low`` to ``high``: 0 < low < high < inf, count >= 2."""
    if not (0 < low < high < math.inf and count >= 2):
        raise ValueError(f"need 0 < low < high < inf and count >= 2, got {low:g}:{high:g}:{count}")
    return torch.logspace(math.log10(low), math.log10(high), count, dtype=torch.float64)


def linear_range(low: float, high: float, count: int) -> Tensor:
    """``count`` momenta evenly spaced from ``low`` to ``high``: 0 <= low <= high < 1, count >= 1."""
    if not (0 <= low <= high < 1 and count >= 1):
        raise ValueError(f"need 0 <= low <= high < 1 and count >= 1, got {low:g}:{high:g}:{count}")
    return torch.linspace(low, high, count, dtype=torch.float64)


def nearest_index(values, value: float, log: bool = False) -> int:
    """The index of the value closest to ``value`` (on a log scale with ``log``)."""
    values = np.asarray(values, dtype=float)
    distance = np.abs(np.log10(values) - math.log10(value)) if log else np.abs(values - value)
    return int(distance.argmin())


def _axis(name: str, values, valid, expected: str) -> Tensor:
    axis = torch.as_tensor(values, dtype=torch.float64).reshape(-1).clone()
    if len(axis) == 0 or not torch.isfinite(axis).all() or not valid(axis).all():
        raise ValueError(f"{name}: {axis.tolist()} (expected one or more finite numbers {expected})")
    return axis


@dataclass(frozen=True, eq=False)
class Grid:
    """Learning rates (L,) x momenta (M,), or learning rates only (``momenta`` None).

    Values are checked when the grid is made: learning rates > 0, momenta in [0, 1), finite,
    at least one of each."""

    lrs: Tensor
    momenta: Tensor | None = None

    def __post_init__(self):
        object.__setattr__(self, "lrs", _axis("lrs", self.lrs, lambda v: v > 0, "> 0"))
        if self.momenta is not None:
            object.__setattr__(self, "momenta", _axis("momenta", self.momenta, lambda v: (v >= 0) & (v < 1),
                                                      "in [0, 1)"))

    @classmethod
    def from_ranges(cls, lr_range: tuple[float, float, int],
                    momentum_range: tuple[float, float, int] | None) -> "Grid":
        """Log-spaced lrs over ``lr_range`` (low, high, count) x evenly spaced momenta over
        ``momentum_range`` (None: no momentum axis); ``ValueError`` names the axis."""
        try:
            lrs = log_range(*lr_range)
        except ValueError as error:
            raise ValueError(f"lrs: {error}") from None
        try:
            momenta = None if momentum_range is None else linear_range(*momentum_range)
        except ValueError as error:
            raise ValueError(f"momenta: {error}") from None
        return cls(lrs, momenta)

    @property
    def shape(self) -> tuple[int, int]:
        """(L, M): M is 1 without a momentum axis."""
        return len(self.lrs), 1 if self.momenta is None else len(self.momenta)

    @property
    def cells(self) -> int:
        return self.shape[0] * self.shape[1]

    def rows(self) -> dict[str, Tensor]:
        """Each row's {"lr": (B,), "momentum": (B,)} (no "momentum" without a momentum axis):
        the per-row hyper-parameters of the batched run, row-major."""
        lrs, momenta = self.shape
        rows = {"lr": self.lrs.repeat_interleave(momenta)}
        if self.momenta is not None:
            rows["momentum"] = self.momenta.repeat(lrs)
        return rows

    def row(self, i: int, j: int = 0) -> int:
        """The row of cell (i, j); along an axis of one value every index is that value's."""
        lrs, momenta = self.shape
        return (i if lrs > 1 else 0) * momenta + (j if momenta > 1 else 0)

    def cell(self, row: int) -> tuple[int, int]:
        """The cell (i, j) of ``row``."""
        return divmod(row, self.shape[1])

    def values(self, per_row: Tensor) -> Tensor:
        """Per-row values (B,) laid out as the grid (L, M)."""
        return per_row.reshape(self.shape)

    def setting(self, i: int, j: int = 0) -> dict[str, float | None]:
        """Cell (i, j)'s {"lr", "momentum"} (momentum None without a momentum axis)."""
        return {"lr": float(self.lrs[i]), "momentum": None if self.momenta is None else float(self.momenta[j])}

    def best(self, per_row: Tensor) -> tuple[int, int] | None:
        """The cell with the lowest finite value of ``per_row`` (the first of equals); None when
        no value is finite."""
        finite = torch.isfinite(per_row)
        if not finite.any():
            return None
        return self.cell(int(torch.where(finite, per_row, math.inf).argmin()))

    def nearest(self, lr: float, momentum: float | None = None) -> tuple[int, int]:
        """The cell nearest (lr, momentum): lr on a log scale; momentum ignored without its axis."""
        i = nearest_index(self.lrs.numpy(), lr, log=True)
        if self.momenta is None or momentum is None:
            return i, 0
        return i, nearest_index(self.momenta.numpy(), momentum)

    def at_lr(self, lr: float) -> "Grid":
        """This grid's momenta at one learning rate (a spec with its own)."""
        return Grid(torch.tensor([lr], dtype=torch.float64), self.momenta)

    def without_momentum(self) -> "Grid":
        """This grid's learning rates only (a rule without momentum)."""
        return Grid(self.lrs)
