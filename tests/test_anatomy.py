"""The anatomy of a step: what a run records of its optimizer (``record_state=True``) is the
implementation's own state, and the arrows drawn from it are the lecture's terms of the step.

Each recorded point is checked by running the rule's lecture version from the recorded state:
it must land on the run's next point and the next recorded state. The arrows are checked against
the lecture's formulas written out here, and against the step the run took."""

import inspect

import pytest
import torch

import landscape.optim as lo
from landscape import draw, surfaces, trajectory
from landscape.anatomy import anatomy
from landscape.optim.base import KINDS
from test_optim_single_tensor import CASES

SURFACE = surfaces.get("two-well")
STARTS = [(0.2, 1.2), (1.6, -0.8)]
STEPS = 30


def _close(actual, expected, message="", equal_nan=False):
    torch.testing.assert_close(actual, expected, rtol=1e-10, atol=1e-12, equal_nan=equal_nan, msg=message)


def _recorded_run(spec, **options):
    return trajectory.run(SURFACE, spec, starts=STARTS, steps=STEPS, record_state=True, **options)


DECLARING = [rule for rule in {rule for rule, _ in CASES} if "state_symbols" in vars(rule)]


@pytest.mark.parametrize("rule", sorted(DECLARING, key=lambda rule: rule.__name__), ids=lambda rule: rule.__name__)
def test_every_state_tensor_of_a_rule_has_its_lecture_symbol(rule):
    """Every option of the rule and of its subclasses that inherit its declaration (the lecture
    path's cases): each state tensor shaped like the parameter is declared, as a symbol its
    module's docstring uses (u_k, m_k, v_k, …), and every declared key is kept by some option."""
    kept = set()
    for case_rule, hyperparameters in CASES:
        if not (issubclass(case_rule, rule) and case_rule.state_symbols is rule.state_symbols):
            continue
        p = torch.tensor([[0.5, -1.0], [1.5, 2.0]], dtype=torch.float64, requires_grad=True)
        optimizer = case_rule([p], **hyperparameters)
        for _ in range(2):
            p.grad = torch.ones_like(p)
            optimizer.step()
        tensors = {key for key, value in optimizer.state[p].items()
                   if isinstance(value, torch.Tensor) and value.shape == p.shape}
        assert tensors <= set(rule.state_symbols), f"{hyperparameters}: undeclared {tensors - set(rule.state_symbols)}"
        kept |= tensors
    assert kept == set(rule.state_symbols), "every declared key is kept by some option"
    text = inspect.getmodule(rule).__doc__
    for key in kept:
        assert f"{rule.state_symbols[key]}_k" in text, f"{key} is {rule.state_symbols[key]}_k in the docstring"


def test_rules_without_a_declaration_keep_no_state_tensor_shaped_like_the_parameter():
    """AggMo keeps its K velocities in a list: no symbol, and its arrows are the default ones."""
    others = {rule for rule, _ in CASES if not rule.state_symbols}
    assert others == {lo.AggMo}


@pytest.mark.parametrize("spec,options", [
    ("momentum", {"dampening": 0.3}), ("nesterov", {}), ("sgd+momentum+l2", {}), ("adam", {}),
    ("amsgrad", {"beta2": 0.9}), ("adamw", {}), ("rmsprop+momentum+centered", {"lr": 0.002}),
    ("adagrad", {"lr_decay": 0.05, "initial_accumulator_value": 0.1}), ("adadelta", {"lr": 1.0}),
    ("radam", {}), ("adabound", {}),
])
def test_the_lecture_rule_from_each_recorded_state_makes_the_next_point_and_state(spec, options):
    options = {"lr": 0.02, **options}
    runs = _recorded_run(spec, **options)
    recorded = runs.recorded
    parsed = lo.parse(spec)
    group = parsed.build([torch.zeros(2, 2, dtype=torch.float64)], **options).param_groups[0]
    assert recorded.state.keys() == {key for key in parsed.rule.state_symbols if key in recorded.state}
    assert torch.isnan(recorded.gradients[-1]).all() and torch.isnan(recorded.lrs[-1]).all(), "no step from the last point"
    assert (recorded.lrs[:-1] == options["lr"]).all()
    for k in range(1, STEPS):  # from point 1: the state the rule creates at its first step exists
        θ = runs.points[k].clone()
        state = {key: values[k].clone() for key, values in recorded.state.items()}
        state["step"] = k + 1  # the step from point k is the (k+1)-th
        at = runs.points[k].clone().requires_grad_()
        SURFACE(at).sum().backward()
        _close(recorded.gradients[k], at.grad, f"g_{k} is ∇f(θ_{k})")
        parsed.rule.lecture_rule(θ, recorded.gradients[k].clone(), state, group)
        _close(θ, runs.points[k + 1], f"θ_{k + 1}")
        for key, values in recorded.state.items():
            _close(state[key], values[k + 1], f"{key} at point {k + 1}")


def _step(arrows, a, k):
    """(tail, vector) of arrow ``a`` of the step from point ``k``, every row."""
    tails, vectors = arrows.at(k)
    return tails[a], vectors[a]


@pytest.mark.parametrize("dampening", [0.0, 0.3])
def test_heavy_ball_arrows_are_the_momentum_term_then_the_gradient_step(dampening):
    η, β = 0.02, 0.9
    runs = _recorded_run("momentum", lr=η, momentum=β, dampening=dampening)
    arrows, u, g = anatomy(runs), runs.recorded.state["momentum_buffer"], runs.recorded.gradients
    assert arrows.kinds == ("momentum", "gradient", "step")
    for k in range(STEPS):
        θ_k, θ_next = runs.points[k], runs.points[k + 1]
        tail, momentum = _step(arrows, 0, k)
        _close(tail, θ_k)
        _close(momentum, -η * β * u[k], f"−ηβu_(k−1) at {k}")  # u held at θ_k is u_{k−1}
        tail, gradient = _step(arrows, 1, k)
        _close(tail, θ_k + momentum, "head to tail")
        _close(gradient, -η * (1 - (dampening if k else 0)) * g[k], f"−η(1 − τ)g_k at {k}")
        _close(tail + gradient, θ_next, "the chain ends at θ_(k+1)")
        _close(_step(arrows, 2, k)[1], θ_next - θ_k, "the step taken")
    assert (_step(arrows, 0, 0)[1] == 0).all(), "no velocity before the first step"


def test_nesterov_arrows_go_from_the_base_point_through_the_look_ahead_point():
    η, β = 0.02, 0.9
    runs = _recorded_run("nesterov", lr=η, momentum=β)
    arrows, u, g = anatomy(runs), runs.recorded.state["momentum_buffer"], runs.recorded.gradients
    assert arrows.kinds == ("momentum", "gradient", "next momentum", "step")
    for k in range(STEPS):
        θ_k, θ_next = runs.points[k], runs.points[k + 1]
        base, jump = _step(arrows, 0, k)
        _close(base, θ_k + η * β * u[k], "the base point θ_k + ηβu_(k−1)")
        _close(base + jump, θ_k, "the jump lands on the look-ahead point θ_k")
        tail, gradient = _step(arrows, 1, k)
        _close(tail, θ_k)
        _close(gradient, -η * g[k], "−ηg_k, taken at θ_k")
        tail, next_jump = _step(arrows, 2, k)
        _close(tail, θ_k + gradient, "the next base point")
        _close(next_jump, -η * β * u[k + 1], "−ηβu_k")
        _close(tail + next_jump, θ_next, "ends at θ_(k+1)")


@pytest.mark.parametrize("spec", ["adam", "amsgrad"])
def test_adam_arrows_are_the_step_before_and_after_the_per_coordinate_division(spec):
    η, β1, β2, ε = 0.02, 0.8, 0.99, 1e-8
    runs = _recorded_run(spec, lr=η, momentum=β1, beta2=β2)
    arrows, state, g = anatomy(runs), runs.recorded.state, runs.recorded.gradients
    assert arrows.kinds == ("gradient", "first moment", "step")
    v = state["max_exp_avg_sq" if spec == "amsgrad" else "exp_avg_sq"]
    for k in range(STEPS):
        t = k + 1
        _close(_step(arrows, 0, k)[1], -η * g[k], "−ηg_k")
        before = _step(arrows, 1, k)[1]
        _close(before, -η * state["exp_avg"][k + 1] / (1 - β1**t), "−ηm̂_k")
        after = before / (v[k + 1].sqrt() / (1 - β2**t) ** 0.5 + ε)
        _close(after, _step(arrows, 2, k)[1], "÷ (√v̂_k + ε), coordinate by coordinate, is the step taken")
    first = anatomy(runs).at(0)[1]
    assert not torch.allclose(first[1] / first[1].norm(dim=-1, keepdim=True),
                              first[2] / first[2].norm(dim=-1, keepdim=True)), "the division turns the step"


def test_rmsprop_and_adagrad_arrows_are_the_gradient_step_before_the_division():
    η = 0.02
    rms = _recorded_run("rmsprop+momentum", lr=η, momentum=0.5)
    arrows, v, g = anatomy(rms), rms.recorded.state["square_avg"], rms.recorded.gradients
    assert arrows.kinds == ("gradient", "momentum", "scaled gradient", "step")
    for k in range(STEPS):
        _close(_step(arrows, 0, k)[1], -η * g[k])
        tail, scaled = _step(arrows, 2, k)
        _close(scaled, -η * g[k] / (v[k + 1].sqrt() + 1e-8), "−ηg_k / s_k")
        _close(tail + scaled, rms.points[k + 1], "the chain ends at θ_(k+1)")
    δ = 0.1
    ada = _recorded_run("adagrad", lr=0.3, lr_decay=δ)
    arrows, v, g = anatomy(ada), ada.recorded.state["sum"], ada.recorded.gradients
    assert arrows.kinds == ("gradient", "step")
    for k in range(STEPS):
        gradient = _step(arrows, 0, k)[1]
        _close(gradient, -0.3 / (1 + k * δ) * g[k], "−η_k g_k")
        _close(gradient / (v[k + 1].sqrt() + 1e-10), _step(arrows, 1, k)[1], "÷ (√v_k + ε) is the step taken")


@pytest.mark.parametrize("word", list(lo.BASE_RULES))
def test_every_rule_shows_at_least_its_gradient_step_and_the_step_taken(word):
    runs = trajectory.run(SURFACE, word, lr=0.01, steps=5, record_state=True)
    arrows = anatomy(runs)
    assert set(arrows.kinds) <= set(KINDS) <= set(draw.ARROW_STYLES)
    assert "gradient" in arrows.kinds and arrows.kinds[-1] == "step" and len(arrows.labels) == len(arrows.kinds)
    _close(arrows.vectors[arrows.kinds.index("gradient"), 4], -0.01 * runs.recorded.gradients[4], "−ηg_k")
    assert arrows.at(5) is None, "the last point takes no step"


def test_a_schedule_is_in_the_recorded_learning_rates_and_the_chain_still_closes():
    runs = _recorded_run("momentum", lr=0.02, momentum=0.9, schedule="step")
    lrs = runs.recorded.lrs[:-1, 0, 0]
    assert lrs[0] == 0.02 and lrs[-1] == pytest.approx(0.02 * 0.01), "η × 0.1 every third of the run"
    arrows = anatomy(runs)
    _close(arrows.tails[1] + arrows.vectors[1], runs.points[1:])


def test_gradient_noise_is_the_gap_between_the_chain_and_the_step_taken():
    runs = _recorded_run("momentum+gradnoise", lr=0.02, momentum=0.9, noise_eta=0.1)
    arrows = anatomy(runs)
    (note,) = arrows.notes
    assert note.startswith("+gradnoise: gₖ is the gradient before its noise"), note
    gap = (arrows.tails[1] + arrows.vectors[1] - runs.points[1:]).norm(dim=-1)
    assert (gap > 1e-6).all(), "the arrows use g_k without its noise; the step taken has it"
    quiet = anatomy(_recorded_run("momentum", lr=0.02, momentum=0.9))
    assert quiet.notes == ()


def test_a_sweep_records_each_row_as_its_own_run_and_a_row_keeps_it():
    # momentum > 0: a sweep's β = 0 row is a tensor β, which keeps a velocity (u_k = g_k); a
    # single run's β = 0.0 keeps none
    lrs, momenta = [0.005, 0.05], [0.5, 0.9]
    for runs in trajectory.sweeps(SURFACE, ["momentum", "adam"], lrs, momenta, steps=20, record_state=True,
                                  beta2=0.9):
        for i, lr in enumerate(lrs):
            for j, momentum in enumerate(momenta):
                row = runs.row(runs.grid.row(i, j))
                alone = trajectory.run(SURFACE, runs.spec, lr=lr, momentum=momentum, steps=20, record_state=True,
                                       starts=[SURFACE.start], **({"beta2": 0.9} if runs.spec.text == "adam" else {}))
                assert row.recorded.state.keys() == alone.recorded.state.keys()
                for key in row.recorded.state:
                    _close(row.recorded.state[key], alone.recorded.state[key])
                _close(row.recorded.gradients, alone.recorded.gradients, "NaN at the last point in both", True)
                _close(row.recorded.lrs, alone.recorded.lrs, "NaN at the last point in both", True)
                _close(anatomy(row).vectors, anatomy(alone).vectors)


def test_a_diverged_row_records_nothing_from_where_it_diverged():
    surface = surfaces.get("quadratic")
    runs = trajectory.run(surface, "gd", lr=[0.1, 0.3], starts=[surface.start] * 2, steps=40, record_state=True)
    diverged = int(runs.diverged_at[1])
    assert runs.diverged_at[0] == -1 and diverged > 0
    assert torch.isfinite(runs.recorded.gradients[:diverged, 1]).all()
    assert torch.isnan(runs.recorded.gradients[diverged:, 1]).all()
    assert torch.isfinite(runs.recorded.gradients[:-1, 0]).all()


def test_the_arrows_need_a_recorded_run():
    with pytest.raises(ValueError, match="kept no optimizer state: run it with record_state=True"):
        anatomy(trajectory.run(SURFACE, "adam", steps=3))
