"""RMSprop, plain and centered, with optional momentum.

Update rule (g_k gradient, v_k mean square, m_k mean gradient, u_k velocity, α smoothing,
β momentum, η learning rate, ε, λ)::

    g_k ← g_k + λ θ_k
    v_k = α v_{k−1} + (1 − α) g_k ⊙ g_k
    s_k = √v_k + ε                    centered: m_k = α m_{k−1} + (1 − α) g_k,  s_k = √(v_k − m_k²) + ε
    β > 0:  u_k = β u_{k−1} + g_k / s_k,   θ_{k+1} = θ_k − η u_k
    β = 0:  θ_{k+1} = θ_k − η g_k / s_k

Tieleman & Hinton, Lecture 6.5 of "Neural Networks for Machine Learning", 2012; centered:
Graves, "Generating Sequences With Recurrent Neural Networks", 2013. Same numbers as
``torch.optim.RMSprop``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from . import _ops
from .base import (Optimizer, Term, apply_weight_decay, decay_weights, is_zero, require_nonnegative,
                   require_probability_below_one)


def rmsprop(θ: Tensor, g: Tensor, state: dict, group: dict) -> None:
    """One RMSprop step on one tensor θ, in the lecture's notation (see the module docstring)."""
    η, α, ε, β = group["lr"], group["alpha"], group["eps"], group["momentum"]
    g = decay_weights(θ, g, group)                     # g_k ← g_k + λ θ_k
    v = state["square_avg"]                            # v_{k−1}
    v.mul_(α).add_((1 - α) * g * g)                    # v_k = α v_{k−1} + (1 − α) g_k ⊙ g_k
    if group["centered"]:
        m = state["grad_avg"]                          # m_{k−1}
        m.mul_(α).add_((1 - α) * g)                    # m_k = α m_{k−1} + (1 − α) g_k
        s = (v - m * m).sqrt() + ε                     # s_k = √(v_k − m_k²) + ε
    else:
        s = v.sqrt() + ε                               # s_k = √v_k + ε
    if is_zero(β):
        θ.sub_(η * g / s)                              # θ_{k+1} = θ_k − η g_k / s_k
    else:
        u = state["momentum_buffer"]                   # u_{k−1}
        u.mul_(β).add_(g / s)                          # u_k = β u_{k−1} + g_k / s_k
        θ.sub_(η * u)                                  # θ_{k+1} = θ_k − η u_k


def rmsprop_anatomy(θ: Tensor, g: Tensor, before: dict, after: dict, group: dict) -> list[Term]:
    """The arrows of one RMSprop step from θ_k (see ``Optimizer.anatomy``): the gradient step
    −ηg_k before the per-coordinate division by s_k; with momentum β > 0 also the momentum term
    −ηβu_{k−1} from θ_k and, from its head, the scaled gradient −ηg_k / s_k, ending at θ_{k+1}."""
    η, ε, β = group["lr"], group["eps"], group["momentum"]
    θ_k = θ.clone()
    g = decay_weights(θ_k, g, group)                   # g_k ← g_k + λ θ_k
    start = θ_k - θ
    terms = [Term("gradient", "−ηgₖ: gradient step, before ÷ sₖ", -η * g, start)]
    if "momentum_buffer" in after:
        v, u_before = after["square_avg"], before["momentum_buffer"]  # v_k, u_{k−1}
        if group["centered"]:
            m = after["grad_avg"]                      # m_k
            s = (v - m * m).sqrt() + ε                 # s_k = √(v_k − m_k²) + ε
        else:
            s = v.sqrt() + ε                           # s_k = √v_k + ε
        terms += [Term("momentum", "−ηβuₖ₋₁: momentum term", -η * β * u_before, start),
                  Term("scaled gradient", "−ηgₖ ÷ sₖ: scaled gradient", -η * g / s, start - η * β * u_before)]
    return terms


class RMSprop(Optimizer):
    """RMSprop. Args: lr η, alpha α, eps ε, weight_decay λ, momentum β, centered."""

    lecture_rule = staticmethod(rmsprop)
    state_symbols = {"square_avg": "v", "grad_avg": "m", "momentum_buffer": "u"}
    anatomy = staticmethod(rmsprop_anatomy)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, extensions=(), seed=None, foreach=True):
        for name, value in [("lr", lr), ("eps", eps), ("weight_decay", weight_decay)]:
            require_nonnegative(name, value)
        require_probability_below_one("alpha", alpha)
        require_probability_below_one("momentum", momentum)
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered)
        super().__init__(params, defaults, extensions=extensions, seed=seed, foreach=foreach)

    def _init_state(self, param, state, group):
        state["square_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        if not is_zero(group["momentum"]):
            state["momentum_buffer"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        if group["centered"]:
            state["grad_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)

    def _update(self, group, params, grads, states):
        grads = apply_weight_decay(group, params, grads)
        alpha = group["alpha"]
        square_avgs = [state["square_avg"] for state in states]
        _ops.mul_(square_avgs, alpha)
        _ops.addcmul_(square_avgs, grads, grads, 1 - alpha)
        if group["centered"]:
            grad_avgs = [state["grad_avg"] for state in states]
            _ops.lerp_(grad_avgs, grads, 1 - alpha)
            scale = list(torch._foreach_addcmul(square_avgs, grad_avgs, grad_avgs, value=-1.0))
            torch._foreach_sqrt_(scale)
        else:
            scale = _ops.sqrt(square_avgs)
        _ops.add_scalar_(scale, group["eps"])
        if is_zero(group["momentum"]):
            _ops.addcdiv_(params, grads, scale, -group["lr"])
        else:
            velocities = [state["momentum_buffer"] for state in states]
            _ops.mul_(velocities, group["momentum"])
            _ops.addcdiv_(velocities, grads, scale)
            _ops.add_(params, velocities, -group["lr"])
