"""Gradient dropout and learning-rate dropout: random coordinate masks, before or after the rule.

Gradient dropout drops gradient coordinates before the rule's state sees them, rescaled so the
expected gradient is unchanged (ξ_k ~ Bernoulli(p) per coordinate, p the keep probability)::

    g_k ← ξ_k ⊙ g_k / p

Learning-rate dropout runs the rule with the full gradient (its state, e.g. Adam's moments, is
updated everywhere) and keeps the resulting update only on a random set of coordinates::

    Δ_k = rule(θ_k, g_k) − θ_k,   θ_{k+1} = θ_k + ξ_k ⊙ Δ_k

Lin, Shi & Huang, "Learning Rate Dropout", 2019 (arXiv:1912.00144).
"""

from __future__ import annotations

import torch

from . import _ops
from .base import Extension, GroupStep, require


def _require_keep_probability(name, value):
    require(name, value, lambda v: (v > 0) & (v <= 1), f"0 < {name} <= 1")


def _masks(step: GroupStep, like: list[torch.Tensor], keep) -> list[torch.Tensor]:
    """Bernoulli(keep) 0/1 masks, one per tensor, from the optimizer's random source."""
    return [(step.random.rand_like(t) < keep).to(t.dtype) for t in like]


class GradientDropout(Extension):
    """Args: keep_prob p, the probability that a gradient coordinate is kept."""

    name = "graddropout"
    anatomy_note = ("gₖ is the whole gradient; the state and the step taken saw it with "
                    "coordinates dropped")

    def __init__(self, keep_prob: float = 0.9):
        _require_keep_probability("grad_keep_prob", keep_prob)
        self.keep_prob = keep_prob

    def gradients(self, step: GroupStep):
        masks = _masks(step, step.grads, self.keep_prob)
        _ops.div_(masks, self.keep_prob)
        return list(torch._foreach_mul(step.grads, masks))


class LRDropout(Extension):
    """Args: keep_prob p, the probability that a coordinate's update is applied."""

    name = "lrdropout"
    anatomy_note = "the step taken keeps the rule's step on a random set of coordinates only"

    def __init__(self, keep_prob: float = 0.5):
        _require_keep_probability("lr_keep_prob", keep_prob)
        self.keep_prob = keep_prob

    def update(self, step: GroupStep, apply_rule):
        start = [p.detach().clone() for p in step.params]
        apply_rule()
        torch._foreach_sub_(step.params, start)          # θ ← Δ_k
        torch._foreach_mul_(step.params, _masks(step, step.params, self.keep_prob))
        torch._foreach_add_(step.params, start)          # θ ← θ_k + ξ_k ⊙ Δ_k
