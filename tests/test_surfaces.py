"""Surfaces: formulas, minima, device/dtype behaviour, user functions."""

import math
import re

import pytest
import torch

from landscape import surfaces


def _two_well_by_hand(x, y):
    return (-2 * math.exp(-((x - 1) ** 2 + y**2) / 0.2) - 6 * math.exp(-((x + 1) ** 2 + y**2) / 0.2)
            + x**2 + y**2)


@pytest.mark.parametrize("point", [(0.0, 0.0), (1.0, 0.0), (-1.0, 0.0), (0.5, 0.5), (-0.3, 1.2), (2.0, -1.5)])
def test_two_well_is_the_formula_as_written(point):
    surface = surfaces.get("two-well")
    value = surface(torch.tensor(point, dtype=torch.float64)).item()
    assert value == pytest.approx(_two_well_by_hand(*point), rel=1e-13, abs=1e-15)


def test_two_well_values_at_points_worked_by_hand():
    f = surfaces.get("two-well")
    at = lambda x, y: f(torch.tensor([x, y], dtype=torch.float64)).item()
    assert at(0, 0) == pytest.approx(-8 * math.exp(-5))          # both wells at distance 1
    assert at(1, 0) == pytest.approx(-2 - 6 * math.exp(-20) + 1)  # centre of the shallow well
    assert at(-1, 0) == pytest.approx(-2 * math.exp(-20) - 6 + 1)  # centre of the deep well


def _bisect(g, low, high):
    for _ in range(200):
        middle = (low + high) / 2
        if (g(low) < 0) == (g(middle) < 0):
            low = middle
        else:
            high = middle
    return (low + high) / 2


def test_two_well_minima_found_by_bisection_on_the_hand_derivative():
    """On y = 0: f'(x) = 20(x−1)e^{−(x−1)²/.2} + 60(x+1)e^{−(x+1)²/.2} + 2x."""
    derivative = lambda x: (20 * (x - 1) * math.exp(-((x - 1) ** 2) / 0.2)
                            + 60 * (x + 1) * math.exp(-((x + 1) ** 2) / 0.2) + 2 * x)
    deep, shallow = _bisect(derivative, -1.2, -0.8), _bisect(derivative, 0.7, 1.0)
    minima = surfaces.get("two-well").minima
    (global_min,) = [m for m in minima if m.is_global]
    (local_min,) = [m for m in minima if not m.is_global]
    assert global_min.point == pytest.approx((deep, 0.0), abs=1e-10)
    assert local_min.point == pytest.approx((shallow, 0.0), abs=1e-10)
    assert global_min.value == pytest.approx(_two_well_by_hand(deep, 0.0), rel=1e-12)


KNOWN_MINIMA = {  # literature values
    "rosenbrock": [((1.0, 1.0), 0.0)],
    "beale": [((3.0, 0.5), 0.0)],
    "himmelblau": [((3.0, 2.0), 0.0), ((-2.805118, 3.131312), 0.0), ((-3.779310, -3.283186), 0.0),
                   ((3.584428, -1.848126), 0.0)],
    "six-hump-camel": [((0.0898, -0.7126), -1.0316284535), ((-0.0898, 0.7126), -1.0316284535)],
    "quadratic": [((0.0, 0.0), 0.0)],
    "ill-conditioned": [((0.0, 0.0), 0.0)],
}


@pytest.mark.parametrize("name", list(KNOWN_MINIMA))
def test_global_minima_match_the_literature(name):
    found = [m for m in surfaces.get(name).minima if m.is_global]
    assert len(found) == len(KNOWN_MINIMA[name])
    for (point, value), minimum in zip(KNOWN_MINIMA[name], found):
        assert minimum.point == pytest.approx(point, abs=1e-4)
        assert minimum.value == pytest.approx(value, abs=1e-8)


@pytest.mark.parametrize("name", list(surfaces.SURFACES))
def test_every_minimum_is_a_stationary_point_with_the_stated_value(name):
    surface = surfaces.get(name)
    for minimum in surface.minima:
        p = torch.tensor(minimum.point, dtype=torch.float64, requires_grad=True)
        value = surface(p)
        (gradient,) = torch.autograd.grad(value, p)
        assert gradient.norm() < 1e-7
        assert value.item() == pytest.approx(minimum.value, abs=1e-12)
    assert any(m.is_global for m in surface.minima) or name == "saddle"


def test_rastrigin_has_121_minima_and_one_global_at_the_origin():
    minima = surfaces.get("rastrigin").minima
    assert len(minima) == 121
    (best,) = [m for m in minima if m.is_global]
    assert best.point == pytest.approx((0.0, 0.0), abs=1e-12) and best.value == pytest.approx(0.0)


def test_regression_minimum_is_the_least_squares_solution():
    surface = surfaces.get("regression")
    x, y = surface.data.x.numpy(), surface.data.y.numpy()
    import numpy as np

    w, b = np.polyfit(x, y, 1)
    assert surface.minima[0].point == pytest.approx((w, b), rel=1e-9)


def test_regression_full_batch_loss_is_the_mean_squared_error():
    """The full-batch loss is evaluated as a quadratic form: it must equal the plain mean."""
    data = surfaces.get("regression").data
    p = torch.randn(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 3
    direct = ((p[:, :1] * data.x + p[:, 1:] - data.y) ** 2).mean(-1)
    torch.testing.assert_close(data.loss(p), direct, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(data.loss(p, torch.arange(data.size)), direct, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", list(surfaces.SURFACES))
def test_surfaces_broadcast_and_keep_dtype(name):
    surface = surfaces.get(name)
    p = torch.rand(3, 4, 2, dtype=torch.float32)
    value = surface(p)
    assert value.shape == (3, 4) and value.dtype == torch.float32
    assert torch.allclose(value.double(), surface(p.double()), rtol=1e-4, atol=1e-4)


def test_quadratic_has_the_requested_eigenvalues():
    surface = surfaces.quadratic(condition=25.0, angle=40.0)
    (gradient, hessian) = surfaces.gradient_and_hessian(surface.fn, torch.zeros(1, 2, dtype=torch.float64))
    assert torch.linalg.eigvalsh(hessian[0]).tolist() == pytest.approx([1.0, 25.0])


def test_gradient_and_hessian_match_hand_derivatives():
    """Rosenbrock: ∇f = (−2(1−x) − 400x(y−x²), 200(y−x²)); H = [[2 − 400(y−3x²), −400x], [−400x, 200]]."""
    points = torch.tensor([[-1.2, 1.0], [0.5, 0.3], [1.0, 1.0]], dtype=torch.float64)
    gradient, hessian = surfaces.gradient_and_hessian(surfaces.get("rosenbrock").fn, points)
    x, y = points[:, 0], points[:, 1]
    expected_gradient = torch.stack([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)], dim=1)
    expected_hessian = torch.stack([torch.stack([2 - 400 * (y - 3 * x**2), -400 * x], dim=1),
                                    torch.stack([-400 * x, torch.full_like(x, 200.0)], dim=1)], dim=1)
    torch.testing.assert_close(gradient, expected_gradient, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(hessian, expected_hessian, rtol=1e-12, atol=1e-12)
    linear = surfaces.gradient_and_hessian(lambda p: p[..., 0] + 2 * p[..., 1], points)
    assert linear[0].tolist() == [[1.0, 2.0]] * 3 and not linear[1].any()


def test_user_function_is_a_surface():
    bowl = surfaces.Surface.from_function(lambda p: (p**2).sum(-1) + 0.5 * p[..., 0] * p[..., 1],
                                         name="bowl", start=(1.5, -1.0), minimum_seeds=[(0.3, 0.2)])
    assert bowl.minima[0].point == pytest.approx((0.0, 0.0), abs=1e-12)
    assert bowl.start == (1.5, -1.0)


def test_bad_user_function_and_seed_are_refused():
    with pytest.raises(ValueError, match="must return a tensor of shape"):
        surfaces.Surface.from_function(lambda p: p.sum())
    saddle = surfaces.Surface.from_function(lambda p: p[..., 0] ** 2 - p[..., 1] ** 2,
                                            minimum_seeds=[(0.1, 0.1)])
    with pytest.raises(ValueError, match="does not lead to a minimum"):
        saddle.minima


@pytest.mark.parametrize("fn", [lambda p: (p**2).sum(-1).detach(),
                                lambda p: torch.as_tensor((p.detach().numpy() ** 2).sum(-1)),
                                lambda p: torch.from_numpy((p.numpy() ** 2).sum(-1))],
                         ids=["detached", "numpy-of-detached", "numpy"])
def test_a_function_autograd_cannot_differentiate_is_refused_at_creation(fn):
    with pytest.raises(ValueError, match="Invalid surface function: .*build f from torch ops on p"):
        surfaces.Surface.from_function(fn)


def test_a_function_not_finite_in_the_view_is_refused_naming_the_region():
    log_x = lambda p: torch.log(p[..., 0]) + p[..., 1] ** 2
    # 200 grid columns over [-1, 1]: the 100 at x < 0 (the largest -1 + 99·2/199 = -1/199) are NaN
    message = (f"not finite at {100 * 200} of the 200x200 points drawn of the view ((-1, 1), (-1, 1)), "
               f"within x in [-1, {-1 / 199:g}], y in [-1, 1] (e.g. f(-1, -1) = nan)")
    with pytest.raises(ValueError, match=re.escape(message)):
        surfaces.Surface.from_function(log_x, bounds=((-1, 1), (-1, 1)), start=(0.5, 0.5))
    right_half = surfaces.Surface.from_function(log_x, bounds=((0.5, 2), (-1, 1)), start=(1.5, 0.5))
    assert right_half(torch.tensor([1.0, 0.5])).item() == pytest.approx(0.25)


def test_unknown_surface_lists_valid_names():
    with pytest.raises(ValueError, match="Invalid surface 'nope'; valid: quadratic, ill-conditioned, two-well"):
        surfaces.get("nope")


@pytest.mark.parametrize("surface", [surfaces.get(name) for name in surfaces.SURFACES]
                         + [surfaces.quadratic(3.0), surfaces.quadratic(200.0, 75.0)],
                         ids=lambda surface: surface.name)
def test_no_optimizer_diverges_at_the_default_learning_rate(surface):
    from landscape import trajectory

    runs = trajectory.compare(surface, ["sgd", "momentum", "nesterov", "adam"],
                              lr=surface.default_lr, momentum=0.9, steps=150)
    assert all((run.diverged_at == -1).all() and torch.isfinite(run.points).all() for run in runs)


def test_a_user_surface_has_a_default_learning_rate_and_a_bad_one_is_refused():
    bowl = lambda p: (p**2).sum(-1)
    assert surfaces.Surface.from_function(bowl).default_lr == 0.01
    assert surfaces.Surface.from_function(bowl, default_lr=0.3).default_lr == 0.3
    for bad in (0.0, -0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=f"Invalid default_lr: {bad!r}"):
            surfaces.Surface.from_function(bowl, default_lr=bad)


@pytest.mark.parametrize("name", list(surfaces.SURFACES))
def test_the_default_learning_rate_lies_inside_the_lr_slider_with_values_on_both_sides(name):
    """A student can try a smaller and a larger lr than the default on the explorer's slider."""
    from landscape.setting import LEARNING_RATES

    default = surfaces.get(name).default_lr
    assert LEARNING_RATES[0] < default < LEARNING_RATES[-1]
    below, above = (LEARNING_RATES < default / 1.1).sum(), (LEARNING_RATES > default * 1.1).sum()
    assert below >= 2 and above >= 2, (below, above)


@pytest.mark.parametrize("name", [name for name in surfaces.SURFACES if name != "saddle"])
def test_arrival_lies_inside_the_star_the_lecture_figure_draws(name):
    """The default tolerance is 1% of the view's longer side; a run that close to a minimum
    is drawn on its ★ (radius measured on the figure: half the marker's size, in data units)."""
    from landscape import draw, trajectory

    surface = surfaces.get(name)
    (x0, x1), (y0, y1) = surface.bounds
    assert surface.tolerance == pytest.approx(0.01 * max(x1 - x0, y1 - y0))
    runs = trajectory.compare(surface, ["sgd"], lr=surface.default_lr, steps=2)
    for size, dpi in (((960, 540), None), ((800, 450), 100)):  # a slide, the explorer
        figure = draw.lecture_figure(surface, runs, size=size, dpi=dpi).figure
        figure.canvas.draw()
        ax = figure.axes[0]
        (star,) = [line for line in ax.lines if line.get_marker() == "*"]
        pixels_per_unit = ax.get_window_extent().width / (x1 - x0)
        radius = star.get_markersize() / 2 * figure.dpi / 72 / pixels_per_unit
        assert surface.tolerance < 0.6 * radius, (size, surface.tolerance, radius)
