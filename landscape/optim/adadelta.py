"""AdaDelta: step sizes from the ratio of running RMS of updates and of gradients.

Update rule (g_k gradient, v_k mean square gradient, d_k update, w_k mean square update,
ρ smoothing, η learning rate, ε, λ)::

    g_k ← g_k + λ θ_k
    v_k = ρ v_{k−1} + (1 − ρ) g_k ⊙ g_k
    d_k = √(w_{k−1} + ε) / √(v_k + ε) ⊙ g_k
    w_k = ρ w_{k−1} + (1 − ρ) d_k ⊙ d_k
    θ_{k+1} = θ_k − η d_k

Zeiler, "ADADELTA: An Adaptive Learning Rate Method", 2012. Same numbers as
``torch.optim.Adadelta``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from . import _ops
from .base import Optimizer, apply_weight_decay, decay_weights, require, require_nonnegative


def adadelta(θ: Tensor, g: Tensor, state: dict, group: dict) -> None:
    """One AdaDelta step on one tensor θ, in the lecture's notation (see the module docstring)."""
    η, ρ, ε = group["lr"], group["rho"], group["eps"]
    g = decay_weights(θ, g, group)                     # g_k ← g_k + λ θ_k
    v, w = state["square_avg"], state["acc_delta"]     # v_{k−1}, w_{k−1}
    v.mul_(ρ).add_((1 - ρ) * g * g)                    # v_k = ρ v_{k−1} + (1 − ρ) g_k ⊙ g_k
    d = (w + ε).sqrt() / (v + ε).sqrt() * g            # d_k = √(w_{k−1} + ε) / √(v_k + ε) ⊙ g_k
    w.mul_(ρ).add_((1 - ρ) * d * d)                    # w_k = ρ w_{k−1} + (1 − ρ) d_k ⊙ d_k
    θ.sub_(η * d)                                      # θ_{k+1} = θ_k − η d_k


class Adadelta(Optimizer):
    """AdaDelta. Args: lr η (1.0 in the paper), rho ρ, eps ε, weight_decay λ."""

    lecture_rule = staticmethod(adadelta)
    state_symbols = {"square_avg": "v", "acc_delta": "w"}

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, *,
                 extensions=(), seed=None, foreach=True):
        for name, value in [("lr", lr), ("eps", eps), ("weight_decay", weight_decay)]:
            require_nonnegative(name, value)
        require("rho", rho, lambda v: (v >= 0) & (v <= 1), "0 <= rho <= 1")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        super().__init__(params, defaults, extensions=extensions, seed=seed, foreach=foreach)

    def _init_state(self, param, state, group):
        state["square_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        state["acc_delta"] = torch.zeros_like(param, memory_format=torch.preserve_format)

    def _update(self, group, params, grads, states):
        grads = apply_weight_decay(group, params, grads)
        rho, eps = group["rho"], group["eps"]
        square_avgs = [state["square_avg"] for state in states]
        acc_deltas = [state["acc_delta"] for state in states]
        _ops.mul_(square_avgs, rho)
        _ops.addcmul_(square_avgs, grads, grads, 1 - rho)
        std = _ops.added_scalar(square_avgs, eps)
        _ops.sqrt_(std)
        deltas = _ops.added_scalar(acc_deltas, eps)
        _ops.sqrt_(deltas)
        _ops.div_(deltas, std)
        _ops.mul_(deltas, grads)
        _ops.mul_(acc_deltas, rho)
        _ops.addcmul_(acc_deltas, deltas, deltas, 1 - rho)
        _ops.add_(params, deltas, -group["lr"])
