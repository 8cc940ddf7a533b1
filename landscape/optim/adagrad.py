"""AdaGrad: per-coordinate learning rates from the sum of squared gradients.

Update rule (g_k gradient, v_k accumulated squares, η learning rate, δ lr decay, ε, λ)::

    g_k ← g_k + λ θ_k
    v_k = v_{k−1} + g_k ⊙ g_k                (v_0 = initial_accumulator_value)
    θ_{k+1} = θ_k − η / (1 + (k − 1) δ) · g_k / (√v_k + ε)

Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and Stochastic
Optimization", JMLR 2011. Same numbers as ``torch.optim.Adagrad``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from . import _ops
from .base import Optimizer, Term, apply_weight_decay, decay_weights, require_nonnegative


def adagrad(θ: Tensor, g: Tensor, state: dict, group: dict) -> None:
    """One AdaGrad step on one tensor θ, in the lecture's notation (see the module docstring)."""
    η, δ, ε, k = group["lr"], group["lr_decay"], group["eps"], state["step"]
    g = decay_weights(θ, g, group)                     # g_k ← g_k + λ θ_k
    v = state["sum"]                                   # v_{k−1}   (torch's "sum")
    v.add_(g * g)                                      # v_k = v_{k−1} + g_k ⊙ g_k
    η_k = η / (1 + (k - 1) * δ)                        # η_k = η / (1 + (k − 1) δ)
    θ.sub_(η_k * g / (v.sqrt() + ε))                   # θ_{k+1} = θ_k − η_k · g_k / (√v_k + ε)


def adagrad_anatomy(θ: Tensor, g: Tensor, before: dict, after: dict, group: dict) -> list[Term]:
    """The arrow of one AdaGrad step from θ_k (see ``Optimizer.anatomy``): the gradient step
    −η_k g_k before the per-coordinate division by √v_k + ε (the step taken is drawn beside it)."""
    η, δ, k = group["lr"], group["lr_decay"], after["step"]
    θ_k = θ.clone()
    g = decay_weights(θ_k, g, group)                   # g_k ← g_k + λ θ_k
    η_k = η / (1 + (k - 1) * δ)                        # η_k = η / (1 + (k − 1) δ)
    return [Term("gradient", "−ηₖgₖ: gradient step, before ÷ (√vₖ + ε)", -η_k * g, θ_k - θ)]


class Adagrad(Optimizer):
    """AdaGrad. Args: lr η, lr_decay δ, weight_decay λ, initial_accumulator_value v_0, eps ε."""

    lecture_rule = staticmethod(adagrad)
    state_symbols = {"sum": "v"}
    anatomy = staticmethod(adagrad_anatomy)

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, extensions=(), seed=None,
                 foreach=True):
        for name, value in [("lr", lr), ("lr_decay", lr_decay), ("weight_decay", weight_decay),
                            ("initial_accumulator_value", initial_accumulator_value), ("eps", eps)]:
            require_nonnegative(name, value)
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, defaults, extensions=extensions, seed=seed, foreach=foreach)

    def _init_state(self, param, state, group):
        state["sum"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        state["sum"].add_(group["initial_accumulator_value"])

    def _update(self, group, params, grads, states):
        grads = apply_weight_decay(group, params, grads)
        sums = [state["sum"] for state in states]
        _ops.addcmul_(sums, grads, grads)
        std = _ops.sqrt(sums)
        _ops.add_scalar_(std, group["eps"])
        lr, lr_decay = group["lr"], group["lr_decay"]
        _ops.addcdiv_(params, grads, std, _ops.per_step(lambda k: -lr / (1 + (k - 1) * lr_decay),
                                                        [s["step"] for s in states]))
