"""AdaBound and AMSBound: Adam whose per-coordinate step size is clipped into a band that
narrows towards a final SGD learning rate.

Update rule (g_k gradient, m_k / v_k moments, η, β1, β2, ε, η* final lr, γ, λ)::

    m_k, v_k as in Adam (AMSBound: v̂_k = max(v̂_{k−1}, v_k) in place of v_k)
    η_l(k) = η* (1 − 1 / (γk + 1)),   η_u(k) = η* (1 + 1 / (γk))
    s_k = clip(η √(1 − β2^k) / ((1 − β1^k)(√v_k + ε)), η_l(k), η_u(k))
    θ_{k+1} = θ_k − s_k ⊙ m_k

η* follows the learning rate: η* = final_lr · η / η_0 when a scheduler changes η, as in the
authors' implementation. Luo, Xiong, Liu & Sun, "Adaptive Gradient Methods with Dynamic Bound
of Learning Rate", ICLR 2019.
"""

from __future__ import annotations

import torch
from torch import Tensor

from . import _ops
from .adam import Adam, moments
from .base import decay_weights, require, require_nonnegative


def final_learning_rate(final_lr, lr, initial_lr):
    """η* = final_lr · η / η_0, the bounds' target following a scheduler's changes of η.

    Where η_0 = 0: η* = 0 while η = 0 (both bounds 0, so lr 0 leaves θ unchanged, as in every
    other rule), else final_lr. Numbers or tensors (a (B, 1) lr with some rows 0)."""
    if isinstance(lr, Tensor) or isinstance(initial_lr, Tensor):
        target = final_lr * lr / initial_lr  # 0 / 0 = NaN where η = η_0 = 0; x / 0 = inf
        return torch.where(torch.isposinf(target), final_lr, target.nan_to_num(nan=0.0))
    if initial_lr == 0:
        return final_lr if lr != 0 else 0.0
    return final_lr * lr / initial_lr


def adabound(θ: Tensor, g: Tensor, state: dict, group: dict) -> None:
    """One AdaBound step on one tensor θ, in the lecture's notation (see the module docstring)."""
    η, (β1, β2), ε, γ, k = group["lr"], group["betas"], group["eps"], group["gamma"], state["step"]
    η_0 = group["initial_lr_of_bounds"]                # η_0, the learning rate the bounds were set for
    η_final = final_learning_rate(group["final_lr"], η, η_0)  # η* = final_lr · η / η_0
    g = decay_weights(θ, g, group)                     # g_k ← g_k + λ θ_k   (decoupled: θ_k ← (1 − ηλ) θ_k)
    m, v = moments(g, state, group)                    # m_k, v_k as in Adam   (AMSBound: running max of v_k)
    η_l = η_final * (1 - 1 / (γ * k + 1))              # η_l(k) = η* (1 − 1 / (γk + 1))
    η_u = η_final * (1 + 1 / (γ * k))                  # η_u(k) = η* (1 + 1 / (γk))
    s = η * (1 - β2**k) ** 0.5 / ((1 - β1**k) * (v.sqrt() + ε))  # η √(1 − β2^k) / ((1 − β1^k)(√v_k + ε))
    s = s.clamp(η_l, η_u)                              # s_k = clip(…, η_l(k), η_u(k))
    θ.sub_(s * m)                                      # θ_{k+1} = θ_k − s_k ⊙ m_k


class AdaBound(Adam):
    """AdaBound. Args: lr η, betas (β1, β2), final_lr η*, gamma γ, eps ε, weight_decay λ,
    amsbound (AMSBound), decoupled_weight_decay."""

    lecture_rule = staticmethod(adabound)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), final_lr=0.1, gamma=1e-3, eps=1e-8,
                 weight_decay=0.0, amsbound=False, decoupled_weight_decay=False, *,
                 extensions=(), seed=None, foreach=True):
        require_nonnegative("final_lr", final_lr)
        require("gamma", gamma, lambda v: v > 0, "gamma > 0")
        self._own_defaults = {"final_lr": final_lr, "gamma": gamma}
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad=amsbound,
                         decoupled_weight_decay=decoupled_weight_decay, extensions=extensions,
                         seed=seed, foreach=foreach)

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        self.param_groups[-1].setdefault("initial_lr_of_bounds", self.param_groups[-1]["lr"])

    def _apply(self, group, params, exp_avg_sqs, terms, steps):
        """θ ← θ − clip(η c √(1 − β2^k) / (√v_k + ε), η_l, η_u) ⊙ m_k  (c = 1 / (1 − β1^k))."""
        ((coefficients, exp_avgs),) = terms
        beta2, lr, gamma = group["betas"][1], group["lr"], group["gamma"]
        final_lr = final_learning_rate(group["final_lr"], lr, group["initial_lr_of_bounds"])
        step_sizes = _ops.sqrt(exp_avg_sqs)
        _ops.add_scalar_(step_sizes, group["eps"])
        torch._foreach_reciprocal_(step_sizes)
        _ops.mul_(step_sizes, [lr * c * (1 - beta2**k) ** 0.5 for c, k in zip(coefficients, steps)])
        _ops.clamp_(step_sizes,
                    _ops.per_step(lambda k: final_lr * (1 - 1 / (gamma * k + 1)), steps),
                    _ops.per_step(lambda k: final_lr * (1 + 1 / (gamma * k)), steps))
        _ops.addcmul_(params, step_sizes, exp_avgs, -1.0)


class AMSBound(AdaBound):
    """AdaBound on the running maximum of v_k."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), final_lr=0.1, gamma=1e-3, eps=1e-8,
                 weight_decay=0.0, decoupled_weight_decay=False, *, extensions=(), seed=None,
                 foreach=True):
        super().__init__(params, lr, betas, final_lr, gamma, eps, weight_decay, amsbound=True,
                         decoupled_weight_decay=decoupled_weight_decay, extensions=extensions,
                         seed=seed, foreach=foreach)
