"""Small random problems shared by the optimizer tests."""

from __future__ import annotations

import torch


def make_params(seed: int) -> list[torch.Tensor]:
    """Weights, bias, an extra vector, and a parameter that never receives a gradient."""
    g = torch.Generator().manual_seed(seed)
    shapes = [(5, 3), (3,), (4,), (2,)]
    return [torch.randn(s, generator=g, dtype=torch.float64).requires_grad_() for s in shapes]


def make_loss(seed: int):
    """A smooth non-convex loss of the first three parameters (the fourth gets no gradient)."""
    g = torch.Generator().manual_seed(1000 + seed)
    inputs = torch.randn(16, 5, generator=g, dtype=torch.float64)
    targets = torch.randn(16, 3, generator=g, dtype=torch.float64)

    def loss(params):
        weight, bias, extra, _unused = params
        fit = ((torch.tanh(inputs @ weight + bias) - targets) ** 2).mean()
        return fit + 0.1 * (extra**4).sum() - 0.05 * (extra**2).sum()

    return loss


def rosenbrock(p: torch.Tensor) -> torch.Tensor:
    return (1 - p[..., 0]) ** 2 + 100 * (p[..., 1] - p[..., 0] ** 2) ** 2


def run(optimizer, params, loss, steps: int, scheduler=None) -> None:
    for _ in range(steps):
        def closure():
            optimizer.zero_grad()
            value = loss(params)
            value.backward()
            return value

        optimizer.step(closure)
        if scheduler is not None:
            scheduler.step()
