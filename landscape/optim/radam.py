"""RAdam and RAdamW: Adam with the variance of the adaptive learning rate rectified.

Update rule (g_k gradient, m_k / v_k moments, η, β1, β2, ε, λ)::

    m_k, v_k as in Adam;   m̂_k = m_k / (1 − β1^k)
    ρ_∞ = 2 / (1 − β2) − 1,   ρ_k = ρ_∞ − 2k β2^k / (1 − β2^k)
    ρ_k > 5:  r_k = √[(ρ_k − 4)(ρ_k − 2) ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2) ρ_k)]
              θ_{k+1} = θ_k − η r_k m̂_k √(1 − β2^k) / (√v_k + ε)
    ρ_k ≤ 5:  θ_{k+1} = θ_k − η m̂_k                 (momentum SGD while the variance is unknown)

The threshold 5 is the authors' code's and torch's (the paper states ρ_k > 4).

RAdamW decouples the weight decay (θ_k ← (1 − ηλ) θ_k); ``nesterov=True`` uses Dozat's
look-ahead m̂_k (nesterov_moment.py). Liu et al., "On the Variance of the Adaptive Learning
Rate and Beyond", ICLR 2020. Same numbers as ``torch.optim.RAdam`` (incl. decoupled_weight_decay).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from . import _ops
from .adam import Adam, first_moment_estimate, moments
from .base import decay_weights


def rectification(beta2, k: int):
    """r_k, or 0 where ρ_k ≤ 5 (a number, or a tensor for a tensor β2)."""
    rho_inf = 2 / (1 - beta2) - 1
    rho = rho_inf - 2 * k * beta2**k / (1 - beta2**k)
    if not isinstance(rho, Tensor) and rho <= 5:  # before the ratio: at β2 = 0.6, ρ_∞ − 4 = 0
        return 0.0
    ratio = (rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)
    if isinstance(rho, Tensor):  # where ρ_k ≤ 5 the ratio may be inf or NaN: where() drops it
        return torch.where(rho > 5, ratio.clamp(min=0).sqrt(), 0.0)
    return math.sqrt(ratio)


def radam(θ: Tensor, g: Tensor, state: dict, group: dict) -> None:
    """One RAdam step on one tensor θ, in the lecture's notation (see the module docstring)."""
    η, β2, ε, k = group["lr"], group["betas"][1], group["eps"], state["step"]
    g = decay_weights(θ, g, group)                     # g_k ← g_k + λ θ_k   (RAdamW: θ_k ← (1 − ηλ) θ_k)
    m, v = moments(g, state, group)                    # m_k, v_k as in Adam
    m̂ = first_moment_estimate(g, m, state, group)      # m̂_k = m_k / (1 − β1^k)   (or Nesterov's look-ahead)
    ρ_inf = 2 / (1 - β2) - 1                           # ρ_∞ = 2 / (1 − β2) − 1
    ρ = ρ_inf - 2 * k * β2**k / (1 - β2**k)            # ρ_k = ρ_∞ − 2k β2^k / (1 − β2^k)

    def rectified_step():  # for ρ_k > 5
        # r_k = √[(ρ_k − 4)(ρ_k − 2) ρ_∞ / ((ρ_∞ − 4)(ρ_∞ − 2) ρ_k)]
        r = ((ρ - 4) * (ρ - 2) * ρ_inf / ((ρ_inf - 4) * (ρ_inf - 2) * ρ)) ** 0.5
        return η * r * m̂ * (1 - β2**k) ** 0.5 / (v.sqrt() + ε)  # η r_k m̂_k √(1 − β2^k) / (√v_k + ε)

    if not isinstance(ρ, Tensor) and ρ > 5:  # the adaptive learning rate's variance is tractable
        θ.sub_(rectified_step())                       # θ_{k+1} = θ_k − η r_k m̂_k √(1 − β2^k) / (√v_k + ε)
    elif not isinstance(ρ, Tensor):  # ρ_k ≤ 5: momentum SGD while the variance is unknown
        θ.sub_(η * m̂)                                  # θ_{k+1} = θ_k − η m̂_k
    else:  # a tensor β2 holds several settings (rows): each row takes its branch of the two above
        θ.sub_(torch.where(ρ > 5, rectified_step(), η * m̂))


class RAdam(Adam):
    """RAdam. Args: lr η, betas (β1, β2), eps ε, weight_decay λ, decoupled_weight_decay
    (RAdamW), nesterov."""

    lecture_rule = staticmethod(radam)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False, nesterov=False, *, extensions=(), seed=None,
                 foreach=True):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad=False,
                         decoupled_weight_decay=decoupled_weight_decay, nesterov=nesterov,
                         extensions=extensions, seed=seed, foreach=foreach)

    def _apply(self, group, params, exp_avg_sqs, terms, steps):
        """θ ← θ − η Σ c_i x_i · s, with s = r_k √(1 − β2^k) / (√v_k + ε), or s = 1 where r_k = 0."""
        beta2, lr = group["betas"][1], group["lr"]
        rectified = _ops.per_step(lambda k: rectification(beta2, k), steps)
        scale = _ops.sqrt(exp_avg_sqs)
        _ops.add_scalar_(scale, group["eps"])
        _ops.div_(scale, [r * (1 - beta2**k) ** 0.5 for r, k in zip(rectified, steps)])
        torch._foreach_reciprocal_(scale)  # r_k = 0: 1 / inf = 0, and the next line adds 1
        _ops.add_scalar_(scale, [(r == 0) * 1.0 if not isinstance(r, Tensor) else (r == 0).to(r.dtype)
                                 for r in rectified])
        for coefficients, tensors in terms:
            _ops.addcmul_(params, scale, tensors, [-lr * c for c in coefficients])


class RAdamW(RAdam):
    """RAdam with decoupled weight decay."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 nesterov=False, *, extensions=(), seed=None, foreach=True):
        super().__init__(params, lr, betas, eps, weight_decay, decoupled_weight_decay=True,
                         nesterov=nesterov, extensions=extensions, seed=seed, foreach=foreach)
