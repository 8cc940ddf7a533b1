"""Rules with no torch.optim twin: one step against the formula by hand, reference loops,
and convergence on a convex quadratic and on Rosenbrock. Everything in float64."""

import math

import pytest
import torch

import landscape.optim as lo
from problems import rosenbrock

DTYPE = torch.float64
CURVATURE = torch.tensor([1.0, 3.0], dtype=DTYPE)
START = torch.tensor([1.0, -2.0], dtype=DTYPE)


def quadratic(p):
    """f(p) = ½ Σ a_i p_i²  with a = (1, 3): g = a ⊙ p."""
    return 0.5 * (CURVATURE * p**2).sum(-1)


def steps_of(optimizer_factory, f=quadratic, start=START, steps=1):
    """Parameters after each of ``steps`` steps (the start first)."""
    p = start.clone().requires_grad_()
    optimizer = optimizer_factory([p])
    path = [p.detach().clone()]
    for _ in range(steps):
        optimizer.zero_grad()
        f(p).sum().backward()
        optimizer.step()
        path.append(p.detach().clone())
    return path


def grad(p):
    return CURVATURE * p


def test_sgdw_one_step_decays_weights_then_steps():
    lr, wd = 0.1, 0.2
    _, p1 = steps_of(lambda p: lo.SGDW(p, lr=lr, weight_decay=wd))
    expected = START * (1 - lr * wd) - lr * grad(START)
    torch.testing.assert_close(p1, expected, rtol=1e-15, atol=0)


def test_sgdw_with_momentum_two_steps():
    lr, wd, beta = 0.1, 0.2, 0.5
    _, p1, p2 = steps_of(lambda p: lo.SGDW(p, lr=lr, weight_decay=wd, momentum=beta), steps=2)
    u1 = grad(START)
    e1 = START * (1 - lr * wd) - lr * u1
    u2 = beta * u1 + grad(e1)
    e2 = e1 * (1 - lr * wd) - lr * u2
    torch.testing.assert_close(p1, e1)
    torch.testing.assert_close(p2, e2)


def test_aggmo_two_steps():
    lr, betas = 0.1, (0.0, 0.9)
    _, p1, p2 = steps_of(lambda p: lo.AggMo(p, lr=lr, betas=betas), steps=2)
    g0 = grad(START)
    e1 = START - lr / 2 * (g0 + g0)
    g1 = grad(e1)
    e2 = e1 - lr / 2 * ((0.0 * g0 + g1) + (0.9 * g0 + g1))
    torch.testing.assert_close(p1, e1)
    torch.testing.assert_close(p2, e2)


@pytest.mark.parametrize("gamma", [1e-3, 1.0], ids=["inside-bounds", "clipped-to-lower-bound"])
def test_adabound_one_step(gamma):
    lr, b1, b2, final_lr, eps = 1e-3, 0.9, 0.999, 0.1, 1e-8
    _, p1 = steps_of(lambda p: lo.AdaBound(p, lr=lr, betas=(b1, b2), final_lr=final_lr, gamma=gamma))
    g = grad(START)
    m, v = (1 - b1) * g, (1 - b2) * g * g
    step_size = lr * math.sqrt(1 - b2) / (1 - b1) / (v.sqrt() + eps)
    lower, upper = final_lr * (1 - 1 / (gamma + 1)), final_lr * (1 + 1 / gamma)
    if gamma == 1.0:
        assert (step_size < lower).all(), "this case is meant to hit the lower bound"
    expected = START - step_size.clamp(lower, upper) * m
    torch.testing.assert_close(p1, expected)


def test_amsbound_uses_running_max_of_second_moment():
    """Two steps with a gradient that shrinks: AMSBound keeps the larger v."""
    lr, b1, b2, eps = 1e-2, 0.9, 0.99, 1e-8
    _, _, p2 = steps_of(lambda p: lo.AMSBound(p, lr=lr, betas=(b1, b2), final_lr=lr, gamma=1e-3),
                        steps=2)
    g0 = grad(START)
    m, v = (1 - b1) * g0, (1 - b2) * g0**2
    vmax = v
    bound = lambda k: (lr * (1 - 1 / (1e-3 * k + 1)), lr * (1 + 1 / (1e-3 * k)))
    s1 = (lr * math.sqrt(1 - b2) / (1 - b1) / (vmax.sqrt() + eps)).clamp(*bound(1))
    p1 = START - s1 * m
    g1 = grad(p1)
    m = b1 * m + (1 - b1) * g1
    v = b2 * v + (1 - b2) * g1**2
    vmax = torch.maximum(vmax, v)
    s2 = (lr * math.sqrt(1 - b2**2) / (1 - b1**2) / (vmax.sqrt() + eps)).clamp(*bound(2))
    torch.testing.assert_close(p2, p1 - s2 * m)


def test_adam_with_nesterov_one_step_is_dozat_with_constant_momentum():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    _, p1 = steps_of(lambda p: lo.build("adam+nesterov", p, lr=lr, betas=(b1, b2)))
    g = grad(START)
    m, v = (1 - b1) * g, (1 - b2) * g * g
    look_ahead = (1 - b1) * g / (1 - b1) + b1 * m / (1 - b1**2)
    expected = START - lr * look_ahead / ((v / (1 - b2)).sqrt() + eps)
    torch.testing.assert_close(p1, expected)


def _reference_radam_nesterov(lr, b1, b2, eps, steps, x0, curvature):
    """RAdam with Dozat's look-ahead moment, written out on a scalar in plain Python."""
    x, m, v, mu_product = x0, 0.0, 0.0, 1.0
    rho_inf = 2 / (1 - b2) - 1
    for k in range(1, steps + 1):
        g = curvature * x
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mu_product *= b1
        m_hat = (1 - b1) * g / (1 - mu_product) + b1 * m / (1 - mu_product * b1)
        rho = rho_inf - 2 * k * b2**k / (1 - b2**k)
        if rho > 5:
            r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            x -= lr * r * m_hat * math.sqrt(1 - b2**k) / (math.sqrt(v) + eps)
        else:
            x -= lr * m_hat
    return x


def test_radam_with_nesterov_matches_reference_through_rectification():
    lr, b1, b2, eps, steps = 0.05, 0.9, 0.9, 1e-8, 12  # with β2 = 0.9, ρ_k passes 5 at k = 7
    path = steps_of(lambda p: lo.build("radam+nesterov", p, lr=lr, betas=(b1, b2), eps=eps),
                    steps=steps)
    for i, a in enumerate(CURVATURE.tolist()):
        expected = _reference_radam_nesterov(lr, b1, b2, eps, steps, START[i].item(), a)
        assert path[-1][i].item() == pytest.approx(expected, rel=1e-12)


def test_lr_dropout_updates_state_everywhere_but_parameters_only_on_the_mask():
    seed, keep = 7, 0.5
    start = torch.linspace(-1, 1, 64, dtype=DTYPE)

    def after_one_step(spec):
        p = start.clone().requires_grad_()
        optimizer = lo.build(spec, [p], lr=0.1, seed=seed, lr_keep_prob=keep) \
            if "lrdropout" in spec else lo.build(spec, [p], lr=0.1)
        (0.5 * (p**2).sum()).backward()
        optimizer.step()
        return p.detach(), optimizer.state[p]["exp_avg"]

    plain, plain_moment = after_one_step("adam")
    dropped, dropped_moment = after_one_step("adam+lrdropout")
    mask = torch.rand(64, generator=torch.Generator().manual_seed(seed), dtype=DTYPE) < keep
    assert 10 < mask.sum() < 54
    torch.testing.assert_close(dropped_moment, plain_moment, rtol=0, atol=0)
    torch.testing.assert_close(dropped[mask], plain[mask], rtol=0, atol=0)
    torch.testing.assert_close(dropped[~mask], start[~mask], rtol=0, atol=0)


def test_gradient_dropout_masks_and_rescales_before_the_rule():
    seed, keep, lr = 3, 0.75, 0.1
    _, p1 = steps_of(lambda p: lo.build("sgd+graddropout", p, lr=lr, seed=seed, grad_keep_prob=keep),
                     start=torch.linspace(-1, 1, 40, dtype=DTYPE), f=lambda p: 0.5 * (p**2).sum())
    start = torch.linspace(-1, 1, 40, dtype=DTYPE)
    mask = (torch.rand(40, generator=torch.Generator().manual_seed(seed), dtype=DTYPE) < keep).to(DTYPE)
    torch.testing.assert_close(p1, start - lr * start * mask / keep)


def test_gradient_noise_follows_annealed_schedule():
    seed, eta, gamma, lr = 5, 0.3, 0.55, 0.1
    path = steps_of(lambda p: lo.build("sgd+gradnoise", p, lr=lr, seed=seed, noise_eta=eta,
                                       noise_gamma=gamma), steps=2)
    draws = torch.Generator().manual_seed(seed)
    expected = START.clone()
    for t in range(2):
        noise = torch.randn(2, generator=draws, dtype=DTYPE) * math.sqrt(eta / (1 + t) ** gamma)
        expected = expected - lr * (grad(expected) + noise)
        torch.testing.assert_close(path[t + 1], expected)


def test_gradient_extensions_leave_p_grad_untouched():
    p = START.clone().requires_grad_()
    optimizer = lo.build("adam+graddropout+gradnoise", [p], seed=0)
    quadratic(p).backward()
    before = p.grad.clone()
    optimizer.step()
    assert torch.equal(p.grad, before)


def test_same_seed_same_numbers_other_seed_other_numbers():
    spec = "radamw+nesterov+graddropout+gradnoise+lrdropout+lookahead"
    run = lambda seed: steps_of(lambda p: lo.build(spec, p, lr=0.05, seed=seed), steps=20)[-1]
    assert torch.equal(run(1), run(1))
    assert not torch.equal(run(1), run(2))


def test_lookahead_with_alpha_one_is_the_base_rule():
    plain = steps_of(lambda p: lo.build("momentum", p, lr=0.05), steps=23)
    wrapped = steps_of(lambda p: lo.build("momentum+lookahead", p, lr=0.05, lookahead_alpha=1.0,
                                          lookahead_k=5), steps=23)
    for a, b in zip(plain, wrapped):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_lookahead_with_alpha_half_matches_reference_loop_on_every_tensor():
    """Three parameter tensors, k = 3: every tensor synchronises on steps 3, 6, 9 — not once per
    tensor — and the fast weights are written back."""
    lr, k, alpha, steps = 0.1, 3, 0.5, 10
    starts = [torch.tensor(s, dtype=DTYPE) for s in ([1.0, -2.0], [0.5], [[2.0, 1.0]])]
    params = [s.clone().requires_grad_() for s in starts]
    optimizer = lo.build("sgd+lookahead", params, lr=lr, lookahead_k=k, lookahead_alpha=alpha)
    loss = lambda ps: sum(((i + 1) * q**2).sum() for i, q in enumerate(ps))
    fast = [s.clone() for s in starts]
    slow = [s.clone() for s in starts]
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        loss(params).backward()
        optimizer.step()
        fast = [f - lr * 2 * (i + 1) * f for i, f in enumerate(fast)]
        if step % k == 0:
            slow = [s + alpha * (f - s) for s, f in zip(slow, fast)]
            fast = [s.clone() for s in slow]
        for p, f in zip(params, fast):
            torch.testing.assert_close(p.detach(), f, rtol=1e-15, atol=1e-15)


def _distance_to(path_end, target):
    return (path_end - torch.tensor(target, dtype=DTYPE)).norm().item()


# (spec, hyper-parameters on the quadratic, hyper-parameters on Rosenbrock)
CONVERGENCE = [
    ("sgdw+momentum", dict(lr=0.05, weight_decay=1e-4), dict(lr=1e-3, weight_decay=1e-6)),
    ("adabound", dict(lr=0.05, final_lr=0.05), dict(lr=1e-2, final_lr=2e-3)),
    ("amsbound", dict(lr=0.05, final_lr=0.05), dict(lr=1e-2, final_lr=2e-3)),
    ("aggmo", dict(lr=0.05), dict(lr=1e-3)),
    ("adam+nesterov", dict(lr=0.05), dict(lr=5e-3)),
    ("radam+nesterov", dict(lr=0.05), dict(lr=1e-3)),
    ("momentum+lookahead", dict(lr=0.05), dict(lr=1e-3)),
    ("momentum+lrdropout", dict(lr=0.05), dict(lr=2e-4)),
    ("adam+graddropout", dict(lr=0.05), dict(lr=5e-3)),
    ("radamw+nesterov+gradnoise+lrdropout+lookahead",
     dict(lr=0.05, weight_decay=0.0, noise_eta=1e-6),
     dict(lr=5e-3, weight_decay=0.0, noise_eta=1e-8, lr_keep_prob=0.9, lookahead_alpha=0.8)),
]


@pytest.mark.parametrize("spec,on_quadratic,on_rosenbrock", CONVERGENCE, ids=[c[0] for c in CONVERGENCE])
def test_converges_on_convex_quadratic_and_rosenbrock(spec, on_quadratic, on_rosenbrock):
    ill_conditioned = lambda p: 0.5 * (p[..., 0] ** 2 + 10 * p[..., 1] ** 2)
    end = steps_of(lambda p: lo.build(spec, p, seed=0, **on_quadratic), f=ill_conditioned,
                   start=torch.tensor([1.5, 1.0], dtype=DTYPE), steps=1000)[-1]
    assert _distance_to(end, [0.0, 0.0]) < 1e-3
    end = steps_of(lambda p: lo.build(spec, p, seed=0, **on_rosenbrock), f=rosenbrock,
                   start=torch.tensor([-1.2, 1.0], dtype=DTYPE), steps=8000)[-1]
    assert _distance_to(end, [1.0, 1.0]) < 0.05
