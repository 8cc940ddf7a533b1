"""The torch.optim contract: state_dict, deepcopy, repr, tensor hyper-parameters, validation,
and the spec builder. Tensors are float64 unless a test is about another dtype."""

import copy
import io

import pytest
import torch

import landscape.optim as lo
from problems import make_loss, make_params, rosenbrock, run

DTYPE = torch.float64

EVERY_BASE = list(lo.BASE_RULES)
ROUND_TRIP_SPECS = EVERY_BASE + [
    "rmsprop+centered+momentum",
    "adam+amsgrad+l2",
    "radamw+nesterov+gradnoise+lrdropout+lookahead",
    "sgd+momentum+graddropout+lookahead",
    "adabound+lrdropout",
]


def _clone(params):
    return [p.detach().clone().requires_grad_() for p in params]


@pytest.mark.parametrize("spec", ROUND_TRIP_SPECS)
def test_state_dict_round_trip_continues_identically(spec):
    params, loss = make_params(0), make_loss(0)
    optimizer = lo.build(spec, params, lr=0.01, seed=11)
    run(optimizer, params, loss, steps=7)  # 7: Lookahead (k=5) holds slow weights mid-cycle

    buffer = io.BytesIO()
    torch.save(optimizer.state_dict(), buffer)
    buffer.seek(0)
    restored_params = _clone(params)
    restored = lo.build(spec, restored_params, lr=0.5, seed=999)  # both overwritten by the load
    restored.load_state_dict(torch.load(buffer, weights_only=False))

    run(optimizer, params, loss, steps=9)
    run(restored, restored_params, loss, steps=9)
    for a, b in zip(params, restored_params):
        assert torch.equal(a, b)
    if "lookahead" in spec:
        assert "lookahead_slow" in restored.state[restored_params[0]]


def test_deepcopy_is_independent_and_steps_the_same():
    params, loss = make_params(1), make_loss(1)
    optimizer = lo.build("adamw+gradnoise+lookahead", params, lr=0.01, seed=4)
    run(optimizer, params, loss, steps=3)
    twin = copy.deepcopy(optimizer)
    twin_params = [p for group in twin.param_groups for p in group["params"]]
    assert all(a is not b for a, b in zip(params, twin_params))
    run(optimizer, params, loss, steps=4)
    run(twin, twin_params, loss, steps=4)
    for a, b in zip(params, twin_params):
        assert torch.equal(a, b)


def test_repr_shows_rule_hyperparameters_and_extensions():
    optimizer = lo.build("radamw+nesterov+lookahead", make_params(0), lr=0.003, lookahead_k=7)
    text = repr(optimizer)
    assert text.startswith("RAdamW (")
    assert "lr: 0.003" in text and "nesterov: True" in text
    assert "Lookahead(k=7, alpha=0.5)" in text


@pytest.mark.parametrize("spec", EVERY_BASE + ["adam+nesterov", "radamw+nesterov+lookahead",
                                               "rmsprop+centered+momentum", "adam+amsgrad"])
def test_tensor_lr_grid_equals_separate_runs(spec):
    """A (B, 2) parameter with an lr of shape (B, 1) is B independent runs."""
    lrs = [1e-4, 3e-4, 6e-4]  # stable for every rule on this part of Rosenbrock
    starts = torch.tensor([[-1.2, 1.0], [0.5, -0.5], [1.2, 1.2]], dtype=DTYPE)

    def run_rows(p, lr):
        optimizer = lo.build(spec, [p], lr=lr)
        for _ in range(60):
            optimizer.zero_grad()
            rosenbrock(p).sum().backward()
            optimizer.step()
        return p.detach()

    grid = run_rows(starts.clone().requires_grad_(), torch.tensor(lrs, dtype=DTYPE).reshape(-1, 1))
    assert torch.isfinite(grid).all() and not torch.equal(grid, starts)
    for row, lr in enumerate(lrs):
        single = run_rows(starts[row:row + 1].clone().requires_grad_(), lr)
        torch.testing.assert_close(grid[row:row + 1], single, rtol=1e-10, atol=1e-12)


def test_tensor_momentum_and_lr_grid_equals_separate_runs():
    """Nesterov over an lr x momentum grid; a row with momentum 0 is plain gradient descent."""
    lrs = torch.tensor([1e-4, 1e-4, 3e-4, 3e-4], dtype=DTYPE).reshape(-1, 1)
    momenta = torch.tensor([0.0, 0.9, 0.0, 0.9], dtype=DTYPE).reshape(-1, 1)
    start = torch.tensor([-1.2, 1.0], dtype=DTYPE).repeat(4, 1)

    def run_rows(spec, p, **hp):
        optimizer = lo.build(spec, [p], **hp)
        for _ in range(50):
            optimizer.zero_grad()
            rosenbrock(p).sum().backward()
            optimizer.step()
        return p.detach()

    grid = run_rows("nesterov", start.clone().requires_grad_(), lr=lrs, momentum=momenta)
    assert torch.isfinite(grid).all()
    for row in range(4):
        lr, momentum = lrs[row].item(), momenta[row].item()
        p = start[row:row + 1].clone().requires_grad_()
        single = run_rows("nesterov", p, lr=lr, momentum=momentum) if momentum else run_rows("gd", p, lr=lr)
        torch.testing.assert_close(grid[row:row + 1], single, rtol=1e-10, atol=1e-12)


def test_tensor_hyperparameters_follow_the_parameters_dtype():
    p = torch.zeros(3, 2, dtype=torch.float32, requires_grad=True)
    optimizer = lo.Adam([p], lr=torch.tensor([[0.1], [0.2], [0.3]], dtype=torch.float64))
    (p - 1).pow(2).sum().backward()
    optimizer.step()
    assert p.dtype == torch.float32
    torch.testing.assert_close(p[:, 0], torch.tensor([0.1, 0.2, 0.3], dtype=torch.float32))


def _params(*shape):
    return [torch.zeros(*(shape or (2,)), dtype=DTYPE, requires_grad=True)]


INVALID = [
    (lambda: lo.SGD(_params(), lr=-0.1), "Invalid lr: -0.1"),
    (lambda: lo.Adam(_params(), lr=float("nan")), "Invalid lr: nan"),
    (lambda: lo.Adam(_params(), lr=torch.tensor([[0.1], [-1.0]], dtype=DTYPE)),
     "Invalid lr: tensor of shape (2, 1)"),
    (lambda: lo.SGD(_params(), lr="0.1"), "Invalid lr: '0.1' (expected a number or a tensor of numbers, got str)"),
    (lambda: lo.Adam(_params(), lr=True), "Invalid lr: True (expected a number or a tensor of numbers, got bool)"),
    (lambda: lo.Adam(_params(), eps=torch.tensor(True)), "Invalid eps: tensor(True)"),
    (lambda: lo.Lookahead(k=True), "Invalid lookahead_k: True"),
    (lambda: lo.SGD(_params(4, 2), lr=torch.full((3, 1), 0.1, dtype=DTYPE)),
     "Invalid lr: a tensor of shape (3, 1) does not broadcast to a parameter of shape (4, 2)"),
    (lambda: lo.RMSprop(_params(4, 2), lr=torch.full((4, 1, 1), 0.1, dtype=DTYPE)),
     "Invalid lr: a tensor of shape (4, 1, 1) does not broadcast to a parameter of shape (4, 2)"),
    (lambda: lo.Adam(_params(4, 2), betas=(0.9, torch.full((3, 1), 0.99, dtype=DTYPE))),
     "Invalid betas[1]: a tensor of shape (3, 1) does not broadcast"),
    (lambda: lo.Adam(_params(), betas=(0.9, 1.0)), "Invalid beta2: 1.0"),
    (lambda: lo.Adam(_params(), betas=(-0.1, 0.99)), "Invalid beta1: -0.1"),
    (lambda: lo.Adam(_params(), betas=(0.9,)), "Invalid betas"),
    (lambda: lo.Adam(_params(), eps=-1e-8), "Invalid eps: -1e-08"),
    (lambda: lo.AdamW(_params(), weight_decay=-1), "Invalid weight_decay: -1"),
    (lambda: lo.SGD(_params(), momentum=1.5), "Invalid momentum: 1.5"),
    (lambda: lo.SGD(_params(), nesterov=True), "Invalid momentum: 0.0 (expected momentum > 0 with nesterov=True)"),
    (lambda: lo.SGD(_params(), momentum=0.9, dampening=0.1, nesterov=True), "Invalid dampening: 0.1"),
    (lambda: lo.RMSprop(_params(), alpha=1.0), "Invalid alpha: 1.0"),
    (lambda: lo.Adadelta(_params(), rho=1.5), "Invalid rho: 1.5"),
    (lambda: lo.Adagrad(_params(), lr_decay=-1.0), "Invalid lr_decay: -1.0"),
    (lambda: lo.AdaBound(_params(), gamma=0.0), "Invalid gamma: 0.0"),
    (lambda: lo.AdaBound(_params(), final_lr=-0.1), "Invalid final_lr: -0.1"),
    (lambda: lo.AMSBound(_params(), betas=(0.9, 1.0)), "Invalid beta2: 1.0"),
    (lambda: lo.AdaBound(_params(), lr=-1e-3), "Invalid lr: -0.001"),
    (lambda: lo.AggMo(_params(), betas=(0.0, 1.0)), "Invalid betas[1]: 1.0"),
    (lambda: lo.Adam(_params(), momentum_decay=0.004), "Invalid momentum_decay"),
    (lambda: lo.Lookahead(k=0), "Invalid lookahead_k: 0"),
    (lambda: lo.Lookahead(k=2.5), "Invalid lookahead_k: 2.5"),
    (lambda: lo.Lookahead(alpha=1.5), "Invalid lookahead_alpha: 1.5"),
    (lambda: lo.LRDropout(keep_prob=0.0), "Invalid lr_keep_prob: 0.0"),
    (lambda: lo.GradientDropout(keep_prob=1.2), "Invalid grad_keep_prob: 1.2"),
    (lambda: lo.GradientNoise(eta=-1.0), "Invalid noise_eta: -1.0"),
    (lambda: lo.SGD(_params(), extensions=[lo.Lookahead(), lo.Lookahead()]), "'lookahead' given twice"),
    (lambda: lo.build("adam", _params(), seed="x"), "Invalid seed: 'x'"),
    (lambda: lo.build("adamm", _params()), "unknown base rule 'adamm'; valid: gd, sgd"),
    (lambda: lo.build("adam+lookahed", _params()), "unknown word 'lookahed'; valid modifiers: momentum"),
    (lambda: lo.build("adam+lookahead+lookahead", _params()), "'lookahead' given twice"),
    (lambda: lo.build("adagrad+nesterov", _params()), "'nesterov' does not apply to 'adagrad'; it applies to: gd, sgd"),
    (lambda: lo.build("", _params()), "Invalid optimizer spec ''"),
    (lambda: lo.build("adam", _params(), dampening=0.1), "Invalid hyper-parameter 'dampening' for 'adam'; valid: lr, betas"),
    (lambda: lo.build("sgd", _params(), lookahead_k=3), "Invalid hyper-parameter 'lookahead_k'"),
    (lambda: lo.build("adam", _params(), beta1=0.9, momentum=0.8), "give beta1 or momentum, not both"),
    (lambda: lo.build("nesterov", _params(), momentum=0.0), "Invalid momentum: 0.0"),
    (lambda: lo.build("adam+lookahead", _params(), lookahead_k=0), "Invalid lookahead_k: 0"),
]


@pytest.mark.parametrize("make,message", INVALID, ids=[m for _, m in INVALID])
def test_invalid_input_names_the_parameter_and_value(make, message):
    with pytest.raises(ValueError) as error:
        make()
    assert message in str(error.value)


def test_sparse_gradients_are_refused_clearly():
    embedding = torch.nn.Embedding(5, 2, sparse=True, dtype=DTYPE)
    optimizer = lo.Adam(embedding.parameters())
    embedding(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match="does not support sparse gradients"):
        optimizer.step()


def test_spec_parsing_orders_extensions_and_sets_modifier_options():
    spec = lo.parse(" RAdamW + lookahead + Nesterov + gradnoise + lrdropout ")
    assert spec.rule is lo.RAdamW
    assert spec.options == {"nesterov": True}
    assert spec.extensions == ("gradnoise", "lrdropout", "lookahead")
    assert lo.parse("momentum").options == {"momentum": 0.9}
    assert lo.parse("sgd+nesterov").options == {"nesterov": True, "momentum": 0.9}
    assert lo.parse("adam+l2").options == {"weight_decay": 1e-2, "decoupled_weight_decay": False}
    assert lo.parse("nadam").rule is lo.NAdam


def test_build_routes_hyperparameters_and_beta_aliases():
    optimizer = lo.build("adam+gradnoise+lookahead", _params(), lr=0.2, momentum=0.5, beta2=0.9,
                         noise_eta=0.3, lookahead_k=3, lookahead_alpha=0.25)
    assert optimizer.param_groups[0]["betas"] == (0.5, 0.9)
    assert optimizer.param_groups[0]["lr"] == 0.2
    noise, lookahead = optimizer.extensions
    assert (noise.eta, lookahead.k, lookahead.alpha) == (0.3, 3, 0.25)
    momentum = lo.build("sgd+momentum", _params(), momentum=0.5)
    assert momentum.param_groups[0]["momentum"] == 0.5


def test_works_with_lr_scheduler_and_multiple_groups():
    a, b = (torch.ones(2, dtype=DTYPE, requires_grad=True) for _ in range(2))
    optimizer = lo.build("adam+lookahead", [{"params": [a]}, {"params": [b], "lr": 0.01}], lr=0.1)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
    for _ in range(3):
        optimizer.zero_grad()
        (a.sum() + b.sum()).backward()
        optimizer.step()
        scheduler.step()
    assert [g["lr"] for g in optimizer.param_groups] == [0.1 / 8, 0.01 / 8]


@pytest.mark.parametrize("rule, amsgrad", [(lo.AdaBound, False), (lo.AMSBound, True)])
def test_adabound_is_adam_with_its_own_bounds(monkeypatch, rule, amsgrad):
    """AdaBound and AMSBound take Adam's __init__ (its validation, its defaults) and add final_lr
    and gamma; a group added later gets them too, and its own lr as the bounds' initial lr."""
    adam_init, calls = lo.Adam.__init__, []
    monkeypatch.setattr(lo.Adam, "__init__", lambda self, *args, **kwargs: (
        calls.append(type(self)), adam_init(self, *args, **kwargs))[-1])
    optimizer = rule(_params(), lr=0.02, final_lr=0.05, gamma=0.01)
    assert calls == [rule]
    adam = lo.Adam(_params(), lr=0.02, amsgrad=amsgrad).defaults
    assert optimizer.defaults == {**adam, "final_lr": 0.05, "gamma": 0.01}
    assert list(optimizer.param_groups[0]) == ["params", *adam, "final_lr", "gamma", "initial_lr_of_bounds"]
    optimizer.add_param_group({"params": _params(), "lr": 0.3})
    assert optimizer.param_groups[1]["final_lr"] == 0.05 and optimizer.param_groups[1]["gamma"] == 0.01
    assert optimizer.param_groups[1]["initial_lr_of_bounds"] == 0.3
    with pytest.raises(TypeError, match="nesterov"):
        rule(_params(), nesterov=True)


RANDOMIZED = ["graddropout", "gradnoise", "lrdropout", "graddropout+gradnoise+lrdropout",
              "graddropout+gradnoise+lrdropout+lookahead"]


@pytest.mark.parametrize("foreach", [True, False])
@pytest.mark.parametrize("extensions", RANDOMIZED)
def test_a_group_per_parameter_steps_as_one_group(extensions, foreach):
    """Each gradient stage runs on every group before the next, then each group's update: the
    random draws come in the same order for groups p1 | p2 | p3 | p4 as for one group [p1, …, p4]."""
    loss = make_loss(3)
    one, each = make_params(3), make_params(3)
    hyperparameters = dict(lr=0.02, seed=5, foreach=foreach)
    optimizers = [lo.build(f"adam+{extensions}", one, **hyperparameters),
                  lo.build(f"adam+{extensions}", [{"params": [p]} for p in each], **hyperparameters)]
    for optimizer, params in zip(optimizers, (one, each)):
        run(optimizer, params, loss, steps=7)  # 7: Lookahead (k=5) synchronised once, mid-cycle
    assert not torch.equal(one[0], make_params(3)[0])
    for a, b in zip(one, each):
        assert torch.equal(a, b)


def test_stacked_copies_with_a_group_each_step_as_one_group():
    """B copies of a network stacked (each parameter (B, …)), one group per parameter with its
    own (B, 1) lr tensor, draw the same numbers as one group with that lr."""
    lr = torch.tensor([[0.01], [0.03], [0.1]], dtype=DTYPE)
    shapes = [(3, 4), (3, 2), (3, 1)]
    generator = torch.Generator().manual_seed(0)
    start = [torch.randn(shape, generator=generator, dtype=DTYPE) for shape in shapes]
    spec = "nadam+graddropout+gradnoise+lrdropout+lookahead"
    one, each = ([p.clone().requires_grad_() for p in start] for _ in range(2))
    optimizers = [lo.build(spec, one, lr=lr, seed=9, lookahead_k=3),
                  lo.build(spec, [{"params": [p], "lr": lr.clone()} for p in each], seed=9, lookahead_k=3)]
    for optimizer, params in zip(optimizers, (one, each)):
        run(optimizer, params, lambda ps: sum((p.sin() * p).sum() for p in ps), steps=5)
    for a, b in zip(one, each):
        assert torch.equal(a, b)


@pytest.mark.parametrize("spec", EVERY_BASE)
def test_lr_zero_leaves_the_parameters_where_they_are(spec):
    """lr 0, as a number and as the middle row of a (3, 1) lr tensor: those rows stay put."""
    starts = torch.tensor([[-1.2, 1.0], [0.5, -0.5], [1.2, 1.2]], dtype=DTYPE)

    def after_steps(lr):
        p = starts.clone().requires_grad_()
        optimizer = lo.build(spec, [p], lr=lr)
        for _ in range(5):
            optimizer.zero_grad()
            rosenbrock(p).sum().backward()
            optimizer.step()
        return p.detach()

    assert torch.equal(after_steps(0.0), starts)
    rows = after_steps(torch.tensor([[1e-4], [0.0], [1e-4]], dtype=DTYPE))
    assert torch.equal(rows[1], starts[1])
    assert torch.isfinite(rows).all() and not torch.equal(rows[0], starts[0])
