"""Multi-tensor arithmetic whose coefficients may be numbers or tensors.

Every update rule in landscape.optim is written once, with ``torch._foreach_*`` ops over the
list of parameters of a group. A coefficient (a learning rate, a decay, a bias correction) is

* a Python number: the fast scalar overloads are used, exactly the ops torch.optim issues;
* a list of numbers, one per parameter (per-parameter step counts): the ScalarList overloads;
* a tensor, or a list of tensors, broadcastable to each parameter: an lr of shape (B, 1) for a
  (B, 2) parameter steps B hyper-parameter settings at once. The tensor-list overloads
  broadcast; x + c·y is ``addcmul`` with c as the broadcast factor (no product allocated); the
  other ops with no such overload are split into a product and a sum.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Union

import torch
from torch import Tensor

Coefficient = Union[float, Tensor, Sequence[float], Sequence[Tensor]]


def _has_tensor(c: Coefficient) -> bool:
    if isinstance(c, Tensor):
        return True
    return isinstance(c, (list, tuple)) and len(c) > 0 and isinstance(c[0], Tensor)


def _arg(c: Coefficient, n: int):
    """The coefficient in the form the foreach overloads take: a scalar or a list."""
    if isinstance(c, Tensor):
        return [c] * n
    if isinstance(c, tuple):
        return list(c)
    return c


def per_step(rule: Callable[[int], object], steps: Sequence[int]) -> list:
    """``[rule(k) for k in steps]``, evaluating ``rule`` once per distinct step count."""
    cache: dict[int, object] = {}
    return [cache[k] if k in cache else cache.setdefault(k, rule(k)) for k in steps]


def mul_(xs: list[Tensor], c: Coefficient) -> None:
    """x ← c·x"""
    torch._foreach_mul_(xs, _arg(c, len(xs)))


def div_(xs: list[Tensor], c: Coefficient) -> None:
    """x ← x / c"""
    torch._foreach_div_(xs, _arg(c, len(xs)))


def add_scalar_(xs: list[Tensor], c: Coefficient) -> None:
    """x ← x + c"""
    torch._foreach_add_(xs, _arg(c, len(xs)))


def added_scalar(xs: list[Tensor], c: Coefficient) -> list[Tensor]:
    """x + c as new tensors."""
    return list(torch._foreach_add(xs, _arg(c, len(xs))))


def lerp_(xs: list[Tensor], ys: list[Tensor], w: Coefficient) -> None:
    """x ← x + w·(y − x)"""
    torch._foreach_lerp_(xs, ys, _arg(w, len(xs)))


def add_(xs: list[Tensor], ys: list[Tensor], c: Coefficient = 1.0) -> None:
    """x ← x + c·y"""
    if isinstance(c, (int, float)):
        torch._foreach_add_(xs, ys, alpha=c)
    elif _has_tensor(c):
        torch._foreach_addcmul_(xs, ys, _arg(c, len(ys)))
    else:
        torch._foreach_add_(xs, torch._foreach_mul(ys, _arg(c, len(ys))))


def added(xs: list[Tensor], ys: list[Tensor], c: Coefficient = 1.0) -> list[Tensor]:
    """x + c·y as new tensors (x is left alone)."""
    if isinstance(c, (int, float)):
        return list(torch._foreach_add(xs, ys, alpha=c))
    if _has_tensor(c):
        return list(torch._foreach_addcmul(xs, ys, _arg(c, len(ys))))
    return list(torch._foreach_add(xs, torch._foreach_mul(ys, _arg(c, len(ys)))))


def _add_combined_(xs, ys, zs, c, fused, combine) -> None:
    """x ← x + c·combine(y, z), with the fused op where c has no tensor."""
    if _has_tensor(c):
        combined = combine(ys, zs)
        torch._foreach_mul_(combined, _arg(c, len(xs)))
        torch._foreach_add_(xs, combined)
    else:
        fused(xs, ys, zs, _arg(c, len(xs)))


def addcmul_(xs: list[Tensor], ys: list[Tensor], zs: list[Tensor], c: Coefficient = 1.0) -> None:
    """x ← x + c·y·z"""
    _add_combined_(xs, ys, zs, c, torch._foreach_addcmul_, torch._foreach_mul)


def addcdiv_(xs: list[Tensor], ys: list[Tensor], zs: list[Tensor], c: Coefficient = 1.0) -> None:
    """x ← x + c·y/z"""
    _add_combined_(xs, ys, zs, c, torch._foreach_addcdiv_, torch._foreach_div)


def sqrt(xs: list[Tensor]) -> list[Tensor]:
    """√x as new tensors."""
    return list(torch._foreach_sqrt(xs))


def sqrt_(xs: list[Tensor]) -> None:
    """x ← √x"""
    torch._foreach_sqrt_(xs)


def clamp_(xs: list[Tensor], low: Coefficient, high: Coefficient) -> None:
    """x ← min(max(x, low), high)"""
    torch._foreach_clamp_min_(xs, _arg(low, len(xs)))
    torch._foreach_clamp_max_(xs, _arg(high, len(xs)))
