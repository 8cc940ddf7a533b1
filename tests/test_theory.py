"""landscape.theory against the heavy-ball iteration written as a matrix, and the catalog's
heavy-ball specs against the phase diagram's overlay."""

import numpy as np
import pytest
import torch

from landscape import draw, surfaces, theory, trajectory


def _spectral_radius(lr: float, beta: float, eigenvalue: float) -> float:
    """Heavy ball on f = ½ λ x²: (x_{k+1}, x_k) = M (x_k, x_{k−1}), M = [[1 + β − ηλ, −β], [1, 0]]."""
    matrix = np.array([[1 + beta - lr * eigenvalue, -beta], [1.0, 0.0]])
    return float(np.abs(np.linalg.eigvals(matrix)).max())


@pytest.mark.parametrize("beta", [0.0, 0.3, 0.9])
def test_stability_limit_is_where_the_iteration_stops_contracting(beta):
    limit = theory.stability_limit(beta, 10.0)
    assert _spectral_radius(limit * 0.99, beta, 10.0) < 1 < _spectral_radius(limit * 1.01, beta, 10.0)
    np.testing.assert_allclose(theory.stability_limit(np.array([beta]), 10.0), [limit])


def test_optimal_heavy_ball_contracts_both_eigen_directions_at_the_accelerated_rate():
    mu, big_l = 1.0, 50.0
    lr, beta = theory.optimal_heavy_ball((big_l, mu))
    accelerated = (np.sqrt(big_l / mu) - 1) / (np.sqrt(big_l / mu) + 1)
    for eigenvalue in (mu, big_l):
        assert _spectral_radius(lr, beta, eigenvalue) == pytest.approx(accelerated, rel=1e-6)
    nearby = [_spectral_radius(lr * f, beta * g, e) for f in (0.9, 1.1) for g in (0.95, 1.02)
              for e in (mu, big_l)]
    assert max(nearby) > accelerated  # moving away from the optimum is slower somewhere


@pytest.mark.parametrize("spec,overlaid", [("gd", True), ("sgd", True), ("momentum", True),
                                           ("gd+momentum", True), ("nesterov", False),
                                           ("momentum+lookahead", False), ("adam", False)])
def test_the_phase_diagram_draws_the_theory_only_where_it_holds(spec, overlaid):
    sweep = trajectory.sweep(surfaces.get("quadratic"), spec, torch.logspace(-2, -1, 3, dtype=torch.float64),
                             torch.linspace(0, 0.5, 2, dtype=torch.float64), steps=5)
    labels = [t.get_text() for t in draw.phase_diagram(sweep).get_legend().get_texts()]
    assert any(label.startswith("stability limit") for label in labels) == overlaid
    assert any(label.startswith("optimal") for label in labels) == overlaid
