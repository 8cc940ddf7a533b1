"""AggMo: aggregated momentum, K heavy-ball velocities with different damping averaged.

Update rule (g_k gradient, u_k^(i) velocity i of K, β^(i) its damping, η learning rate, λ)::

    g_k ← g_k + λ θ_k
    u_k^(i) = β^(i) u_{k−1}^(i) + g_k          for i = 1 … K   (u_0^(i) = 0)
    θ_{k+1} = θ_k − (η / K) Σ_i u_k^(i)

The small β^(i) damp the oscillations that the large ones build up. Lucas, Sun, Zemel &
Grosse, "Aggregated Momentum: Stability Through Passive Damping", ICLR 2019 (defaults
β = (0, 0.9, 0.99) as in the paper).
"""

from __future__ import annotations

import torch
from torch import Tensor

from . import _ops
from .base import Optimizer, apply_weight_decay, decay_weights, require, require_nonnegative


def aggmo(θ: Tensor, g: Tensor, state: dict, group: dict) -> None:
    """One AggMo step on one tensor θ, in the lecture's notation (see the module docstring)."""
    η, βs = group["lr"], group["betas"]
    K = len(βs)                                        # K velocities
    g = decay_weights(θ, g, group)                     # g_k ← g_k + λ θ_k
    u = state["velocities"]                            # u_{k−1}^(1), …, u_{k−1}^(K)
    for i in range(K):
        u[i].mul_(βs[i]).add_(g)                       # u_k^(i) = β^(i) u_{k−1}^(i) + g_k
    θ.sub_(η / K * sum(u))                             # θ_{k+1} = θ_k − (η / K) Σ_i u_k^(i)


class AggMo(Optimizer):
    """AggMo. Args: lr η, betas (β^(1), …, β^(K)), each in [0, 1), weight_decay λ."""

    lecture_rule = staticmethod(aggmo)

    def __init__(self, params, lr=0.1, betas=(0.0, 0.9, 0.99), weight_decay=0.0, *,
                 extensions=(), seed=None, foreach=True):
        require_nonnegative("lr", lr)
        require("betas", betas, lambda b: len(b) >= 1, "at least one damping value")
        for i, beta in enumerate(betas):
            require(f"betas[{i}]", beta, lambda v: (v >= 0) & (v < 1), "0 <= beta < 1")
        require_nonnegative("weight_decay", weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), weight_decay=weight_decay)
        super().__init__(params, defaults, extensions=extensions, seed=seed, foreach=foreach)

    def _init_state(self, param, state, group):
        state["velocities"] = [torch.zeros_like(param, memory_format=torch.preserve_format)
                               for _ in group["betas"]]

    def _update(self, group, params, grads, states):
        grads = apply_weight_decay(group, params, grads)
        betas = group["betas"]
        for i, beta in enumerate(betas):
            velocities = [state["velocities"][i] for state in states]
            _ops.mul_(velocities, beta)
            _ops.add_(velocities, grads)
            _ops.add_(params, velocities, -group["lr"] / len(betas))
