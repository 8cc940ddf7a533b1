"""Gradient descent, SGD, heavy-ball momentum, Nesterov momentum, SGDW.

Update rule (course notation; g_k gradient, u_k velocity, η learning rate, β momentum,
τ dampening, λ weight decay)::

    g_k ← g_k + λ θ_k                        (weight decay as L2; SGDW instead: θ_k ← (1 − ηλ) θ_k)
    u_k = β u_{k−1} + (1 − τ) g_k            (u_1 = g_1; no velocity when β = 0)
    d_k = g_k + β u_k   (Nesterov)   or   d_k = u_k   (heavy ball)   or   d_k = g_k   (β = 0)
    θ_{k+1} = θ_k − η d_k

Gradient descent and SGD are the same rule: GD uses the full-batch gradient, SGD a minibatch
gradient. Same numbers as ``torch.optim.SGD``; SGDW follows Loshchilov & Hutter,
"Decoupled Weight Decay Regularization", ICLR 2019. Nesterov: Sutskever et al., ICML 2013.
"""

from __future__ import annotations

from torch import Tensor

from . import _ops
from .base import (Optimizer, Term, apply_weight_decay, decay_weights, is_zero, require,
                   require_nonnegative)


def sgd(θ: Tensor, g: Tensor, state: dict, group: dict) -> None:
    """One SGD step on one tensor θ, in the lecture's notation (see the module docstring)."""
    η, β, τ = group["lr"], group["momentum"], group["dampening"]
    g = decay_weights(θ, g, group)                     # g_k ← g_k + λ θ_k   (SGDW: θ_k ← (1 − ηλ) θ_k)
    if is_zero(β):
        d = g                                          # d_k = g_k               (no velocity)
    else:
        if "momentum_buffer" not in state:  # torch's "momentum_buffer" holds u
            u = state["momentum_buffer"] = g.clone()   # u_1 = g_1
        else:
            u = state["momentum_buffer"]               # u_{k−1}
            u.mul_(β).add_((1 - τ) * g)                # u_k = β u_{k−1} + (1 − τ) g_k
        if group["nesterov"]:
            d = g + β * u                              # d_k = g_k + β u_k       (Nesterov)
        else:
            d = u                                      # d_k = u_k               (heavy ball)
    θ.sub_(η * d)                                      # θ_{k+1} = θ_k − η d_k


def sgd_anatomy(θ: Tensor, g: Tensor, before: dict, after: dict, group: dict) -> list[Term]:
    """The arrows of one SGD step from θ_k, as a lecture draws them (see ``Optimizer.anatomy``).

    Heavy ball: the momentum term −ηβu_{k−1} from θ_k, then the gradient step −η(1 − τ)g_k from
    its head: together θ_{k+1} − θ_k = −ηu_k. Nesterov (torch's form): θ_k is Sutskever's
    look-ahead point, where g_k is taken; his parameter, the base point, is θ_k + ηβu_{k−1}. From
    there: the jump −ηβu_{k−1} to θ_k, the gradient step −ηg_k, which ends at the next base point,
    and the next jump −ηβu_k, which ends at θ_{k+1}. Without a velocity: −ηg_k."""
    η, β, τ, k = group["lr"], group["momentum"], group["dampening"], after["step"]
    θ_k = θ.clone()
    g = decay_weights(θ_k, g, group)                   # g_k ← g_k + λ θ_k   (SGDW: θ_k ← (1 − ηλ) θ_k)
    start = θ_k - θ                                    # the arrows start at θ_k (SGDW: decayed)
    if "momentum_buffer" not in after:
        return [Term("gradient", "−ηgₖ: gradient step", -η * g, start)]
    u_before, u = before["momentum_buffer"], after["momentum_buffer"]  # u_{k−1} (0 at the start), u_k
    if group["nesterov"]:
        base = start + η * β * u_before                # θ_k + ηβu_{k−1}: the base point
        return [Term("momentum", "−ηβuₖ₋₁: base point → look-ahead θₖ", -η * β * u_before, base),
                Term("gradient", "−ηgₖ: gradient step at θₖ", -η * g, start),
                Term("next momentum", "−ηβuₖ: next look-ahead, θₖ₊₁", -η * β * u, start - η * g)]
    fresh = g - (k > 1) * (τ * g)                      # (1 − τ) g_k; u_1 = g_1 undamped
    label = "−ηgₖ: gradient step" if is_zero(τ) else "−η(1−τ)gₖ: gradient step"
    return [Term("momentum", "−ηβuₖ₋₁: momentum term", -η * β * u_before, start),
            Term("gradient", label, -η * fresh, start - η * β * u_before)]


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum and weight decay.

    Args:
        lr: learning rate η.
        momentum: β in [0, 1); 0 is plain (stochastic) gradient descent.
        dampening: τ in [0, 1], the share of the gradient kept out of the velocity.
        nesterov: use Nesterov momentum (needs β > 0 and τ = 0).
        weight_decay: λ.
        decoupled_weight_decay: decay the weights directly (SGDW) instead of adding λθ to g.
        extensions, seed, foreach: see ``landscape.optim.base.Optimizer``.
    """

    lecture_rule = staticmethod(sgd)
    state_symbols = {"momentum_buffer": "u"}
    anatomy = staticmethod(sgd_anatomy)

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False,
                 weight_decay=0.0, decoupled_weight_decay=False, *, extensions=(), seed=None,
                 foreach=True):
        require_nonnegative("lr", lr)
        require("momentum", momentum, lambda v: (v >= 0) & (v < 1), "0 <= momentum < 1")
        require("dampening", dampening, lambda v: (v >= 0) & (v <= 1), "0 <= dampening <= 1")
        require_nonnegative("weight_decay", weight_decay)
        if nesterov:
            require("momentum", momentum, lambda v: v > 0 if not isinstance(v, Tensor) else (v > 0).any(),
                    "momentum > 0 with nesterov=True")
            require("dampening", dampening, is_zero, "dampening = 0 with nesterov=True")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                        weight_decay=weight_decay, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults, extensions=extensions, seed=seed, foreach=foreach)

    def _update(self, group, params, grads, states):
        grads = apply_weight_decay(group, params, grads)
        lr, momentum = group["lr"], group["momentum"]
        if is_zero(momentum):
            _ops.add_(params, grads, -lr)
            return
        velocities = self._advance_velocities(group, grads, states)
        if group["nesterov"]:  # θ − η (g + β u), as two in-place adds: no new tensors
            _ops.add_(params, grads, -lr)
            _ops.add_(params, velocities, -lr * momentum)
        else:
            _ops.add_(params, velocities, -lr)

    @staticmethod
    def _advance_velocities(group, grads, states):
        """u_k = β u_{k−1} + (1 − τ) g_k, with u_1 = g_1."""
        advancing, advancing_grads = [], []
        for state, grad in zip(states, grads):
            if "momentum_buffer" in state:
                advancing.append(state["momentum_buffer"])
                advancing_grads.append(grad)
            else:
                state["momentum_buffer"] = grad.detach().clone()
        if advancing:
            _ops.mul_(advancing, group["momentum"])
            _ops.add_(advancing, advancing_grads, 1 - group["dampening"])
        return [state["momentum_buffer"] for state in states]


class SGDW(SGD):
    """SGD with decoupled weight decay (Loshchilov & Hutter, 2019): θ_k ← (1 − ηλ) θ_k."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False,
                 weight_decay=1e-2, *, extensions=(), seed=None, foreach=True):
        super().__init__(params, lr, momentum, dampening, nesterov, weight_decay,
                         decoupled_weight_decay=True, extensions=extensions, seed=seed,
                         foreach=foreach)
