"""The batched trajectory engine: grids, iteration counts, divergence, Newton, minibatches."""

import math
import re

import pytest
import torch

from landscape import surfaces, trajectory
from landscape.theory import optimal_heavy_ball


def test_grid_rows_equal_single_runs():
    surface = surfaces.get("two-well")
    lrs, momenta = [0.005, 0.02, 0.05], [0.0, 0.5, 0.9]
    batched = trajectory.sweep(surface, "momentum", lrs, momenta, steps=80)
    assert batched.grid.shape == (3, 3)
    for i, lr in enumerate(lrs):
        for j, momentum in enumerate(momenta):
            single = trajectory.run(surface, "momentum", lr=lr, momentum=momentum,
                                    starts=[surface.start], steps=80)
            row = batched.grid.row(i, j)
            assert row == i * len(momenta) + j, "row-major, lr index major"
            # same maths; the tensor-lr path rounds in a different order than the float one
            torch.testing.assert_close(batched.points[:, row], single.points[:, 0], rtol=1e-8, atol=1e-8)
            assert batched.outcome(row) == single.outcome(0)


def test_grids_stepped_together_equal_separate_grids():
    """One joint loss/gradient per step for all optimizers: bit for bit the separate runs."""
    surface = surfaces.get("two-well")
    lrs, momenta = [0.005, 0.05], [0.0, 0.9]
    specs = ["sgd", "nesterov", "adam+gradnoise", "radamw+lookahead"]
    together = trajectory.sweeps(surface, specs, lrs, momenta, start=(0.3, 1.0), steps=60,
                                seed=3, noise_eta=0.05)
    for spec, joint in zip(specs, together):
        takes_momentum = spec != "sgd"
        alone = trajectory.sweep(surface, spec, lrs, momenta if takes_momentum else None,
                                start=(0.3, 1.0), steps=60, seed=3,
                                **({"noise_eta": 0.05} if "gradnoise" in spec else {}))
        assert joint.grid.shape == ((2, 2) if takes_momentum else (2, 1))
        assert torch.equal(joint.points.nan_to_num(7.0), alone.points.nan_to_num(7.0))
        assert torch.equal(joint.iterations, alone.iterations) and joint.spec.text == spec
        assert ("momentum" in joint.settings) == takes_momentum


def test_grids_refuse_a_hyper_parameter_no_optimizer_takes():
    with pytest.raises(ValueError, match="Invalid hyper-parameter 'noise_eta': none of sgd, adam"):
        trajectory.sweeps(surfaces.get("two-well"), ["sgd", "adam"], [0.01], noise_eta=0.1)


def test_iterations_count_from_reaching_the_minimum_the_run_ends_at():
    """A path that passes close to one minimum and ends at another converged to the second:
    its count starts when it got within tolerance of that one."""
    surface = surfaces.get("two-well")
    left, right = (m.point for m in sorted(surface.minima, key=lambda m: m.point[0]))
    run = trajectory.run(surface, "gd", starts=[right], lr=0.0, steps=3)  # stays at the right one
    assert run.iterations[0] == 0 and surface.minima[run.minimum[0]].point == right
    points = torch.tensor([[right], [left], [left], [left]], dtype=torch.float64)
    losses, iterations, minimum = trajectory._assess(surface, points, torch.tensor([-1]), 1e-3, "distance")
    assert iterations[0] == 1 and surface.minima[minimum[0]].point == left


def test_gd_with_lr_one_over_lambda_max_converges_in_the_steps_theory_gives():
    """A = R diag(1, κ) Rᵀ, η = 1/κ: the κ-component vanishes in one step, the 1-component
    shrinks by (1 − 1/κ) per step, so ‖p_k‖ = |c₁| (1 − 1/κ)^k for k ≥ 1."""
    kappa, angle, tolerance = 10.0, 30.0, 1e-3
    surface = surfaces.quadratic(kappa, angle)
    start = (-4.0, 3.5)
    c1 = abs(start[0] * math.cos(math.radians(angle)) + start[1] * math.sin(math.radians(angle)))
    expected = math.ceil(math.log(tolerance / c1) / math.log(1 - 1 / kappa))
    run = trajectory.run(surface, "gd", lr=1 / kappa, starts=[start], steps=200, tolerance=tolerance)
    assert int(run.iterations[0]) == expected
    assert run.outcome(0) == str(expected) and run.label(0) == f"gd [{expected}]"


def test_gd_above_two_over_lambda_max_diverges_and_below_does_not():
    surface = surfaces.quadratic(10.0, 0.0)
    run = trajectory.run(surface, "gd", lr=[0.19, 0.21], starts=[surface.start] * 2, steps=300)
    assert run.diverged_at[0] == -1 and run.iterations[0] > 0
    k = int(run.diverged_at[1])
    assert k > 0 and run.outcome(1) == f"diverged@{k}"
    assert torch.isnan(run.points[k:, 1]).all() and torch.isfinite(run.points[:k, 1]).all()


def test_phase_diagram_divergence_follows_heavy_ball_stability_theory():
    """Heavy ball on a quadratic is stable iff lr·λmax < 2(1 + β) (and lr > 0, 0 ≤ β < 1)."""
    surface = surfaces.get("quadratic")
    lam = max(surface.eigenvalues)
    lrs, momenta = torch.logspace(-1.5, 0, 24), torch.linspace(0, 0.9, 10)
    sweep = trajectory.sweep(surface, "momentum", lrs, momenta, steps=400)
    diverged = sweep.grid.values(sweep.diverged_at) >= 0
    for i, lr in enumerate(lrs.tolist()):
        for j, beta in enumerate(momenta.tolist()):
            margin = lr * lam / (2 * (1 + beta))
            if margin > 1.05:
                assert diverged[i, j], (lr, beta)
            elif margin < 0.95:
                assert not diverged[i, j], (lr, beta)


def test_optimal_heavy_ball_beats_gradient_descent_as_theory_says():
    surface = surfaces.get("ill-conditioned")
    lr, beta = optimal_heavy_ball(surface.eigenvalues)
    fast = trajectory.run(surface, "momentum", lr=lr, momentum=beta, steps=2000)
    slow = trajectory.run(surface, "gd", lr=2 / sum(surface.eigenvalues), steps=2000)
    assert 0 < fast.iterations[0] < slow.iterations[0] / 3


def test_reports_which_minimum_was_reached():
    surface = surfaces.get("two-well")
    run = trajectory.run(surface, "gd", lr=0.01, starts=[(-0.6, 0.3), (0.7, 0.2)], steps=400)
    global_index = [i for i, m in enumerate(surface.minima) if m.is_global][0]
    local_index = 1 - global_index
    assert run.minimum.tolist() == [global_index, local_index]


def test_not_converged_is_reported_as_more_than_t():
    run = trajectory.run(surfaces.get("rosenbrock"), "gd", lr=1e-4, steps=50)
    assert run.iterations[0] == -1 and run.outcome(0) == ">50" and run.label(0, "GD") == "GD [>50]"


def test_loss_criterion_uses_the_gap_to_the_global_minimum():
    surface = surfaces.get("quadratic")
    run = trajectory.run(surface, "gd", lr=0.1, steps=200, criterion="loss", tolerance=1e-6)
    k = int(run.iterations[0])
    gap = run.losses[:, 0] - surface.minimum_value
    assert gap[k] < 1e-6 <= gap[k - 1]


def test_newton_converges_in_one_step_on_a_quadratic_and_fast_on_rosenbrock():
    assert trajectory.newton(surfaces.get("ill-conditioned"), steps=5).iterations[0] == 1
    rosenbrock = trajectory.newton(surfaces.get("rosenbrock"), steps=20)
    assert 0 < rosenbrock.iterations[0] <= 10
    saddle = trajectory.newton(surfaces.get("saddle"), steps=3)
    assert saddle.points[-1, 0].abs().max() < 1e-12, "Newton is attracted by the saddle point"


def test_minibatch_sgd_is_seeded_and_differs_from_full_batch():
    surface = surfaces.get("regression")
    gd = trajectory.run(surface, "sgd", lr=0.05, steps=50)
    sgd = trajectory.run(surface, "sgd", lr=0.05, steps=50, batch_size=5, seed=1)
    again = trajectory.run(surface, "sgd", lr=0.05, steps=50, batch_size=5, seed=1)
    other = trajectory.run(surface, "sgd", lr=0.05, steps=50, batch_size=5, seed=2)
    assert torch.equal(sgd.points, again.points)
    assert not torch.equal(sgd.points, other.points) and not torch.equal(sgd.points, gd.points)
    assert sgd.name == "sgd (batch 5)"
    full = trajectory.run(surface, "sgd", lr=0.05, steps=50, batch_size=surface.data.size)
    torch.testing.assert_close(full.points, gd.points)


def test_compare_keeps_gd_plain_and_full_batch():
    surface = surfaces.get("regression")
    gd, momentum = trajectory.compare(surface, ["gd", "momentum"], lr=0.02, momentum=0.5,
                                      batch_size=5, steps=30)
    assert "momentum" not in gd.settings and gd.name == "gd"
    assert momentum.settings["momentum"][0] == 0.5 and momentum.name == "momentum (batch 5)"


@pytest.mark.parametrize("call,message", [
    (lambda s: trajectory.run(s, "gd", starts=[(1.0, 2.0, 3.0)]), "Invalid starts"),
    (lambda s: trajectory.run(s, "gd", starts=[(float("nan"), 0.0)]), "must be finite"),
    (lambda s: trajectory.run(s, "gd", steps=0), "Invalid steps: 0"),
    (lambda s: trajectory.run(s, "gd", tolerance=0), "Invalid tolerance"),
    (lambda s: trajectory.run(s, "gd", criterion="close"), "Invalid criterion 'close'; valid: distance, loss"),
    (lambda s: trajectory.run(s, "gd", lr=[0.1, 0.2], starts=[(0.0, 1.0)] * 3), "Invalid lr: 2 values for 3 rows"),
    (lambda s: trajectory.run(s, "gd", batch_size=4), "not a stochastic surface"),
    (lambda s: trajectory.run(s, "adagrad", momentum=0.9), "Invalid hyper-parameter 'momentum'"),
    (lambda s: trajectory.run(s, "gd", lr=-1.0), "Invalid lr: -1.0"),
    (lambda s: trajectory.compare(s, []), "Invalid optimizers: give at least one"),
    (lambda s: trajectory.compare(s, ""), "Invalid optimizers: give at least one"),
    (lambda s: trajectory.compare(s, ["sgd", "adam"], lr={"sgd": 0.1, "adma": 0.1}),
     "Invalid lr: 'adma' is none of the optimizers sgd, adam"),
    (lambda s: trajectory.compare(s, ["sgd@0.1", "adam"], lr={"sgd": 0.5, "adam": 0.1}),
     "Invalid lr: sgd=0.5 would be ignored: sgd@0.1 keep their own learning rate"),
    (lambda s: trajectory.run(s, "sgd+gradnoise", seed=2**64), "Invalid seed: 18446744073709551616 (expected an "
                                                                  "integer from 0 to 2**63 - 1)"),
    (lambda s: trajectory.run(s, "sgd", seed=-1), "Invalid seed: -1"),
    (lambda s: trajectory.sweep(s, "momentum", [], [0.5]), "lrs: [] (expected one or more finite numbers > 0)"),
    (lambda s: trajectory.sweep(s, "momentum", torch.logspace(-3, 0, 10_000), torch.linspace(0, 0.9, 10_000),
                                steps=10), "Invalid run: 100,000,000 rows x 11 points would keep 26.4 GB (at most 2 GB)"),
    (lambda s: trajectory.sweeps(s, "momentum, adam", torch.logspace(-3, 0, 1000), torch.linspace(0, 0.9, 100),
                                 steps=150, record_state=True),  # 2e5 rows x 151 x (3 + 3 + 2 x 3 of Adam) x 8 B
     "Invalid run: 200,000 rows x 151 points would keep 2.9 GB"),
])
def test_bad_input_is_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call(surfaces.get("two-well"))


def _heavy_ball_by_hand(surface, start, lr, beta, steps):
    """Heavy ball v ← βv + ∇f, p ← p − ηv (β = 0: GD) on ½ pᵀAp, in Python floats; A from the
    surface's rotation as in ``surfaces.quadratic`` (angle 30°, eigenvalues 1 and κ)."""
    kappa, angle = max(surface.eigenvalues), math.radians(30.0)
    c, s = math.cos(angle), math.sin(angle)
    a11, a12, a22 = c * c + kappa * s * s, (1 - kappa) * c * s, s * s + kappa * c * c
    (x, y), (vx, vy), points = start, (0.0, 0.0), [start]
    for _ in range(steps):
        vx, vy = beta * vx + a11 * x + a12 * y, beta * vy + a12 * x + a22 * y
        x, y = x - lr * vx, y - lr * vy
        points.append((x, y))
    return points


def _left_at_by_hand(points, bounds):
    """The first step of the final stretch outside the view box; -1 if the last point is inside."""
    (x0, x1), (y0, y1) = bounds
    inside = [x0 <= x <= x1 and y0 <= y <= y1 for x, y in points]
    return -1 if inside[-1] else max(k for k, is_inside in enumerate(inside) if is_inside) + 1


def test_a_run_that_ends_outside_the_view_has_left_it_and_one_that_comes_back_has_not():
    surface = surfaces.get("quadratic")  # view [-5, 5]², λmax = 10: GD is unstable above 0.2
    expected = _left_at_by_hand(_heavy_ball_by_hand(surface, surface.start, 0.21, 0.0, 25),
                                surface.bounds)
    assert expected > 0
    unstable = trajectory.run(surface, "gd", lr=0.21, steps=25)
    assert unstable.diverged_at[0] == -1 and unstable.iterations[0] == -1  # finite, in range
    assert unstable.left_at[0] == expected and unstable.outcome(0) == f"left@{expected}"
    assert unstable.label() == f"gd [left@{expected}]"

    heavy_ball = _heavy_ball_by_hand(surface, surface.start, 0.2, 0.9, 25)
    assert _left_at_by_hand(heavy_ball[:2], surface.bounds) == 1, "overshoots out of the view"
    assert _left_at_by_hand(heavy_ball, surface.bounds) == -1, "and comes back"
    back = trajectory.run(surface, "momentum", lr=0.2, momentum=0.9, steps=25)
    assert back.left_at[0] == -1 and back.outcome(0) == ">25"


def test_left_at_per_row_not_for_diverged_rows_and_kept_by_row():
    surface = surfaces.get("quadratic")
    batched = trajectory.run(surface, "gd", lr=[0.1, 0.21, 0.3], starts=[surface.start] * 3, steps=25)
    left = _left_at_by_hand(_heavy_ball_by_hand(surface, surface.start, 0.21, 0.0, 25), surface.bounds)
    assert batched.diverged_at[2] > 0, "η = 0.3 leaves the range: diverged, not left"
    assert batched.left_at.tolist() == [-1, left, -1]
    assert [batched.outcome(r) for r in range(3)] == [">25", f"left@{left}",
                                                      f"diverged@{int(batched.diverged_at[2])}"]
    row = batched.row(1)
    assert row.left_at.tolist() == [left] and row.outcome() == f"left@{left}"


def test_arriving_only_at_the_last_step_says_so():
    """GD at η = 1/κ reaches the tolerance after a number of steps theory gives (see above):
    with exactly that many steps it arrives at the last one."""
    kappa, angle, tolerance = 10.0, 30.0, 1e-3
    start = (-4.0, 3.5)
    c1 = abs(start[0] * math.cos(math.radians(angle)) + start[1] * math.sin(math.radians(angle)))
    expected = math.ceil(math.log(tolerance / c1) / math.log(1 - 1 / kappa))
    run = trajectory.run(surfaces.quadratic(kappa, angle), "gd", lr=1 / kappa, starts=[start],
                         steps=expected, tolerance=tolerance)
    assert run.outcome(0) == f"{expected} (last step)" and run.label() == f"gd [{expected} (last step)]"


def test_the_label_shows_every_row_unless_one_is_picked():
    surface = surfaces.get("quadratic")
    run = trajectory.run(surface, "gd", lr=[0.1, 0.3], starts=[surface.start] * 2, steps=100)
    k = int(run.diverged_at[1])
    assert run.label() == f"gd [{int(run.iterations[0])}, diverged@{k}]"
    assert run.label(1, "GD") == f"GD [diverged@{k}]"


def test_a_spec_with_its_own_learning_rate_runs_at_it_and_says_so():
    surface = surfaces.get("two-well")
    slow, fast = trajectory.compare(surface, ["sgd@0.01", "sgd@0.1"], lr=0.5, steps=40)
    for lr, compared in ((0.01, slow), (0.1, fast)):
        alone = trajectory.run(surface, "sgd", lr=lr, steps=40)
        assert torch.equal(compared.points.nan_to_num(7.0), alone.points.nan_to_num(7.0))
        assert compared.settings["lr"].tolist() == [lr, lr]
        assert compared.spec.text == f"sgd@{lr}" and compared.name == f"sgd η={lr}"
        assert compared.label().startswith(f"sgd η={lr} [")
    mixed = trajectory.compare(surface, ["sgd@0.1", "adam"], lr={"adam": 0.05}, steps=5)
    assert [r.settings["lr"][0].item() for r in mixed] == [0.1, 0.05]
    batched = trajectory.compare(surfaces.get("regression"), ["momentum@0.02"], batch_size=5, steps=5)
    assert batched[0].name == "momentum η=0.02 (batch 5)"


def test_grids_sweep_only_momentum_for_a_spec_with_its_own_learning_rate():
    surface = surfaces.get("two-well")
    lrs, momenta = [0.005, 0.02, 0.05], [0.0, 0.5, 0.9]
    sgd, heavy_ball, adam = trajectory.sweeps(surface, ["sgd@0.1", "momentum@0.02", "adam"], lrs,
                                             momenta, steps=30)
    assert (sgd.grid.shape, heavy_ball.grid.shape, adam.grid.shape) == ((1, 1), (1, 3), (3, 3))
    assert heavy_ball.settings["lr"].tolist() == [0.02] * 3 and heavy_ball.name == "momentum η=0.02"
    for j, momentum in enumerate(momenta):
        alone = trajectory.run(surface, "momentum", lr=0.02, momentum=momentum, steps=30)
        torch.testing.assert_close(heavy_ball.points[:, j], alone.points[:, 0], rtol=1e-8, atol=1e-8)
    single = trajectory.sweep(surface, "momentum@0.02", lrs, momenta, steps=30)
    assert single.grid.shape == (1, 3)
    torch.testing.assert_close(single.points, heavy_ball.points, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("spec,message", [
    ("sgd@", "Invalid learning rate in optimizer spec 'sgd@': '' is not a number"),
    ("sgd@abc", "Invalid learning rate in optimizer spec 'sgd@abc': 'abc' is not a number"),
    ("sgd@-1", "Invalid learning rate in optimizer spec 'sgd@-1': -1.0 (expected a finite number > 0"),
    ("sgd@0", "Invalid learning rate in optimizer spec 'sgd@0': 0.0"),
    ("sgd@inf", "Invalid learning rate in optimizer spec 'sgd@inf': inf"),
    ("sgd@nan", "Invalid learning rate in optimizer spec 'sgd@nan': nan"),
    ("sgdd@0.1", "unknown base rule 'sgdd'"),
])
def test_a_bad_learning_rate_in_a_spec_is_refused(spec, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        trajectory.compare(surfaces.get("two-well"), [spec], steps=2)


def test_a_spec_parses_with_its_own_learning_rate():
    from landscape import optim

    spec = optim.parse("RAdamW+Lookahead@1e-3")
    assert (spec.words, spec.lr, spec.text, spec.name) == ("radamw+lookahead", 0.001, "radamw+lookahead@0.001",
                                                           "radamw+lookahead η=0.001")
    assert optim.parse("sgd").lr is None and optim.parse(spec) is spec, "a parsed spec travels as it is"
    assert optim.build("sgd@0.1", [torch.zeros(2, requires_grad=True)]).param_groups[0]["lr"] == 0.1
    with pytest.raises(ValueError, match=re.escape("'sgd@0.1' has its own learning rate; give it once")):
        optim.build("sgd@0.1", [torch.zeros(2, requires_grad=True)], lr=0.5)


@pytest.mark.parametrize("specs,twice", [(["sgd@0.1", "adam", "sgd@0.1"], "sgd@0.1"),
                                         (["sgd", "SGD"], "SGD"), (["sgd@0.1", "sgd@0.10"], "sgd@0.10")])
def test_the_same_run_twice_is_refused(specs, twice):
    surface = surfaces.get("two-well")
    message = re.escape(f"Invalid optimizers: {twice!r} given twice")
    with pytest.raises(ValueError, match=message):
        trajectory.compare(surface, specs, steps=2)
    with pytest.raises(ValueError, match=message):
        trajectory.sweeps(surface, specs, [0.01], steps=2)


def test_compare_takes_a_string_as_a_comma_separated_list_and_spec_words_in_any_case():
    surface = surfaces.get("two-well")
    (one,) = trajectory.compare(surface, "sgd", lr=0.02, steps=20)
    assert one.spec.text == "sgd"
    by_list = trajectory.compare(surface, ["sgd", "adam"], lr={"sgd": 0.02, "adam": 0.05}, steps=20)
    by_text = trajectory.compare(surface, "SGD, Adam", lr={"sgd": 0.02, "ADAM": 0.05}, steps=20)
    assert [run.spec.text for run in by_text] == ["sgd", "adam"]
    for a, b in zip(by_list, by_text):
        assert torch.equal(a.points, b.points)
    assert [g.spec.text for g in trajectory.sweeps(surface, "sgd, adam", [0.01], steps=2)] == ["sgd", "adam"]


@pytest.mark.parametrize("lr", [float("inf"), float("nan"), [0.1, float("inf")]])
def test_a_non_finite_learning_rate_is_refused_before_any_step(lr):
    with pytest.raises(ValueError, match=r"Invalid lr: .* \(expected (a finite number|finite numbers)\)"):
        trajectory.run(surfaces.get("quadratic"), "sgd", lr=lr, starts=[(1.0, 1.0), (2.0, 2.0)], steps=5)


def test_a_long_run_shows_its_progress(capsys):
    surface = surfaces.get("quadratic")
    trajectory.run(surface, "sgd", lr=0.1, steps=trajectory.LONG_RUN - 1)
    assert "steps" not in capsys.readouterr().err, "short runs stay quiet"
    trajectory.run(surface, "sgd", lr=0.1, steps=trajectory.LONG_RUN)
    assert f"/{trajectory.LONG_RUN + 1} [" in capsys.readouterr().err, "a bar counting the steps"


def _momentum_on_rosenbrock_by_hand(lr, beta, steps, nesterov):
    """torch.optim.SGD's heavy ball (u ← βu + g, p ← p − ηu) or Nesterov (p ← p − η(g + βu)) on
    (1 − x)² + 100(y − x²)² from (−1.2, 1), with the hand gradient, in Python floats."""
    (x, y), (ux, uy), points = (-1.2, 1.0), (0.0, 0.0), [(-1.2, 1.0)]
    for _ in range(steps):
        gx, gy = -2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)
        ux, uy = beta * ux + gx, beta * uy + gy
        dx, dy = (gx + beta * ux, gy + beta * uy) if nesterov else (ux, uy)
        x, y = x - lr * dx, y - lr * dy
        points.append((x, y))
    return points


@pytest.mark.parametrize("spec", ["momentum", "nesterov"])
def test_rosenbrock_runs_that_reach_the_star_arrive(spec):
    """Arrival is the surface's own test: within 1% of the view (0.04 on Rosenbrock's 4 x 4)
    of the minimum (1, 1), inside the ★ drawn there. At η = 0.00126, β = 0.9 both momentum rules
    end on the ★ within 1000 steps (f − f* ≈ 1e-6); the count is the first step of the final
    stretch within 0.04, found here on a run computed by hand."""
    surface = surfaces.get("rosenbrock")
    assert surface.tolerance == pytest.approx(0.04)
    points = _momentum_on_rosenbrock_by_hand(0.00126, 0.9, 1000, nesterov=spec == "nesterov")
    near = [math.dist(p, (1.0, 1.0)) < 0.04 for p in points]
    expected = max(k for k, inside in enumerate(near) if not inside) + 1
    assert near[-1] and 300 < expected < 1000
    run = trajectory.run(surface, spec, lr=0.00126, momentum=0.9, steps=1000)
    assert int(run.iterations[0]) == expected and run.outcome(0) == str(expected), "one global minimum: no mark"
    assert run.losses[-1, 0] < 1e-5, "on the ★, as the picture shows"
    assert run.label() == f"{spec} [{expected}]"
    strict = trajectory.run(surface, spec, lr=0.00126, momentum=0.9, steps=1000, tolerance=1e-6)
    assert strict.tolerance == 1e-6 and strict.outcome(0) == ">1000", "tolerance= still overrides"


def test_the_default_tolerance_is_the_surfaces_and_the_loss_criterion_needs_one():
    surface = surfaces.get("two-well")  # view 4 x 3: 1% of its longer side
    assert surface.tolerance == pytest.approx(0.04)
    run = trajectory.run(surface, "gd", lr=0.02, steps=120)
    assert run.tolerance == surface.tolerance and run.criterion == "distance"
    distance = (run.points[:, 0] - torch.tensor(surface.minima[run.minimum[0]].point)).norm(dim=-1)
    k = int(run.iterations[0])
    assert (distance[k:] < 0.04).all() and distance[k - 1] >= 0.04
    assert trajectory.newton(surface, steps=3).tolerance == surface.tolerance
    own = surfaces.Surface.from_function(lambda p: (p**2).sum(-1), minimum_seeds=[(0.0, 0.0)], tolerance=0.5)
    assert trajectory.run(own, "gd", lr=0.1, starts=[(2.0, 0.0)], steps=30).iterations[0] == 7, "0.8^7·2 < 0.5"
    with pytest.raises(ValueError, match=re.escape("Invalid tolerance: None with criterion 'loss'")):
        trajectory.run(surface, "gd", criterion="loss")
    with pytest.raises(ValueError, match="Invalid tolerance: -1"):
        surfaces.Surface.from_function(lambda p: (p**2).sum(-1), tolerance=-1)


def test_the_outcome_names_the_minimum_reached_where_a_surface_has_more_than_one_kind():
    """Two-well: ✖ for the shallow minimum, ★ for the deep one; a surface whose minima are all
    global (the quadratic, Himmelblau's four) gets no mark: arriving there is success."""
    surface = surfaces.get("two-well")
    deep, shallow = sorted(surface.minima, key=lambda m: m.value)
    run = trajectory.run(surface, "gd", lr=0.01, starts=[(-0.6, 0.3), (0.7, 0.2)], steps=400)
    k = [int(run.iterations[r]) for r in range(2)]
    assert [surface.minima[i] for i in run.minimum.tolist()] == [deep, shallow]
    assert [run.outcome(0), run.outcome(1)] == [f"{k[0]} ★", f"{k[1]} ✖"]
    assert run.label() == f"gd [{k[0]} ★, {k[1]} ✖]"
    gap = shallow.value - deep.value
    assert run.describe(1) == (f"reached ✖ at ({shallow.point[0]:.2f}, 0.00), a minimum with "
                               f"f − f* = {gap:.2g}, in {k[1]} iterations")
    assert f"{gap:.2g}" == "3.9", "−2 + 1 against −6 + 1, less the other well's tails"
    assert run.describe(0) == f"reached ★ at ({deep.point[0]:.2f}, 0.00), the global minimum, in {k[0]} iterations"
    last = trajectory.run(surface, "gd", lr=0.01, starts=[(-0.6, 0.3)], steps=k[0])
    assert last.outcome(0) == f"{k[0]} ★ (last step)"
    assert last.describe(0).endswith(f"the global minimum, only at the last of {k[0]} iterations")

    himmelblau = surfaces.get("himmelblau")
    four = trajectory.run(himmelblau, "gd", lr=0.01, steps=150)
    assert four.outcome(0) == str(int(four.iterations[0])) and "a global minimum" in four.describe(0)
    quadratic = trajectory.run(surfaces.get("quadratic"), "gd", lr=[0.1, 0.3, 0.001],
                               starts=[(-4.0, 3.5)] * 3, steps=100)
    assert quadratic.outcome(0) == str(int(quadratic.iterations[0]))
    assert quadratic.describe(1) == f"diverged at iteration {int(quadratic.diverged_at[1])}"
    gap = float(quadratic.losses[-1, 2])
    assert quadratic.describe(2) == f"not at a minimum after 100 iterations (f − f* = {gap:.2g})"
    saddle = trajectory.run(surfaces.get("saddle"), "momentum", lr=0.005, momentum=0.9, steps=150)
    assert saddle.describe(0) == f"left the view at iteration {int(saddle.left_at[0])} and stayed outside"
