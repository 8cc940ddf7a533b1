"""Batched trajectories: many starts and hyper-parameter settings stepped as ONE tensor.

A run optimizes a parameter of shape (B, 2): row b is an independent trajectory with its own
start and, through tensor hyper-parameters of shape (B, 1), its own learning rate and momentum.
The result records every point, the loss along the way and, per row, how many iterations it
needed to arrive at a minimum (come within the surface's ``tolerance`` and stay there), which
minimum that is (global ★ or another ✖), the step at which it diverged (left the finite range
or went far outside the view), or the step from which it stayed outside the view. Divergence is
data, not an error.

In a list of runs (``compare``, ``sweeps``: ``optim.parse_list``) a spec may carry its own
learning rate, ``spec@lr``: 'sgd@0.01', 'sgd@0.1' is one optimizer at two learning rates. An lr x
momentum sweep lays its rows out on a ``grid.Grid``.

Words: iteration k is the number of optimizer steps taken; point p is the p-th position kept
(point p is iteration p, except on a real network's recorded path, ``point_steps``).

With ``record_state=True`` a run also keeps, at each point, the gradient its optimizer was handed
and the state the rule held (``Recorded``): the numbers ``landscape.anatomy`` draws a step from.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import torch
from torch import Tensor
from tqdm.auto import tqdm

from . import optim, schedules
from .grid import Grid
from .surfaces import Bounds, StochasticSurface, Surface, newton_step

CRITERIA = ("distance", "loss")
MARKS = {True: "★", False: "✖"}  # a global minimum, another minimum: the marks the contours draw
LONG_RUN = 20_000  # steps from which a run shows a progress bar
ESCAPE = 10.0  # a run has diverged once it is this many view widths (heights) from the view's centre
MAX_RUN_BYTES = 2e9  # what one run may keep: its points, losses and recorded state


@dataclass
class Recorded:
    """What each row's optimizer was handed and kept at each point of a run, read from the
    optimizer itself after every step (``record_state=True``): the numbers of the run, not
    formulas applied afterwards. Plain tensors, NaN from the point a row diverged.

    Attributes:
        gradients: (P+1, B, 2) g_k, the gradient the optimizer was handed at point k (``p.grad``:
            before an extension's noise or dropout and before weight decay); NaN at the last point,
            which takes no step.
        lrs: (P+1, B, 1) η of the step from point k (its group's lr, a schedule's factor included);
            NaN at the last point.
        state: {key: (P+1, B, 2)} each state tensor of the rule (``state_symbols`` of its class:
            "momentum_buffer" is u) as the optimizer held it at point k, before that point's step:
            u_{k−1} at θ_k. Row 0 is the state the first step starts from (0 for a key the rule
            creates at its first step, such as SGD's velocity).
        hyperparameters: the run's keyword values its rows share (e.g. {"beta2": 0.9}): with the
            rows' ``Trajectories.settings`` they make the optimizer's group again.
    """

    gradients: Tensor
    lrs: Tensor
    state: dict[str, Tensor]
    hyperparameters: dict = field(default_factory=dict)

    def rows(self, pick: slice) -> "Recorded":
        return replace(self, gradients=self.gradients[:, pick], lrs=self.lrs[:, pick],
                       state={key: values[:, pick] for key, values in self.state.items()})


@dataclass
class Trajectories:
    """The B trajectories of one batched run of ``spec`` on ``surface``: one per row, each with
    its own start or hyper-parameters (an lr x momentum sweep is one such batch).

    Attributes:
        spec: the optimizer's parsed spec (None for Newton's method, ``newton``).
        points: (P+1, B, 2) positions, NaN from the point a row diverged.
        losses: (P+1, B) full-batch loss at each point.
        iterations: (B,) iterations after which the row stayed within ``tolerance`` of a minimum
            (by ``criterion``); -1 if it did not.
        minimum: (B,) index into ``surface.minima`` of the minimum reached; -1 if none.
        diverged_at: (B,) iteration at which the row diverged; -1 if it did not.
        left_at: (B,) first iteration of the final stretch the row spent outside the view
            (``surface.bounds``); -1 if it ends inside, diverged or converged.
        settings: per-row hyper-parameter values, e.g. {"lr": (B,), "momentum": (B,)}.
        tolerance, criterion: what counted as arrived: within ``tolerance`` of the minimum
            ("distance"; None: the surface's ``tolerance``) or of the minimum value ("loss").
        grid: the lr x momentum grid the rows are laid out on (``trajectory.sweep``), else None.
        name: what legends call the run (the spec's name, plus e.g. the batch size).
        point_steps: (P+1,) the iteration after which each point was taken, where points were
            kept only every few iterations (a real network's recorded path, ``nets.slice_view``);
            None: point p is iteration p. ``iterations`` and ``diverged_at`` count iterations either way.
        recorded: the gradients and optimizer state at each point (``record_state=True``), else None.
    """

    spec: optim.Spec | None
    surface: Surface
    points: Tensor
    losses: Tensor
    iterations: Tensor
    minimum: Tensor
    diverged_at: Tensor
    left_at: Tensor
    settings: dict[str, Tensor] = field(default_factory=dict)
    tolerance: float | None = None
    criterion: str = "distance"
    grid: Grid | None = None
    name: str = ""
    point_steps: Tensor | None = None
    recorded: Recorded | None = None

    def __post_init__(self):
        self.name = self.name or self.spec.name
        self.tolerance = self.surface.tolerance if self.tolerance is None else self.tolerance

    @property
    def last_point(self) -> int:
        """The index P of the last point."""
        return self.points.shape[0] - 1

    @property
    def rows(self) -> int:
        return self.points.shape[1]

    @property
    def iteration_of_point(self) -> Tensor:
        """(P+1,) the iteration each point shows: ``point_steps``, or 0..P."""
        return torch.arange(self.last_point + 1) if self.point_steps is None else self.point_steps

    @property
    def last_iteration(self) -> int:
        return int(self.iteration_of_point[-1])

    @property
    def marks_minima(self) -> bool:
        """Whether an outcome names the kind of minimum reached (★ global, ✖ other): only on a
        surface with a minimum that is not global, where arriving is not yet success."""
        return any(not m.is_global for m in self.surface.minima)

    def outcome(self, row: int = 0) -> str:
        """What became of row ``row``, first that applies: 'diverged@k'; the iterations to
        arrive, '123', or '150 (last step)' when it got there only at the last of 150 steps,
        with the minimum's mark where ``marks_minima`` ('12 ✖', '40 ★ (last step)'); 'left@k',
        outside the view from iteration k to the end; else '>T', not arrived in T."""
        if self.diverged_at[row] >= 0:
            return f"diverged@{int(self.diverged_at[row])}"
        if self.iterations[row] >= 0:
            iterations = int(self.iterations[row])
            mark = f" {MARKS[self.surface.minima[self.minimum[row]].is_global]}" if self.marks_minima else ""
            return f"{iterations}{mark}" + (" (last step)" if iterations == self.last_iteration else "")
        if self.left_at[row] >= 0:
            return f"left@{int(self.left_at[row])}"
        return f">{self.last_iteration}"

    def describe(self, row: int = 0) -> str:
        """``outcome`` in words, for a reader who points at one row (a phase diagram's cell):
        'reached ✖ at (0.91, 0.00), a minimum with f − f* = 3.9, in 6 iterations',
        'diverged at iteration 7', 'not at a minimum after 150 iterations (f − f* = 0.081)'."""
        if self.diverged_at[row] >= 0:
            return f"diverged at iteration {int(self.diverged_at[row])}"
        iterations = int(self.iterations[row])
        if iterations >= 0:
            minimum = self.surface.minima[self.minimum[row]]
            if minimum.is_global:
                unique = sum(m.is_global for m in self.surface.minima) == 1
                what = "the global minimum" if unique else "a global minimum"
            else:
                what = f"a minimum with f − f* = {minimum.value - self.surface.minimum_value:.2g}"
            when = (f"only at the last of {iterations} iterations" if iterations == self.last_iteration
                    else f"in {iterations} iteration{'s' * (iterations != 1)}")
            x, y = minimum.point
            return f"reached {MARKS[minimum.is_global]} at ({x:.2f}, {y:.2f}), {what}, {when}"
        if self.left_at[row] >= 0:
            return f"left the view at iteration {int(self.left_at[row])} and stayed outside"
        if self.surface.minimum_value is None:
            return f"no minimum to reach: f = {float(self.losses[-1, row]):.2g} after {self.last_iteration} iterations"
        gap = float(self.losses[-1, row]) - self.surface.minimum_value
        return f"not at a minimum after {self.last_iteration} iterations (f − f* = {gap:.2g})"

    def label(self, row: int | None = None, name: str | None = None) -> str:
        """Legend text as on a lecture slide: 'adam [123]'; every row's outcome, 'adam [123,
        diverged@7]', unless ``row`` picks one."""
        rows = range(self.rows) if row is None else [row]
        return f"{name or self.name} [{', '.join(self.outcome(r) for r in rows)}]"

    def row(self, index: int) -> "Trajectories":
        """Row ``index`` of a batched run, as a run of its own (e.g. one cell of a sweep)."""
        pick = slice(index, index + 1)
        return replace(self, points=self.points[:, pick], losses=self.losses[:, pick],
                       iterations=self.iterations[pick], minimum=self.minimum[pick],
                       diverged_at=self.diverged_at[pick], left_at=self.left_at[pick],
                       settings={k: v[pick] for k, v in self.settings.items()}, grid=None,
                       recorded=None if self.recorded is None else self.recorded.rows(pick))


def _starts(surface: Surface, starts) -> Tensor:
    points = torch.as_tensor(surface.starts if starts is None else starts, dtype=torch.float64)
    points = points.reshape(-1, 2) if points.numel() == 2 else points
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"Invalid starts: expected a point (x, y) or a list of points, got shape "
                         f"{tuple(points.shape)}")
    if not torch.isfinite(points).all():
        raise ValueError("Invalid starts: points must be finite")
    return points


def _per_row(name: str, value, rows: int) -> Tensor | float:
    """A float stays a float; a sequence of ``rows`` values becomes a (rows, 1) tensor. Values
    must be finite (an infinite learning rate makes every row non-finite at the first step)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError(f"Invalid {name}: {value!r} (expected a finite number)")
        return float(value)
    values = torch.as_tensor(value, dtype=torch.float64).reshape(-1)
    if not torch.isfinite(values).all():
        raise ValueError(f"Invalid {name}: {values.tolist()} (expected finite numbers)")
    if values.numel() == 1:
        return values.item()
    if values.numel() != rows:
        raise ValueError(f"Invalid {name}: {values.numel()} values for {rows} rows")
    return values.reshape(rows, 1)


@dataclass
class _Job:
    """One optimizer's rows in a (possibly joint) run."""

    spec: optim.Spec
    starts: Tensor  # (B, 2)
    settings: dict  # per-row hyper-parameters: a float or a (B, 1) tensor each
    hyperparameters: dict = field(default_factory=dict)

    def build(self, p: Tensor, seed: int) -> optim.Optimizer:
        """The optimizer of these rows on ``p``, at the rows' learning rates (the spec's own, if
        it has one, is theirs)."""
        settings = {k: (v.to(p) if isinstance(v, Tensor) else v) for k, v in self.settings.items()}
        return self.spec.without_lr().build([p], seed=seed, **self.hyperparameters, **settings)


class _Recorder:
    """Reads one optimizer's gradient, learning rate and state (``Recorded``) after each step."""

    def __init__(self, optimizer: optim.Optimizer, p: Tensor, steps: int, hyperparameters: dict):
        self.optimizer, self.p, self.hyperparameters = optimizer, p, hyperparameters
        self.group = optimizer.param_groups[0]
        # the state the first step starts from: the optimizer's own initialisation, done now
        # rather than inside the first step (the same tensors; the step then finds them)
        initial = optimizer._state_of(p, self.group)
        self.symbols = type(optimizer).state_symbols
        self.initial = {key: initial[key].clone() for key in self.symbols if key in initial}
        self.gradients = torch.full((steps + 1, *p.shape), math.nan, dtype=p.dtype, device=p.device)
        self.lrs = torch.full((steps + 1, p.shape[0], 1), math.nan, dtype=p.dtype, device=p.device)
        self.state: dict[str, Tensor] = {}
        self.k = 0  # the point whose step was taken last

    def read(self) -> None:
        """After the step from point k: its gradient and lr, and the state now held at point k + 1."""
        state = self.optimizer.state[self.p]
        if not self.state:  # the keys the rule keeps, known once it has stepped
            for key in (key for key in self.symbols if key in state):
                values = self.state[key] = torch.full_like(self.gradients, math.nan)
                values[0] = self.initial.get(key, 0.0)
        self.gradients[self.k] = self.p.grad
        self.lrs[self.k] = self.group["lr"]
        self.k += 1
        for key, values in self.state.items():
            values[self.k] = state[key]

    def recorded(self, points: Tensor) -> Recorded:
        """What was read, NaN where ``points`` (a row's, from its divergence) are NaN."""
        gone = torch.isnan(points).any(-1).to(self.gradients.device)
        values = [self.gradients, self.lrs, *self.state.values()]
        for tensor in values:
            tensor[gone] = math.nan
        gradients, lrs, *state = (tensor.cpu() for tensor in values)
        return Recorded(gradients, lrs, dict(zip(self.state, state)), dict(self.hyperparameters))


def _simulate(surface: Surface, starts: Sequence[Tensor], steps: int,
              stepper: Callable[[list[Tensor]], Callable[[], None]], escape: float, device,
              dtype, values_per_point: int = 3) -> list[tuple[Tensor, Tensor]]:
    """Step the parameters (B_i, 2), one per start tensor, ``steps`` times with ``stepper``;
    record points and divergence of each. ``values_per_point``: the numbers a run keeps per row
    and point (a point's 2 coordinates and its loss; more with recorded state): a run that would
    keep more than ``MAX_RUN_BYTES`` of them is refused before anything is allocated."""
    if isinstance(steps, bool) or not (isinstance(steps, int) and steps >= 1):
        raise ValueError(f"Invalid steps: {steps!r} (expected an integer >= 1)")
    rows = sum(len(start) for start in starts)
    size = (steps + 1) * rows * values_per_point * torch.finfo(dtype).bits // 8
    if size > MAX_RUN_BYTES:
        raise ValueError(f"Invalid run: {rows:,} rows x {steps + 1:,} points would keep {size / 1e9:,.1f} GB "
                         f"(at most {MAX_RUN_BYTES / 1e9:g} GB): fewer rows (lrs, momenta, starts) or steps")
    ps = [s.to(device=device, dtype=dtype).clone().requires_grad_() for s in starts]
    records = [torch.empty((steps + 1, *p.shape), device=p.device, dtype=dtype) for p in ps]
    advance = stepper(ps)
    # a long run says so (steps=10**6 took 250 s in silence): a progress bar past LONG_RUN steps
    for k in tqdm(range(steps + 1), desc=f"{surface.name}: steps", unit="step", leave=False,
                  disable=steps < LONG_RUN):
        if k:
            advance()
        for p, points in zip(ps, records):
            points[k] = p.detach()
    return [_divergence(surface, points, escape) for points in records]


def escape_bounds(surface: Surface, escape: float = ESCAPE) -> Bounds:
    """The box a run stays in while it has not diverged: the view's centre ± ``escape`` times the
    view's width and height."""
    (x0, x1), (y0, y1) = surface.bounds
    (cx, cy), (rx, ry) = ((x0 + x1) / 2, (y0 + y1) / 2), (escape * (x1 - x0), escape * (y1 - y0))
    return (cx - rx, cx + rx), (cy - ry, cy + ry)


def _divergence(surface: Surface, points: Tensor, escape: float) -> tuple[Tensor, Tensor]:
    """Points NaN from the first step a row left the finite range or ``escape_bounds``, and that
    step per row (-1: never)."""
    (x0, x1), (y0, y1) = escape_bounds(surface, escape)
    x, y = points[..., 0], points[..., 1]
    gone = ~torch.isfinite(points).all(-1) | (x < x0) | (x > x1) | (y < y0) | (y > y1)
    steps_axis = torch.arange(points.shape[0], device=points.device)
    diverged_at = torch.where(gone.any(0), gone.int().argmax(0), -1)  # first step gone, or -1
    points[(diverged_at >= 0) & (steps_axis.unsqueeze(1) >= diverged_at)] = float("nan")
    return points.cpu(), diverged_at.cpu()


def _assess(surface: Surface, points: Tensor, diverged_at: Tensor, tolerance: float,
            criterion: str) -> tuple[Tensor, Tensor, Tensor]:
    """Losses; per row the minimum nearest to the last point, and the iterations after which
    the row stayed within ``tolerance`` of it (by distance, or by loss gap)."""
    with torch.no_grad():
        losses = surface(points)
    rows = points.shape[1]
    if not surface.minima:
        return losses, torch.full((rows,), -1), torch.full((rows,), -1)
    centres = torch.tensor([m.point for m in surface.minima], dtype=points.dtype)
    which = torch.cdist(points[-1].nan_to_num(), centres,
                        compute_mode="donot_use_mm_for_euclid_dist").argmin(-1)
    if criterion == "distance":
        within = (points - centres[which]).norm(dim=-1) < tolerance
    else:
        within = losses - surface.minimum_value < tolerance
    reached = _final_stretch(within)
    converged = (reached >= 0) & (diverged_at < 0)
    return losses, torch.where(converged, reached, -1), torch.where(converged, which, -1)


def _left_view(surface: Surface, points: Tensor, ongoing: Tensor) -> Tensor:
    """Per row in ``ongoing`` (neither diverged nor converged), the first step of the final
    stretch it spent outside the view (``surface.bounds``); -1 for the other rows and for rows
    that end inside."""
    (x0, x1), (y0, y1) = surface.bounds
    x, y = points[..., 0], points[..., 1]
    outside = (x < x0) | (x > x1) | (y < y0) | (y > y1)
    return torch.where(ongoing, _final_stretch(outside), -1)


def _final_stretch(holds: Tensor) -> Tensor:
    """(T+1, B) → (B,): the first step from which ``holds`` stays true to the last step; -1
    where it is false at the last step."""
    steps_axis = torch.arange(holds.shape[0]).unsqueeze(1)
    last_false = torch.where(~holds, steps_axis, -1).max(0).values
    return torch.where(holds[-1], last_false + 1, -1)


def _run_jobs(surface: Surface, jobs: Sequence[_Job], loss_of=None, *, steps: int = 200,
              tolerance: float | None = None, criterion: str = "distance", seed: int = 0,
              escape: float = ESCAPE, device=None, dtype=torch.float64,
              schedule: str = "none", record_state: bool = False) -> list[Trajectories]:
    """Step every job's rows together: one loss and gradient evaluation per step for all of
    them (rows are independent, so this is exactly the jobs run one by one), then each job's
    optimizer steps its own parameter; the learning rates follow ``schedule`` over the
    ``steps`` iterations ("plateau" on the mean loss of the rows still finite).
    ``record_state`` keeps each job's gradients and optimizer state (``Recorded``)."""
    tolerance = _tolerance(surface, tolerance, criterion)
    schedules.check(schedule)
    optim.require_seed(seed)
    loss_of = loss_of or surface
    recorders = []

    def stepper(ps):
        optimizers = [job.build(p, seed) for job, p in zip(jobs, ps)]
        if record_state:
            recorders.extend(_Recorder(optimizer, p, steps, job.hyperparameters)
                             for optimizer, p, job in zip(optimizers, ps, jobs))
        ones = torch.ones(sum(p.shape[0] for p in ps), dtype=dtype, device=ps[0].device)
        rate = schedules.Schedule(schedule, steps, optimizers)

        def advance():
            for p in ps:
                p.grad = None  # the engine owns p: cheaper than optimizer.zero_grad()
            losses = loss_of(ps[0] if len(ps) == 1 else torch.cat(ps))
            # rows are independent: seeding backward with ones is ∇ of the sum, without the sum
            torch.autograd.backward(losses, grad_tensors=ones)
            for optimizer in optimizers:
                optimizer.step()
            for recorder in recorders:
                recorder.read()
            if schedule == "plateau":  # the loss is read only where it is used (on a GPU, a sync)
                finite = losses.detach()[torch.isfinite(losses.detach())]
                rate.step(float(finite.mean()) if len(finite) else None)
            elif schedule != "none":
                rate.step()

        return advance

    kept = 3 + (3 + 2 * max(len(job.spec.rule.state_symbols) for job in jobs) if record_state else 0)
    results = _simulate(surface, [job.starts for job in jobs], steps, stepper, escape, device, dtype, kept)
    every_runs = [_trajectory(surface, job.spec, points, diverged_at, job.settings, tolerance, criterion)
                  for job, (points, diverged_at) in zip(jobs, results)]
    for runs, recorder in zip(every_runs, recorders):
        runs.recorded = recorder.recorded(runs.points)
    return every_runs


def _tolerance(surface: Surface, tolerance: float | None, criterion: str) -> float:
    """The arrival test's tolerance: ``tolerance``, or by distance the surface's own (None);
    a bad test is refused before any work."""
    if criterion not in CRITERIA:
        raise ValueError(f"Invalid criterion {criterion!r}; valid: {', '.join(CRITERIA)}")
    if tolerance is None:
        if criterion == "loss":
            raise ValueError("Invalid tolerance: None with criterion 'loss' (give the loss gap f − f* "
                             "that counts as arrived)")
        return surface.tolerance
    if not tolerance > 0:
        raise ValueError(f"Invalid tolerance: {tolerance!r} (expected tolerance > 0)")
    return tolerance


def _trajectory(surface, spec, points, diverged_at, settings, tolerance, criterion,
                name="") -> Trajectories:
    """The verdicts on one job's points, as ``Trajectories``."""
    losses, iterations, minimum = _assess(surface, points, diverged_at, tolerance, criterion)
    left_at = _left_view(surface, points, (diverged_at < 0) & (iterations < 0))
    rows = points.shape[1]
    settings = {k: (v.reshape(-1) if isinstance(v, Tensor) else torch.full((rows,), v, dtype=torch.float64))
                for k, v in settings.items()}
    return Trajectories(spec, surface, points, losses, iterations, minimum, diverged_at, left_at,
                        settings, tolerance, criterion, name=name)


def run(surface: Surface, spec: str | optim.Spec, *, starts=None, lr=0.01, momentum=None,
        batch_size: int | None = None, seed: int = 0, steps: int = 200, tolerance: float | None = None,
        criterion: str = "distance", escape: float = ESCAPE, device=None, dtype=torch.float64,
        schedule: str = "none", record_state: bool = False, **hyperparameters) -> Trajectories:
    """Run the optimizer ``spec`` from each start (rows) on ``surface``, all rows in one tensor.

    ``lr`` and ``momentum`` are a number (all rows) or one value per row; a spec with its own
    learning rate, 'sgd@0.1', runs at that one (the run is then named 'sgd η=0.1').
    ``momentum`` is the rule's momentum (β1 for the Adam family). ``batch_size`` makes a
    stochastic surface use minibatches (SGD); None uses all data (GD). A row has arrived when
    it stays within ``tolerance`` of a minimum (``criterion`` "distance"; by default the
    surface's ``tolerance``, within the ★ a figure draws), or of the minimum value ("loss":
    give the gap). ``schedule`` ("step", "cosine", "plateau": ``landscape.schedules``)
    changes the learning rate from iteration to iteration, as torch's schedulers do.
    ``record_state`` keeps the gradients and the optimizer's state at each point
    (``Trajectories.recorded``). Other keywords go to ``landscape.optim.build``.
    """
    spec = optim.parse(spec)
    points = _starts(surface, starts)
    rows = points.shape[0]
    settings = {"lr": _per_row("lr", lr if spec.lr is None else spec.lr, rows)}
    if momentum is not None:
        settings["momentum"] = _per_row("momentum", momentum, rows)
    loss_of = None
    if batch_size is not None:
        if not isinstance(surface, StochasticSurface):
            raise ValueError(f"Invalid batch_size: {surface.name!r} is not a stochastic surface")
        if not (isinstance(batch_size, int) and 1 <= batch_size <= surface.data.size):
            raise ValueError(f"Invalid batch_size: {batch_size!r} (expected 1 to {surface.data.size})")
        loss_of = _minibatches(surface, batch_size, seed)
    (trajectory,) = _run_jobs(surface, [_Job(spec, points, settings, hyperparameters)], loss_of, steps=steps,
                              tolerance=tolerance, criterion=criterion, seed=seed, escape=escape,
                              device=device, dtype=dtype, schedule=schedule, record_state=record_state)
    if batch_size is not None:
        trajectory.name = f"{trajectory.name} (batch {batch_size})"
    return trajectory


def _minibatches(surface: StochasticSurface, batch_size: int, seed: int):
    """A loss function that walks seeded shuffled epochs of the data, one minibatch per call."""
    generator = torch.Generator().manual_seed(seed)
    order = []

    def loss(p):
        if len(order) < batch_size:
            order.extend(torch.randperm(surface.data.size, generator=generator).tolist())
        indices = torch.tensor(order[:batch_size])
        del order[:batch_size]
        return surface.minibatch(p, indices)

    return loss


def newton(surface: Surface, *, starts=None, steps: int = 20, tolerance: float | None = None,
           criterion: str = "distance", escape: float = ESCAPE, device=None,
           dtype=torch.float64) -> Trajectories:
    """Newton's method p ← p − H⁻¹∇f with the exact 2x2 Hessian: the second-order reference."""
    tolerance = _tolerance(surface, tolerance, criterion)

    def stepper(ps):
        def advance():
            with torch.no_grad():
                ps[0].copy_(newton_step(surface.fn, ps[0].detach()))

        return advance

    ((points, diverged_at),) = _simulate(surface, [_starts(surface, starts)], steps, stepper,
                                         escape, device, dtype)
    return _trajectory(surface, None, points, diverged_at, {}, tolerance, criterion, name="newton")


def _grid_of(spec: optim.Spec, lrs, momenta) -> Grid:
    """The grid ``spec`` is swept on: ``lrs`` x ``momenta``, at its own lr if it has one."""
    grid = Grid(lrs, momenta)
    return grid if spec.lr is None else grid.at_lr(spec.lr)


def _start_of_sweep(surface: Surface, start) -> Tensor:
    return _starts(surface, surface.start if start is None else start)[:1]


def sweep(surface: Surface, spec: str | optim.Spec, lrs: Sequence[float],
          momenta: Sequence[float] | None = None, *, start=None, **options) -> Trajectories:
    """The lr x momentum sweep of one optimizer: every (lr, momentum) cell of ``Grid(lrs,
    momenta)`` from one start, as one batched run; ``runs.grid`` lays the rows out
    (``runs.grid.values(runs.iterations)`` is (len(lrs), len(momenta))).
    A spec with its own learning rate, 'sgd@0.1', sweeps momenta only: (1, len(momenta))."""
    spec = optim.parse(spec)
    grid = _grid_of(spec, lrs, momenta)
    rows = grid.rows()
    runs = run(surface, spec, starts=_start_of_sweep(surface, start).repeat(grid.cells, 1), lr=rows["lr"],
               momentum=rows.get("momentum"), **options)
    runs.grid = grid
    return runs


RUN_OPTIONS = ("steps", "tolerance", "criterion", "seed", "escape", "device", "dtype", "schedule",
               "record_state")


def sweeps(surface: Surface, specs: str | Sequence[str | optim.Spec], lrs: Sequence[float],
           momenta: Sequence[float] | None = None, *, start=None, **options) -> list[Trajectories]:
    """``sweep`` for several optimizers, stepped together: one loss and gradient evaluation per
    step for all of them (what the explorer precomputes for its sliders).

    As in ``compare``, ``momenta`` go to the specs that take momentum (the others are swept over
    lrs only), each hyper-parameter keyword goes to the specs that accept it, and a spec with its
    own learning rate, 'sgd@0.1', keeps it: its grid has that one lr."""
    specs = optim.parse_list(specs)
    run_options = {k: v for k, v in options.items() if k in RUN_OPTIONS}
    hyperparameters = {k: v for k, v in options.items() if k not in RUN_OPTIONS}
    for name in hyperparameters:
        if not any(name in spec.hyperparameters() for spec in specs):
            raise ValueError(f"Invalid hyper-parameter {name!r}: none of "
                             f"{', '.join(spec.text for spec in specs)} takes it")
    start = _start_of_sweep(surface, start)
    jobs, grids = [], []
    for spec in specs:
        grid = _grid_of(spec, lrs, momenta if spec.momentum_parameter else None)
        settings = {name: values.reshape(-1, 1) for name, values in grid.rows().items()}
        jobs.append(_Job(spec, start.repeat(grid.cells, 1), settings,
                         {k: v for k, v in hyperparameters.items() if k in spec.hyperparameters()}))
        grids.append(grid)
    every_runs = _run_jobs(surface, jobs, **run_options)
    for runs, grid in zip(every_runs, grids):
        runs.grid = grid
    return every_runs


def compare(surface: Surface, specs: str | Sequence[str | optim.Spec], *, lr=0.01, momentum=None,
            batch_size: int | None = None, **options) -> list[Trajectories]:
    """One run per spec, same starts and options; ``lr`` is a number or {spec: lr}, and a spec
    with its own learning rate, 'sgd@0.1', keeps it (the run is named 'sgd η=0.1'): the same
    optimizer at several learning rates is ``compare(surface, ["sgd@0.01", "sgd@0.1"])``. A
    string is a comma-separated list: ``compare(surface, "sgd, adam")`` (``optim.parse_list``;
    ``optim.learning_rates``).

    ``momentum`` goes to the specs that have momentum (``Spec.momentum_parameter``: heavy ball,
    Nesterov, β1 of the Adam family), not to plain gd/sgd. On a stochastic surface
    ``batch_size`` applies to every spec but ``gd``: gradient descent is by definition the
    full-batch rule, so "gd" vs "sgd" shows GD against minibatch SGD.
    """
    specs = optim.parse_list(specs)
    return [run(surface, spec, lr=spec_lr, momentum=momentum if spec.momentum_parameter else None,
                batch_size=None if spec.base == "gd" else batch_size, **options)
            for spec, spec_lr in zip(specs, optim.learning_rates(specs, lr))]
