"""NAdam: Adam with Nesterov momentum and a warming momentum schedule (Dozat, 2016).

Update rule (g_k gradient, m_k / v_k moments, η, β1, β2, ε, ψ momentum decay, λ)::

    μ_k = β1 (1 − ½·0.96^{kψ})                       (momentum warms up towards β1)
    m_k = β1 m_{k−1} + (1 − β1) g_k,   v_k = β2 v_{k−1} + (1 − β2) g_k ⊙ g_k
    θ_{k+1} = θ_k − η [ (1 − μ_k) g_k / (1 − Π_{i≤k} μ_i) + μ_{k+1} m_k / (1 − Π_{i≤k+1} μ_i) ]
                      / (√(v_k / (1 − β2^k)) + ε)

NAdamW decouples the weight decay: θ_k ← (1 − ηλ) θ_k. Dozat, "Incorporating Nesterov Momentum
into Adam", ICLR workshop 2016, with the schedule of Sutskever et al. 2013 as in torch.
It is ``Adam(nesterov=True, momentum_decay=ψ)``; same numbers as ``torch.optim.NAdam``. The
look-ahead m̂_k is nesterov_moment.py's, shared with Adam and RAdam with ``nesterov=True``.
"""

from __future__ import annotations

from torch import Tensor

from .adam import Adam, moments
from .base import decay_weights
from .nesterov_moment import look_ahead


def nadam(θ: Tensor, g: Tensor, state: dict, group: dict) -> None:
    """One NAdam step on one tensor θ, in the lecture's notation (see the module docstring)."""
    η, β2, ε, k = group["lr"], group["betas"][1], group["eps"], state["step"]
    g = decay_weights(θ, g, group)                     # g_k ← g_k + λ θ_k   (NAdamW: θ_k ← (1 − ηλ) θ_k)
    m, v = moments(g, state, group)                    # m_k, v_k as in Adam
    m̂ = look_ahead(g, m, state, group)                 # m̂_k, Dozat's look-ahead with μ_k and Π_{i≤k} μ_i
    θ.sub_(η * m̂ / ((v / (1 - β2**k)).sqrt() + ε))     # θ_{k+1} = θ_k − η m̂_k / (√(v_k / (1 − β2^k)) + ε)


class NAdam(Adam):
    """NAdam. Args: lr η, betas (β1, β2), eps ε, weight_decay λ, momentum_decay ψ,
    decoupled_weight_decay (NAdamW)."""

    lecture_rule = staticmethod(nadam)

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, extensions=(), seed=None,
                 foreach=True):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad=False,
                         decoupled_weight_decay=decoupled_weight_decay, nesterov=True,
                         momentum_decay=momentum_decay, extensions=extensions, seed=seed,
                         foreach=foreach)


class NAdamW(NAdam):
    """NAdam with decoupled weight decay."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 momentum_decay=4e-3, *, extensions=(), seed=None, foreach=True):
        super().__init__(params, lr, betas, eps, weight_decay, momentum_decay,
                         decoupled_weight_decay=True, extensions=extensions, seed=seed,
                         foreach=foreach)
