"""Adam, Adam with L2, AdamW, AMSGrad, and Adam with Nesterov momentum.

Update rule (g_k gradient, m_k / v_k first / second moment, η learning rate, β1, β2, ε, λ)::

    g_k ← g_k + λ θ_k                         (Adam + L2; AdamW instead: θ_k ← (1 − ηλ) θ_k)
    m_k = β1 m_{k−1} + (1 − β1) g_k
    v_k = β2 v_{k−1} + (1 − β2) g_k ⊙ g_k     (AMSGrad: v̂_k = max(v̂_{k−1}, v_k) in place of v_k)
    m̂_k = m_k / (1 − β1^k)
    θ_{k+1} = θ_k − η m̂_k / (√v_k / √(1 − β2^k) + ε)

With ``nesterov=True`` the first moment looks one step ahead (Dozat, 2016; nesterov_moment.py),
with momentum coefficients μ_k (μ_k = β1, or the schedule μ_k = β1 (1 − ½·0.96^{kψ}), ψ = momentum_decay)::

    m̂_k = (1 − μ_k) g_k / (1 − Π_{i≤k} μ_i) + μ_{k+1} m_k / (1 − Π_{i≤k+1} μ_i)

Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015; AdamW: Loshchilov &
Hutter, ICLR 2019; AMSGrad: Reddi, Kale & Kumar, "On the Convergence of Adam and Beyond",
ICLR 2018; Nesterov: Dozat, "Incorporating Nesterov Momentum into Adam", ICLR workshop 2016.
Same numbers as ``torch.optim.Adam`` / ``AdamW`` (and ``NAdam``, see nadam.py).
"""

from __future__ import annotations

import torch
from torch import Tensor

from . import _ops
from .base import (Optimizer, Term, apply_weight_decay, decay_weights, gradient_anatomy, require,
                   require_nonnegative)
from .nesterov_moment import look_ahead, look_ahead_weights


def adam_defaults(lr, betas, eps, weight_decay, amsgrad=False, decoupled_weight_decay=False,
                  nesterov=False, momentum_decay=None) -> dict:
    """Validated group defaults of the Adam family."""
    require_nonnegative("lr", lr)
    require("betas", betas, lambda b: len(b) == 2, "a pair (beta1, beta2)")
    for name, beta in zip(("beta1", "beta2"), betas):
        require(name, beta, lambda v: (v >= 0) & (v < 1), f"0 <= {name} < 1")
    require_nonnegative("eps", eps)
    require_nonnegative("weight_decay", weight_decay)
    if momentum_decay is not None:
        require_nonnegative("momentum_decay", momentum_decay)
        require("momentum_decay", momentum_decay, lambda _: nesterov, "None unless nesterov=True")
    return dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                decoupled_weight_decay=decoupled_weight_decay, nesterov=nesterov,
                momentum_decay=momentum_decay)


def moments(g: Tensor, state: dict, group: dict) -> tuple[Tensor, Tensor]:
    """m_k and v_k (AMSGrad: the running maximum of v_k), updated in ``state``."""
    β1, β2 = group["betas"]
    m, v = state["exp_avg"], state["exp_avg_sq"]       # m_{k−1}, v_{k−1}
    m.mul_(β1).add_((1 - β1) * g)                      # m_k = β1 m_{k−1} + (1 − β1) g_k
    v.mul_(β2).add_((1 - β2) * g * g)                  # v_k = β2 v_{k−1} + (1 − β2) g_k ⊙ g_k
    if group["amsgrad"]:
        v̂ = state["max_exp_avg_sq"]                   # v̂_{k−1} = max(v_1, …, v_{k−1})
        v = torch.maximum(v̂, v, out=v̂)                # v̂_k = max(v̂_{k−1}, v_k), used as v_k   (AMSGrad)
    return m, v


def first_moment_estimate(g: Tensor, m: Tensor, state: dict, group: dict) -> Tensor:
    """m̂_k: the bias-corrected m_k, or with nesterov=True Dozat's look-ahead (nesterov_moment.py)."""
    β1, k = group["betas"][0], state["step"]
    if group["nesterov"]:
        return look_ahead(g, m, state, group)
    return m / (1 - β1**k)                             # m̂_k = m_k / (1 − β1^k)


def adam(θ: Tensor, g: Tensor, state: dict, group: dict) -> None:
    """One Adam step on one tensor θ, in the lecture's notation (see the module docstring)."""
    η, β2, ε, k = group["lr"], group["betas"][1], group["eps"], state["step"]
    g = decay_weights(θ, g, group)                     # g_k ← g_k + λ θ_k   (AdamW: θ_k ← (1 − ηλ) θ_k)
    m, v = moments(g, state, group)                    # m_k, v_k
    m̂ = first_moment_estimate(g, m, state, group)      # m̂_k = m_k / (1 − β1^k)   (or Nesterov's look-ahead)
    θ.sub_(η * m̂ / (v.sqrt() / (1 - β2**k) ** 0.5 + ε))  # θ_{k+1} = θ_k − η m̂_k / (√v_k / √(1 − β2^k) + ε)


def adam_anatomy(θ: Tensor, g: Tensor, before: dict, after: dict, group: dict) -> list[Term]:
    """The arrows of one step of the Adam family from θ_k (see ``Optimizer.anatomy``): the
    gradient step −ηg_k, and −ηm̂_k, the step before the per-coordinate scaling (Adam divides it
    by √v_k / √(1 − β2^k) + ε; RAdam rectifies, AdaBound clips the scale). With Dozat's
    look-ahead (nesterov=True, NAdam) only −ηg_k: its m̂_k needs the μ product, not kept per step."""
    if group["nesterov"]:
        return gradient_anatomy(θ, g, before, after, group)
    η, β1, k = group["lr"], group["betas"][0], after["step"]
    θ_k = θ.clone()
    g = decay_weights(θ_k, g, group)                   # g_k ← g_k + λ θ_k   (AdamW: θ_k ← (1 − ηλ) θ_k)
    start = θ_k - θ
    m̂ = after["exp_avg"] / (1 - β1**k)                # m̂_k = m_k / (1 − β1^k)
    return [Term("gradient", "−ηgₖ: gradient step", -η * g, start),
            Term("first moment", "−ηm̂ₖ: step before ÷ √v̂ₖ per coordinate", -η * m̂, start)]


class Adam(Optimizer):
    """Adam and its variants.

    Args:
        lr: learning rate η.
        betas: (β1, β2), each in [0, 1).
        eps: ε added to the denominator.
        weight_decay: λ, as L2 (Adam + L2) or decoupled (AdamW).
        amsgrad: use the running maximum of v_k (AMSGrad).
        decoupled_weight_decay: decay the weights directly (AdamW).
        nesterov: Nesterov look-ahead first moment (Dozat).
        momentum_decay: ψ of the μ_k schedule (torch's NAdam uses 4e-3); None keeps μ_k = β1.
        extensions, seed, foreach: see ``landscape.optim.base.Optimizer``.
    """

    lecture_rule = staticmethod(adam)
    state_symbols = {"exp_avg": "m", "exp_avg_sq": "v", "max_exp_avg_sq": "v̂"}
    anatomy = staticmethod(adam_anatomy)

    #: A subclass's own hyper-parameters (AdaBound's final_lr and gamma), validated and set by its
    #: ``__init__`` before it calls this one: they join the group defaults after Adam's.
    _own_defaults: dict = {}

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, decoupled_weight_decay=False, nesterov=False, momentum_decay=None,
                 *, extensions=(), seed=None, foreach=True):
        defaults = adam_defaults(lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay,
                                 nesterov, momentum_decay)
        super().__init__(params, defaults | self._own_defaults, extensions=extensions, seed=seed,
                         foreach=foreach)

    def _init_state(self, param, state, group):
        state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        if group["nesterov"]:
            state["mu_product"] = 1.0

    def _update(self, group, params, grads, states):
        grads = apply_weight_decay(group, params, grads)
        beta1, beta2 = group["betas"]
        exp_avgs = [state["exp_avg"] for state in states]
        exp_avg_sqs = [state["exp_avg_sq"] for state in states]
        _ops.lerp_(exp_avgs, grads, 1 - beta1)
        _ops.mul_(exp_avg_sqs, beta2)
        _ops.addcmul_(exp_avg_sqs, grads, grads, 1 - beta2)
        if group["amsgrad"]:
            max_exp_avg_sqs = [state["max_exp_avg_sq"] for state in states]
            torch._foreach_maximum_(max_exp_avg_sqs, exp_avg_sqs)
            exp_avg_sqs = max_exp_avg_sqs
        terms = self._first_moment_terms(group, grads, exp_avgs, states)
        del grads  # free a weight-decayed copy before _apply allocates: lower peak memory
        self._apply(group, params, exp_avg_sqs, terms, [state["step"] for state in states])

    @staticmethod
    def _first_moment_terms(group, grads, exp_avgs, states):
        """The bias-corrected first moment m̂_k as a sum of terms Σ c_i x_i: [(c, x), ...].

        The coefficients c are per-parameter lists; folding them into the final multi-tensor
        op keeps plain Adam at exactly torch's op count.
        """
        beta1 = group["betas"][0]
        steps = [state["step"] for state in states]
        if not group["nesterov"]:
            return [(_ops.per_step(lambda k: 1 / (1 - beta1**k), steps), exp_avgs)]
        grad_coefficients, moment_coefficients = zip(*(look_ahead_weights(state, group) for state in states))
        return [(grad_coefficients, grads), (moment_coefficients, exp_avgs)]

    def _apply(self, group, params, exp_avg_sqs, terms, steps):
        """θ ← θ − η Σ c_i x_i / (√v_k / √(1 − β2^k) + ε)"""
        beta2, lr = group["betas"][1], group["lr"]
        denominators = _ops.sqrt(exp_avg_sqs)
        _ops.div_(denominators, _ops.per_step(lambda k: (1 - beta2**k) ** 0.5, steps))
        _ops.add_scalar_(denominators, group["eps"])
        for coefficients, tensors in terms:
            _ops.addcdiv_(params, tensors, denominators, [-lr * c for c in coefficients])


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): θ_k ← (1 − ηλ) θ_k."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, nesterov=False, *, extensions=(), seed=None, foreach=True):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True,
                         nesterov=nesterov, extensions=extensions, seed=seed, foreach=foreach)


class AMSGrad(Adam):
    """Adam with the running maximum of the second moment (Reddi et al., 2018)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False, nesterov=False, *, extensions=(), seed=None,
                 foreach=True):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad=True,
                         decoupled_weight_decay=decoupled_weight_decay, nesterov=nesterov,
                         extensions=extensions, seed=seed, foreach=foreach)
