"""Dozat's Nesterov look-ahead first moment m̂_k, shared by NAdam and by Adam and RAdam with
``nesterov=True``.

Rule (g_k gradient, m_k first moment, β1, ψ momentum decay, k the step)::

    μ_k = β1 (1 − ½·0.96^{kψ})     (momentum warms up towards β1; μ_k = β1 with no schedule, ψ = None)
    m̂_k = (1 − μ_k) g_k / (1 − Π_{i≤k} μ_i) + μ_{k+1} m_k / (1 − Π_{i≤k+1} μ_i)

The first moment looks one step ahead: m_k's weight is the next step's momentum μ_{k+1}, and the
fresh gradient g_k's weight is what μ_k leaves it, each debiased by the product of the
coefficients so far. The product Π_{i≤k} μ_i is kept in the state as torch does
(``mu_product``). Dozat, "Incorporating Nesterov Momentum into Adam", ICLR workshop 2016, with
the schedule of Sutskever et al., ICML 2013, as in ``torch.optim.NAdam``.
"""

from __future__ import annotations

from torch import Tensor


def momentum_schedule(β1, ψ, k: int):
    """μ_k = β1 (1 − ½·0.96^{kψ}), warming up towards β1; μ_k = β1 with no schedule (ψ = None)."""
    if ψ is None:
        return β1
    return β1 * (1.0 - 0.5 * 0.96 ** (k * ψ))


def look_ahead_weights(state: dict, group: dict) -> tuple:
    """The weights a_k of g_k and b_k of m_k in the look-ahead m̂_k = a_k g_k + b_k m_k; multiplies
    μ_k into the product Π_{i≤k} μ_i, kept in ``state["mu_product"]`` as torch does."""
    β1, ψ, k = group["betas"][0], group["momentum_decay"], state["step"]
    μ_k = momentum_schedule(β1, ψ, k)                  # μ_k = β1 (1 − ½·0.96^{kψ})
    μ_next = momentum_schedule(β1, ψ, k + 1)           # μ_{k+1}
    Π = state["mu_product"] = state["mu_product"] * μ_k  # Π_{i≤k} μ_i = Π_{i≤k−1} μ_i · μ_k
    a = (1.0 - μ_k) / (1.0 - Π)                        # a_k = (1 − μ_k) / (1 − Π_{i≤k} μ_i)
    b = μ_next / (1.0 - Π * μ_next)                    # b_k = μ_{k+1} / (1 − Π_{i≤k+1} μ_i)
    return a, b


def look_ahead(g: Tensor, m: Tensor, state: dict, group: dict) -> Tensor:
    """Dozat's look-ahead first moment m̂_k (NAdam; Adam and RAdam with nesterov=True)."""
    a, b = look_ahead_weights(state, group)            # a_k, b_k
    return a * g + b * m                               # m̂_k = a_k g_k + b_k m_k
