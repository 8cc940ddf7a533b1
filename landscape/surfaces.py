"""Analytic 2-D loss surfaces as torch functions of p[..., 2], with what a figure needs.

Each surface is device- and dtype-agnostic (plain torch ops, constants as Python numbers) and
carries a name, a formula for titles, view bounds, default start point(s), a default learning
rate (inside the explorer's lr slider, 0.001 … 1, with slider values below and above it; one
at which sgd, momentum, nesterov and adam with β = 0.9 all stay in range for 150 steps from the
default start and the surface's lesson shows, measured as each entry's comment says), the
distance from a minimum that counts as arrived (``tolerance``: by default 1% of the view, inside
the ★ a figure draws) and its minima, located to machine precision by Newton's method from
approximate seeds (each checked to be a stationary point with a positive-definite Hessian).

Any callable of p[..., 2] built with torch ops is a surface too::

    bowl = Surface.from_function(lambda p: (p ** 2).sum(-1) + 0.5 * p[..., 0] * p[..., 1],
                                 name="my bowl", bounds=((-2, 2), (-2, 2)), start=(1.5, -1.0),
                                 minimum_seeds=[(0.0, 0.0)])
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

Point = tuple[float, float]
Bounds = tuple[tuple[float, float], tuple[float, float]]


def gradient_and_hessian(fn: Callable[[Tensor], Tensor], points: Tensor) -> tuple[Tensor, Tensor]:
    """∇f (B, 2) and the exact Hessian (B, 2, 2) at each row of ``points`` (B, 2).

    Rows are independent, so the gradient of Σ_b f(p_b) is every row's gradient, and the
    gradient of Σ_b ∂f/∂p_i (p_b) is row i of every row's Hessian: double backward, three
    autograd calls for any B (``torch.func.hessian`` would cost a 2 s warm-up per process)."""
    with torch.enable_grad():
        p = points.detach().requires_grad_()
        (gradient,) = torch.autograd.grad(fn(p).sum(), p, create_graph=True)
        if not gradient.requires_grad:  # f is linear in p
            return gradient, torch.zeros(*points.shape, 2, dtype=points.dtype, device=points.device)
        hessian_rows = [torch.autograd.grad(gradient[:, i].sum(), p, retain_graph=i == 0,
                                            materialize_grads=True)[0] for i in range(2)]
    return gradient.detach(), torch.stack(hessian_rows, dim=1)


def newton_step(fn: Callable[[Tensor], Tensor], points: Tensor) -> Tensor:
    """p ← p − H(p)⁻¹ ∇f(p) for each row; a singular Hessian gives non-finite rows."""
    gradient, hessian = gradient_and_hessian(fn, points)
    try:
        return points - torch.linalg.solve(hessian, gradient.unsqueeze(-1)).squeeze(-1)
    except torch.linalg.LinAlgError:  # some row singular: solve row by row, mark those rows
        rows = []
        for h, g, p in zip(hessian, gradient, points):
            try:
                rows.append(p - torch.linalg.solve(h, g))
            except torch.linalg.LinAlgError:
                rows.append(torch.full_like(p, float("nan")))
        return torch.stack(rows)


ARRIVAL_SHARE = 0.01  # of the view's longer side: a surface's default arrival tolerance


def arrival_tolerance(bounds: Bounds) -> float:
    """The distance from a minimum within which a run has arrived, by default: 1% of the view's
    longer side. A figure draws a minimum's ★ with a radius of about 2% of that side (at 960x540
    and in the explorer), so a run within it sits on the ★: arrived, as the picture shows."""
    (x0, x1), (y0, y1) = bounds
    return ARRIVAL_SHARE * max(x1 - x0, y1 - y0)


@dataclass(frozen=True)
class Minimum:
    point: Point
    value: float
    is_global: bool


@dataclass(frozen=True)
class Surface:
    """A loss surface f(p) for p of shape (..., 2), and how to show it."""

    name: str
    formula: str
    fn: Callable[[Tensor], Tensor] = field(repr=False)
    bounds: Bounds
    starts: tuple[Point, ...]
    minimum_seeds: tuple[Point, ...] = ()
    log_levels: bool = True
    eigenvalues: tuple[float, float] | None = None  # of the Hessian, for a quadratic
    axis_labels: tuple[str, str] = ("x", "y")
    default_lr: float = field(kw_only=True)  # where the explorer's learning rate starts
    # how close to a minimum counts as arrived, in view units: by default ARRIVAL_SHARE of the
    # view's longer side, inside the ★ a figure draws there (see ``arrival_tolerance``)
    tolerance: float | None = field(default=None, kw_only=True)
    # the loss panel's log y range, for runs whose losses are not this surface's values (a real
    # network's slice, ``nets.slice_view``, shows each path's real loss): the panel shows the loss
    # itself there, not a gap to a minimum
    loss_range: tuple[float, float] | None = field(default=None, kw_only=True)
    # what the contour's colours are, where a person cannot tell from the formula (a real network's
    # training or validation loss): the lecture figure then has a colour bar with this label
    colour_label: str | None = field(default=None, kw_only=True)

    def __post_init__(self):
        if not (isinstance(self.default_lr, (int, float)) and math.isfinite(self.default_lr)
                and self.default_lr > 0):
            raise ValueError(f"Invalid default_lr: {self.default_lr!r} (expected a finite number > 0)")
        if self.tolerance is None:
            object.__setattr__(self, "tolerance", arrival_tolerance(self.bounds))
        elif not (isinstance(self.tolerance, (int, float)) and math.isfinite(self.tolerance)
                  and self.tolerance > 0):
            raise ValueError(f"Invalid tolerance: {self.tolerance!r} (expected a finite number > 0)")

    def __call__(self, p: Tensor) -> Tensor:
        return self.fn(p)

    @functools.cached_property
    def minima(self) -> tuple[Minimum, ...]:
        """Minima polished by Newton's method in float64; the lowest are marked global."""
        if not self.minimum_seeds:
            return ()
        points = torch.tensor(self.minimum_seeds, dtype=torch.float64)
        for _ in range(50):  # quadratic convergence: a handful of steps from a good seed
            previous, points = points, newton_step(self.fn, points)
            if (points - previous).abs().max() < 1e-12:  # the next step is at rounding level
                break
        gradient, hessian = gradient_and_hessian(self.fn, points)
        for seed, g, h in zip(self.minimum_seeds, gradient, hessian):
            if not (g.norm() < 1e-8 and torch.linalg.eigvalsh(h).min() > 0):
                raise ValueError(f"{self.name}: the seed {seed} does not lead to a minimum")
        values = self.fn(points)
        lowest = values.min().item()
        return tuple(Minimum((x, y), v, v <= lowest + 1e-9)
                     for (x, y), v in zip(points.tolist(), values.tolist()))

    @property
    def minimum_value(self) -> float | None:
        """The global minimum value, or None for a surface without minima."""
        return min((m.value for m in self.minima), default=None)

    def in_view(self, point: Point) -> bool:
        """Whether ``point`` lies in the view (``bounds``): where a start can be seen."""
        (x0, x1), (y0, y1) = self.bounds
        return x0 <= point[0] <= x1 and y0 <= point[1] <= y1

    @property
    def view_ranges(self) -> str:
        """The view in words: 'x in [-2, 2], y in [-1.5, 1.5]'."""
        (x0, x1), (y0, y1) = self.bounds
        return f"x in [{x0:g}, {x1:g}], y in [{y0:g}, {y1:g}]"

    @property
    def start(self) -> Point:
        return self.starts[0]

    @classmethod
    def from_function(cls, fn: Callable[[Tensor], Tensor], *, name: str = "custom",
                      formula: str | None = None, bounds: Bounds = ((-3.0, 3.0), (-3.0, 3.0)),
                      start: Point | Sequence[Point] = (-2.0, 2.0),
                      minimum_seeds: Sequence[Point] = (), log_levels: bool = False,
                      default_lr: float = 0.01, tolerance: float | None = None) -> "Surface":
        """A surface from any torch callable of p[..., 2] (see the module docstring);
        ``default_lr`` is the explorer's starting learning rate (0.01, as ``trajectory.run``'s),
        ``tolerance`` the distance from a minimum that counts as arrived (None: 1% of the view)."""
        starts = (tuple(start),) if isinstance(start[0], (int, float)) else tuple(map(tuple, start))
        _check_differentiable(fn, bounds)
        _check_finite_in_view(fn, bounds)
        return cls(name, formula or name, fn, bounds, starts, tuple(map(tuple, minimum_seeds)),
                   log_levels, default_lr=default_lr, tolerance=tolerance)


VIEW_RESOLUTION = 200  # points per axis of the grid a figure draws (``draw.surface_values``)


def view_grid(bounds: Bounds, resolution: int = VIEW_RESOLUTION) -> Tensor:
    """The (resolution, resolution, 2) float64 points of the view, row i at the i-th y."""
    (x0, x1), (y0, y1) = bounds
    grid_y, grid_x = torch.meshgrid(torch.linspace(y0, y1, resolution, dtype=torch.float64),
                                    torch.linspace(x0, x1, resolution, dtype=torch.float64),
                                    indexing="ij")
    return torch.stack([grid_x, grid_y], dim=-1)


def _check_differentiable(fn: Callable[[Tensor], Tensor], bounds: Bounds) -> None:
    """Refuse ``fn`` unless, on three points of the view that require grad, it returns a tensor
    of shape (3,) that autograd can differentiate (optimizers step on its gradient)."""
    (x0, x1), (y0, y1) = bounds
    points = torch.tensor([[x0, y0], [(x0 + x1) / 2, (y0 + y1) / 2], [x1, y1]], dtype=torch.float64)
    with torch.enable_grad():
        try:
            probe = fn(points.requires_grad_())
        except Exception as error:  # e.g. p.numpy() on a tensor that requires grad
            raise ValueError(f"Invalid surface function: on p of shape (3, 2) that requires grad it "
                             f"raised {type(error).__name__}: {error} (build f from torch ops on p, "
                             f"so that autograd can differentiate it)") from error
    if not isinstance(probe, Tensor) or probe.shape != (3,):
        raise ValueError(f"Invalid surface function: for p of shape (3, 2) it must return a "
                         f"tensor of shape (3,), got {getattr(probe, 'shape', type(probe))}")
    if not probe.requires_grad:
        raise ValueError("Invalid surface function: its value does not depend differentiably on p "
                         "(it detaches p, or computes through numpy or Python numbers); build f from "
                         "torch ops on p, so that autograd can differentiate it")


def _check_finite_in_view(fn: Callable[[Tensor], Tensor], bounds: Bounds) -> None:
    """Refuse ``fn`` where it is NaN or infinite on the grid a figure of the view draws."""
    points = view_grid(bounds)
    with torch.no_grad():
        bad = ~torch.isfinite(fn(points))
    if bad.any():
        where = points[bad]
        (x_low, y_low), (x_high, y_high) = where.min(0).values.tolist(), where.max(0).values.tolist()
        x, y = where[0].tolist()
        raise ValueError(f"Invalid surface function: not finite at {int(bad.sum())} of the "
                         f"{VIEW_RESOLUTION}x{VIEW_RESOLUTION} points drawn of the view {bounds}, "
                         f"within x in [{x_low:g}, {x_high:g}], y in [{y_low:g}, {y_high:g}] (e.g. "
                         f"f({x:g}, {y:g}) = {fn(where[:1]).item()}); a figure cannot draw it: "
                         f"choose bounds where f is finite")


@dataclass(frozen=True)
class RegressionData:
    """Least-squares linear regression y ≈ w x + b on a fixed synthetic data set."""

    x: Tensor
    y: Tensor

    def loss(self, p: Tensor, indices: Tensor | None = None) -> Tensor:
        """Mean squared error of (w, b) = p[..., 0], p[..., 1] on all points or on ``indices``.

        On all points it is evaluated as the quadratic it is, f* + dᵀ M d with d = (w, b) − (w*, b*)
        and M = (1/N) Σ (x_i, 1)(x_i, 1)ᵀ: a few operations for any N, and the gap f − f* keeps
        its precision next to the minimum."""
        if indices is None:
            (w_best, b_best), value, mean_x2, mean_x = self._quadratic_form
            dw, db = p[..., 0] - w_best, p[..., 1] - b_best
            return value + mean_x2 * dw * dw + 2 * mean_x * dw * db + db * db
        x, y = self.x[indices].to(p), self.y[indices].to(p)
        residual = p[..., 0:1] * x + p[..., 1:2] - y
        return (residual**2).mean(-1)

    @functools.cached_property
    def _quadratic_form(self) -> tuple[Point, float, float, float]:
        """(w*, b*), f*, mean x², mean x."""
        w, b = self.least_squares()
        value = ((w * self.x + b - self.y) ** 2).mean().item()
        return (w, b), value, (self.x**2).mean().item(), self.x.mean().item()

    @property
    def size(self) -> int:
        return self.x.shape[0]

    def least_squares(self) -> Point:
        design = torch.stack([self.x, torch.ones_like(self.x)], dim=1)
        w, b = torch.linalg.lstsq(design, self.y.unsqueeze(1)).solution.squeeze(1).tolist()
        return (w, b)


@dataclass(frozen=True)
class StochasticSurface(Surface):
    """A surface that is a mean over data points: SGD steps on minibatch losses."""

    data: RegressionData | None = field(default=None, repr=False)

    def minibatch(self, p: Tensor, indices: Tensor) -> Tensor:
        return self.data.loss(p, indices)


# -- the surfaces --------------------------------------------------------------------------------

def quadratic(condition: float = 10.0, angle: float = 30.0, name: str | None = None) -> Surface:
    """f(p) = ½ pᵀ A p with eigenvalues 1 and κ = ``condition``, axes rotated by ``angle`` degrees.

    Its default learning rate is 1/L = 1/κ, GD's classic step: inside the stability limit of
    every rule (GD 2/L, heavy ball 2(1 + β)/L, Nesterov 2(1 + β)/((1 + 2β) L) ≈ 1.36/L at β = 0.9).
    In 150 steps (κ = 10, 50) GD arrives in 27, 141, the heavy ball in 76, 74, Nesterov in 23, 34;
    Adam is still on its way (it arrives from η = 0.13 at κ = 10)."""
    if not condition >= 1:
        raise ValueError(f"Invalid condition: {condition!r} (expected condition >= 1)")
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    # A = R diag(1, κ) Rᵀ
    a11, a12, a22 = c * c + condition * s * s, (1 - condition) * c * s, s * s + condition * c * c

    def fn(p):
        x, y = p[..., 0], p[..., 1]
        return 0.5 * (a11 * x * x + 2 * a12 * x * y + a22 * y * y)

    return Surface(name or f"quadratic (κ={condition:g})",
                   rf"$f = \frac{{1}}{{2}} p^\top A p$,  eig(A) = (1, {condition:g}),  rotated {angle:g}°", fn,
                   ((-5.0, 5.0), (-5.0, 5.0)), ((-4.0, 3.5),), ((0.0, 0.0),), True,
                   (1.0, float(condition)), default_lr=1 / condition)


def _two_well(p):
    """−2 exp(−((x−1)² + y²)/.2) − 6 exp(−((x+1)² + y²)/.2) + x² + y², with r² = x² + y² shared:
    (x ∓ 1)² + y² = r² ∓ 2x + 1 (fewer ops: this runs in the inner loop of every sweep)."""
    x = p[..., 0]
    r2 = (p * p).sum(-1)
    return -2 * torch.exp((2 * x - 1 - r2) * 5) - 6 * torch.exp((-2 * x - 1 - r2) * 5) + r2


def _rosenbrock(p):
    x, y = p[..., 0], p[..., 1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _beale(p):
    x, y = p[..., 0], p[..., 1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _himmelblau(p):
    x, y = p[..., 0], p[..., 1]
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def _saddle(p):
    return p[..., 0] ** 2 - p[..., 1] ** 2


def _rastrigin(p):
    return 20 + (p**2 - 10 * torch.cos(2 * math.pi * p)).sum(-1)


def _six_hump_camel(p):
    x, y = p[..., 0], p[..., 1]
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2


def regression(points: int = 200, batch_seed: int = 0) -> StochasticSurface:
    """Least squares in (w, b) over ``points`` fixed synthetic points y = 2x − 1 + noise."""
    generator = torch.Generator().manual_seed(batch_seed)
    x = torch.rand(points, generator=generator, dtype=torch.float64) * 4 - 2
    y = 2 * x - 1 + 0.8 * torch.randn(points, generator=generator, dtype=torch.float64)
    data = RegressionData(x, y)
    return StochasticSurface("regression", r"$f(w, b) = \frac{1}{N}\sum_i (w x_i + b - y_i)^2$", data.loss,
                             ((-3.0, 5.0), (-4.0, 3.0)), ((-2.0, 2.0),), (data.least_squares(),),
                             axis_labels=("w", "b"), data=data,
                             # all four arrive (GD in 17, heavy ball 75, Nesterov 22, Adam 83);
                             # Nesterov diverges from 0.63, GD from 1
                             default_lr=0.1)


SURFACES: dict[str, Callable[[], Surface]] = {
    "quadratic": lambda: quadratic(10.0, 30.0, "quadratic"),
    "ill-conditioned": lambda: quadratic(50.0, 30.0, "ill-conditioned"),
    "two-well": lambda: Surface(
        "two-well", r"$z = -2e^{-((x-1)^2+y^2)/.2} - 6e^{-((x+1)^2+y^2)/.2} + x^2 + y^2$", _two_well,
        ((-2.0, 2.0), (-1.5, 1.5)), ((0.2, 1.2), (1.6, -0.8)), ((-1.0, 0.0), (1.0, 0.0)), False,
        # from the first start all four reach the deep ★ (GD in 77, heavy ball 63, Nesterov 21, Adam
        # 104); GD circles from 0.04, heavy ball and Nesterov fall into the shallow ✖ from 0.05
        default_lr=0.02),
    "rosenbrock": lambda: Surface(
        "rosenbrock", r"$f = (1-x)^2 + 100\,(y-x^2)^2$", _rosenbrock, ((-2.0, 2.0), (-1.0, 3.0)),
        ((-1.2, 1.0),), ((1.0, 1.0),),
        # the middle of the lrs where all four stay in range, 0.001 to 0.0025 (Nesterov diverges from
        # 0.0032, heavy ball 0.004, GD 0.0063). In 150 steps none arrives: heavy ball and Nesterov
        # run along the valley to 0.3 from ★, GD crawls (1.8 from ★), Adam's small steps too (2.1);
        # in 1000 the heavy ball arrives (432); Nesterov circles ★, its stability limit there,
        # 2(1 + β)/((1 + 2β) λmax) ≈ 0.00136, is below this lr (it arrives at 0.00126, in 560)
        default_lr=0.00158),
    "beale": lambda: Surface(
        "beale", r"$f = (1.5-x+xy)^2 + (2.25-x+xy^2)^2 + (2.625-x+xy^3)^2$", _beale,
        ((-4.5, 4.5), (-4.5, 4.5)), ((1.0, 1.5),), ((3.0, 0.5),),
        # heavy ball and Nesterov arrive (in 68, 66), GD and Adam crawl (not there in 150); heavy
        # ball and Nesterov blow up from 0.008
        default_lr=0.003),
    "himmelblau": lambda: Surface(
        "himmelblau", r"$f = (x^2+y-11)^2 + (x+y^2-7)^2$", _himmelblau, ((-5.0, 5.0), (-5.0, 5.0)),
        ((0.0, 0.0),), ((3.0, 2.0), (-2.8, 3.1), (-3.8, -3.3), (3.6, -1.8)),
        # GD (in 13), heavy ball (64) and Nesterov (16) reach a ★, Adam is on its way (it arrives from
        # 0.025); Nesterov blows up from 0.025, heavy ball from 0.03
        default_lr=0.01),
    "saddle": lambda: Surface(
        "saddle", r"$f = x^2 - y^2$", _saddle, ((-2.0, 2.0), (-2.0, 2.0)), ((-1.5, 1e-3),), (), False,
        # no minimum: heavy ball and Nesterov escape and leave the view (left@126, left@121), GD and
        # Adam have not yet; heavy ball and Nesterov diverge from 0.0063
        default_lr=0.005),
    "rastrigin": lambda: Surface(
        "rastrigin", r"$f = 20 + \sum_i (p_i^2 - 10\cos 2\pi p_i)$", _rastrigin, ((-5.12, 5.12), (-5.12, 5.12)),
        ((-3.2, 2.6),), tuple((float(i), float(j)) for i in range(-5, 6) for j in range(-5, 6)),
        False,
        # all four stop in the ✖ next to the start, 18 above f* (the lesson: GD in 4, heavy ball 21,
        # Nesterov 4, Adam 135); none diverges up to 0.25
        default_lr=0.002),
    "six-hump-camel": lambda: Surface(
        "six-hump-camel", r"$f = (4 - 2.1x^2 + x^4/3)\,x^2 + xy + (4y^2-4)\,y^2$", _six_hump_camel,
        ((-2.0, 2.0), (-1.2, 1.2)), ((-1.5, 1.0),),
        ((0.09, -0.71), (-0.09, 0.71), (1.70, -0.80), (-1.70, 0.80), (1.61, 0.57), (-1.61, -0.57)),
        False,
        # all four stop in the ✖ at (−1.70, 0.80) beside the start, 0.82 above f* (GD in 6, heavy
        # ball 37, Nesterov 6, Adam 28), as they do from 0.002 (Adam) to 0.08 (heavy ball)
        default_lr=0.02),
    "regression": regression,
}


@functools.cache
def get(name: str) -> Surface:
    """The named surface; ``ValueError`` lists the valid names."""
    if name not in SURFACES:
        raise ValueError(f"Invalid surface {name!r}; valid: {', '.join(SURFACES)}")
    return SURFACES[name]()
