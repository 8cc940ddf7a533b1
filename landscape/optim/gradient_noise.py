"""Gradient noise: annealed Gaussian noise added to the gradient before any rule sees it.

    g_k ← g_k + ε_k,   ε_k ~ N(0, σ_k² I),   σ_k² = η_noise / (1 + t)^γ,   t = k − 1

Neelakantan et al., "Adding Gradient Noise Improves Learning for Very Deep Networks", 2015
(η_noise ∈ {0.01, 0.3, 1.0}, γ = 0.55 in the paper).
"""

from __future__ import annotations

from . import _ops
from .base import Extension, GroupStep, require_nonnegative


class GradientNoise(Extension):
    """Args: eta η_noise (variance at t = 0, number or broadcastable tensor), gamma γ (decay)."""

    name = "gradnoise"
    anatomy_note = "gₖ is the gradient before its noise; the state and the step taken include the noise"

    def __init__(self, eta: float = 0.01, gamma: float = 0.55):
        require_nonnegative("noise_eta", eta)
        require_nonnegative("noise_gamma", gamma)
        self.eta = eta
        self.gamma = gamma

    def gradients(self, step: GroupStep):
        noise = [step.random.randn_like(g) for g in step.grads]
        _ops.mul_(noise, _ops.per_step(lambda k: (self.eta / k**self.gamma) ** 0.5, step.steps))
        return _ops.added(step.grads, noise)
