"""What theory says about gradient descent and heavy-ball momentum on a quadratic.

On f(θ) = ½ θᵀ A θ with Hessian eigenvalues μ ≤ L (condition number κ = L / μ), heavy ball

    u_k = β u_{k−1} + g_k,   θ_{k+1} = θ_k − η u_k

is stable (converges from every start) exactly when 0 < η L < 2 (1 + β) and 0 ≤ β < 1; β = 0 is
gradient descent, stable for η < 2 / L. The fastest rate is reached at (Polyak, 1964)

    η* = 4 / (√L + √μ)²,   β* = ((√κ − 1) / (√κ + 1))²,

where the error shrinks by (√κ − 1) / (√κ + 1) per step, against (κ − 1) / (κ + 1) for gradient
descent at its best η = 2 / (L + μ). The phase diagram draws the stability limit and the optimum
over its lr × momentum sweep (``draw.phase_diagram``); specs it applies to are those with
``Spec.is_heavy_ball``.

Polyak, "Some methods of speeding up the convergence of iteration methods", USSR Computational
Mathematics and Mathematical Physics 4(5), 1964.
"""

from __future__ import annotations

import math

import numpy as np


def stability_limit(momentum: np.ndarray | float, largest_eigenvalue: float) -> np.ndarray | float:
    """The largest stable learning rate of heavy ball with momentum β: η = 2 (1 + β) / L."""
    return 2 * (1 + momentum) / largest_eigenvalue


def optimal_heavy_ball(eigenvalues: tuple[float, float]) -> tuple[float, float]:
    """The fastest (η*, β*) of heavy ball on a quadratic with Hessian eigenvalues (μ, L)."""
    mu, big_l = min(eigenvalues), max(eigenvalues)
    root_kappa = math.sqrt(big_l / mu)
    return 4 / (math.sqrt(big_l) + math.sqrt(mu)) ** 2, ((root_kappa - 1) / (root_kappa + 1)) ** 2

