"""Where torch.optim has the same algorithm, landscape.optim gives the same numbers (float64)."""

import contextlib

import pytest
import torch

import landscape.optim as ours
from problems import make_loss, make_params, run

CASES = [
    # (our class, torch class, hyper-parameters for both)
    (ours.SGD, torch.optim.SGD, dict(lr=0.05)),
    (ours.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    (ours.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    (ours.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (ours.SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05)),
    (ours.Adagrad, torch.optim.Adagrad, dict(lr=0.1)),
    (ours.Adagrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.01,
                                             initial_accumulator_value=0.1, eps=1e-6)),
    (ours.RMSprop, torch.optim.RMSprop, dict(lr=0.01)),
    (ours.RMSprop, torch.optim.RMSprop, dict(lr=0.01, centered=True)),
    (ours.RMSprop, torch.optim.RMSprop, dict(lr=0.005, alpha=0.9, momentum=0.5, weight_decay=0.01)),
    (ours.RMSprop, torch.optim.RMSprop, dict(lr=0.005, momentum=0.7, centered=True, eps=1e-6)),
    (ours.Adadelta, torch.optim.Adadelta, dict()),
    (ours.Adadelta, torch.optim.Adadelta, dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.01)),
    (ours.Adam, torch.optim.Adam, dict(lr=0.01)),
    (ours.Adam, torch.optim.Adam, dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.02)),
    (ours.Adam, torch.optim.Adam, dict(lr=0.01, amsgrad=True)),
    (ours.AMSGrad, torch.optim.Adam, dict(lr=0.01, weight_decay=0.01)),
    (ours.AdamW, torch.optim.AdamW, dict(lr=0.01)),
    (ours.AdamW, torch.optim.AdamW, dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    (ours.NAdam, torch.optim.NAdam, dict(lr=0.01)),
    (ours.NAdam, torch.optim.NAdam, dict(lr=0.01, betas=(0.85, 0.99), weight_decay=0.02,
                                         momentum_decay=0.01)),
    (ours.NAdamW, torch.optim.NAdam, dict(lr=0.01, weight_decay=0.05)),
    (ours.RAdam, torch.optim.RAdam, dict(lr=0.01)),
    (ours.RAdam, torch.optim.RAdam, dict(lr=0.01, betas=(0.9, 0.99), weight_decay=0.02)),
    (ours.RAdamW, torch.optim.RAdam, dict(lr=0.01, weight_decay=0.05)),
    # ρ_∞ = 2 / (1 − β2) − 1 = 4 at β2 = 0.6: never rectified, and r_k's formula divides by ρ_∞ − 4
    (ours.RAdam, torch.optim.RAdam, dict(lr=0.01, betas=(0.9, 0.6))),
    (ours.RAdamW, torch.optim.RAdam, dict(lr=0.01, betas=(0.9, 0.6), weight_decay=0.05)),
]

# our class whose decoupled weight decay is a separate class, and torch's flag for it
TORCH_FLAGS = {ours.AMSGrad: dict(amsgrad=True), ours.NAdamW: dict(decoupled_weight_decay=True),
               ours.RAdamW: dict(decoupled_weight_decay=True)}


def _name(case):
    mine, theirs, hp = case
    return f"{mine.__name__}-" + "-".join(f"{k}={v}" for k, v in hp.items())


@contextlib.contextmanager
def _torch_scalars_in_float64():
    """torch.optim keeps its step counts and NAdam's μ-product in the default dtype (float32
    unless changed; ``_get_scalar_dtype``); ours are Python floats, so float64 while torch runs."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(default)


def _optimize(make_optimizer, hp, seed, steps=200):
    params = make_params(seed)
    loss = make_loss(seed)
    groups = [{"params": params[:2]}, {"params": params[2:], "lr": hp.get("lr", 1.0) * 0.5}]
    optimizer = make_optimizer(groups, **hp)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=60, gamma=0.5)
    run(optimizer, params, loss, steps, scheduler)
    return params, optimizer


def _optimize_with_torch(theirs, mine, hp, seed, steps=200, **flags):
    """The same run with torch.optim's class, given its flag for our class's variant."""
    flags.update(TORCH_FLAGS.get(mine, {}))
    with _torch_scalars_in_float64():
        return _optimize(lambda p, **h: theirs(p, **h, **flags), hp, seed, steps)


@pytest.mark.parametrize("case", CASES, ids=[_name(c) for c in CASES])
@pytest.mark.parametrize("seed", [0, 1])
def test_same_parameters_as_torch_after_200_steps(case, seed):
    mine, theirs, hp = case
    our_params, _ = _optimize(mine, hp, seed)
    torch_params, _ = _optimize_with_torch(theirs, mine, hp, seed)
    start = make_params(seed)
    for ours_p, torch_p, p0 in zip(our_params, torch_params, start):
        torch.testing.assert_close(ours_p, torch_p, rtol=1e-9, atol=1e-12)
    assert not torch.equal(our_params[0], start[0]), "the parameters must have moved"
    assert torch.equal(our_params[3], start[3]), "a parameter without gradient must not move"


@pytest.mark.parametrize("case", CASES[::3], ids=[_name(c) for c in CASES[::3]])
def test_same_as_torch_foreach_implementation(case):
    mine, theirs, hp = case
    our_params, _ = _optimize(mine, hp, seed=3, steps=50)
    torch_params, _ = _optimize_with_torch(theirs, mine, hp, seed=3, steps=50, foreach=True)
    for a, b in zip(our_params, torch_params):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)
