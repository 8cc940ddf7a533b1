"""The lecture version of every rule (``foreach=False``: one tensor at a time, a line per
equation) gives the numbers of the fast multi-tensor path (``foreach=True``): parameters and
state, with every option, tensor hyper-parameters, and every extension."""

import ast
import copy
import importlib
import inspect
import pickle
import pkgutil
from pathlib import Path

import pytest
import torch

import landscape.optim as lo
from problems import make_loss, make_params, rosenbrock, run

DTYPE = torch.float64
STEPS = 100
# The two paths round differently (m.mul_(β1).add_((1 − β1) g) against lerp_, θ − η d against
# θ.add_(d, alpha=−η), ...): an ulp or so per operation. After 100 steps every entry is within
# 2e-13 of its tensor's largest entry (1e-12 allowed): an entry near 0 (a velocity changing sign)
# carries the rounding of the larger terms it is made of, so atol scales with the tensor.
RTOL = ATOL_OF_SCALE = 1e-12

CASES = [
    # (class, hyper-parameters): every option and modifier the class has
    (lo.SGD, dict(lr=0.05)),
    (lo.SGD, dict(lr=0.05, momentum=0.9)),
    (lo.SGD, dict(lr=0.05, momentum=0.8, dampening=0.3)),
    (lo.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (lo.SGD, dict(lr=0.05, momentum=0.8, weight_decay=0.05)),
    (lo.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05, decoupled_weight_decay=True)),
    (lo.SGDW, dict(lr=0.05, weight_decay=0.05)),
    (lo.SGDW, dict(lr=0.05, momentum=0.9, weight_decay=0.05)),
    (lo.Adagrad, dict(lr=0.1)),
    (lo.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1, eps=1e-6)),
    (lo.RMSprop, dict(lr=0.01)),
    (lo.RMSprop, dict(lr=0.01, centered=True)),
    # lr 0.001: at lr 0.005 and α = 0.9 this rule hops around a minimum chaotically for some seeds,
    # and the two paths' ulp differences grow to 1e-4 within 100 steps
    (lo.RMSprop, dict(lr=0.001, alpha=0.9, momentum=0.5, weight_decay=0.01)),
    (lo.RMSprop, dict(lr=0.005, momentum=0.7, centered=True, eps=1e-6)),
    (lo.Adadelta, dict()),
    (lo.Adadelta, dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.01)),
    (lo.Adam, dict(lr=0.01)),
    (lo.Adam, dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.02)),
    (lo.AdamW, dict(lr=0.01, weight_decay=0.1)),
    (lo.AMSGrad, dict(lr=0.01, weight_decay=0.01)),
    (lo.AdamW, dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    (lo.Adam, dict(lr=0.01, nesterov=True)),
    (lo.Adam, dict(lr=0.01, nesterov=True, momentum_decay=4e-3)),
    (lo.AdamW, dict(lr=0.01, weight_decay=0.1, nesterov=True)),
    (lo.AMSGrad, dict(lr=0.01, nesterov=True)),
    (lo.NAdam, dict(lr=0.01)),
    (lo.NAdam, dict(lr=0.01, betas=(0.85, 0.99), weight_decay=0.02, momentum_decay=0.01)),
    (lo.NAdamW, dict(lr=0.01, weight_decay=0.05)),
    # RAdam with β2 = 0.999 or 0.99 takes the ρ_k ≤ 5 branch for k ≤ 5 or 6, then the rectified one
    (lo.RAdam, dict(lr=0.01)),
    (lo.RAdam, dict(lr=0.01, betas=(0.9, 0.99), weight_decay=0.02)),
    (lo.RAdamW, dict(lr=0.01, weight_decay=0.05)),
    (lo.RAdam, dict(lr=0.01, nesterov=True)),
    (lo.RAdamW, dict(lr=0.01, weight_decay=0.05, nesterov=True)),
    (lo.RAdam, dict(lr=0.01, betas=(0.9, 0.6))),  # ρ_∞ = 4: never rectified, and r_k would divide by 0
    (lo.AdaBound, dict(lr=0.01)),
    # γ = 0.1: the band is narrow by step 100, so steps are clipped at both bounds
    (lo.AdaBound, dict(lr=0.01, final_lr=0.05, gamma=0.1, weight_decay=0.01, decoupled_weight_decay=True)),
    (lo.AMSBound, dict(lr=0.01, weight_decay=0.01)),
    (lo.AggMo, dict(lr=0.05)),
    (lo.AggMo, dict(lr=0.05, betas=(0.5, 0.9), weight_decay=0.01)),
]


def _name(case):
    rule, hp = case
    return f"{rule.__name__}-" + "-".join(f"{k}={v}" for k, v in hp.items())


def _never(*args):
    raise AssertionError("foreach=False must not call the multi-tensor _update")


def _optimize(rule, hp, foreach, extensions=(), seed=0, steps=STEPS):
    """Two parameter groups (the second at half the lr, with a parameter that gets no gradient)
    and a scheduler that halves the lr every 30 steps."""
    params, loss = make_params(seed), make_loss(seed)
    assert all(p.dtype == DTYPE for p in params)
    groups = [{"params": params[:2]}, {"params": params[2:], "lr": hp.get("lr", 1.0) * 0.5}]
    optimizer = rule(groups, **hp, extensions=extensions, seed=7, foreach=foreach)
    if not foreach:
        optimizer._update = _never
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=30, gamma=0.5)
    run(optimizer, params, loss, steps, scheduler)
    return params, optimizer


def _assert_same_value(a, b, where):
    assert type(a) is type(b), where
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype == DTYPE, where
        atol = ATOL_OF_SCALE * b.abs().max().item()
        torch.testing.assert_close(a, b, rtol=RTOL, atol=atol, msg=lambda m: f"{where}: {m}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same_value(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert a == pytest.approx(b, rel=RTOL, abs=0), where
    else:
        assert a == b, where


def _assert_same(fast, lecture):
    """Same parameters, and the same state (every key, every tensor) for every parameter."""
    (fast_params, fast_optimizer), (lecture_params, lecture_optimizer) = fast, lecture
    for index, (p, q) in enumerate(zip(fast_params, lecture_params)):
        _assert_same_value(p.detach(), q.detach(), f"parameter {index}")
        fast_state, lecture_state = fast_optimizer.state[p], lecture_optimizer.state[q]
        assert fast_state.keys() == lecture_state.keys(), f"state keys of parameter {index}"
        for key in fast_state:
            _assert_same_value(fast_state[key], lecture_state[key], f"state[{key!r}] of parameter {index}")


@pytest.mark.parametrize("case", CASES, ids=[_name(c) for c in CASES])
def test_lecture_rule_gives_the_multi_tensor_numbers(case):
    rule, hp = case
    fast = _optimize(rule, hp, foreach=True)
    lecture = _optimize(rule, hp, foreach=False)
    _assert_same(fast, lecture)
    start = make_params(0)
    assert not torch.equal(lecture[0][0], start[0]), "the parameters must have moved"
    assert lecture[1].state[lecture[0][0]]["step"] == STEPS


def test_every_rule_class_has_a_lecture_rule_and_a_case():
    rules = {cls for name in lo.__all__ if isinstance(cls := getattr(lo, name), type)
             and issubclass(cls, lo.Optimizer) and cls is not lo.Optimizer}
    assert {rule for rule, _ in CASES} == rules
    for rule in rules:  # in the rule's own file: NAdam's is nadam, not adam
        assert rule.lecture_rule.__module__ == rule.__module__
        assert rule.lecture_rule.__doc__.startswith("One ") and "lecture's notation" in rule.lecture_rule.__doc__


def _optim_functions() -> set[str]:
    """The names of the functions defined in landscape.optim's modules."""
    names = set()
    for module in pkgutil.iter_modules(lo.__path__):
        module = importlib.import_module(f"{lo.__name__}.{module.name}")
        names |= {name for name, value in vars(module).items()
                  if inspect.isfunction(value) and value.__module__ == module.__name__}
    return names


LECTURE_SPECS = [*lo.BASE_RULES, "adam+nesterov", "adamw+nesterov", "amsgrad+nesterov", "radam+nesterov",
                 "radamw+nesterov", "adam+amsgrad", "rmsprop+centered", "sgd+nesterov", "adamw+lookahead"]


@pytest.mark.parametrize("spec", LECTURE_SPECS)
def test_the_lecture_source_defines_every_optim_function_it_calls(spec):
    """What show-rule prints reads on its own: each function of landscape.optim the printed code
    calls is printed too, wherever it is defined (NAdam's look-ahead in nesterov_moment.py)."""
    tree = ast.parse(lo.parse(spec).lecture_source())
    defined = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    called = {node.func.id for node in ast.walk(tree)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert defined[0] == lo.parse(spec).rule.lecture_rule.__name__
    assert not (called & _optim_functions()) - set(defined)
    assert len(defined) == len(set(defined))


def test_optim_imports_at_module_level_and_in_no_circle():
    """The lecture source finds what a function calls among its module's names: every import in
    landscape.optim is at module level, and no module imports itself through others."""
    imports = {}
    for module in pkgutil.iter_modules(lo.__path__):
        tree = ast.parse(Path(lo.__path__[0], f"{module.name}.py").read_text())
        statements = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
        assert all(node in tree.body for node in statements), f"an import inside a function in {module.name}.py"
        imports[module.name] = {name for node in statements if isinstance(node, ast.ImportFrom) and node.level == 1
                                for name in ([node.module] if node.module else [a.name for a in node.names])}

    def reaches(start, name, seen=()):
        return any(n == start or (n not in seen and reaches(start, n, (*seen, n))) for n in imports.get(name, ()))

    assert [name for name in imports if reaches(name, name)] == []


def test_the_lecture_source_lists_the_called_functions_in_order_of_use():
    source = lo.parse("adam+nesterov").lecture_source()
    defined = [node.name for node in ast.parse(source).body if isinstance(node, ast.FunctionDef)]
    assert defined == ["adam", "decay_weights", "moments", "first_moment_estimate", "is_zero",
                       "look_ahead", "look_ahead_weights", "momentum_schedule"]
    assert "def look_ahead(g: Tensor, m: Tensor" in source


def _column(*values):
    return torch.tensor(values, dtype=DTYPE).reshape(-1, 1)


LRS = _column(1e-4, 3e-4, 6e-4)  # stable for every rule on this part of Rosenbrock
MOMENTA = _column(0.0, 0.5, 0.9)
TENSOR_CASES = [
    # (class, hyper-parameters of shape (B, 1) for a (B, 2) parameter)
    (lo.SGD, dict(lr=LRS, momentum=MOMENTA)),
    (lo.SGD, dict(lr=LRS, momentum=MOMENTA + 0.05, nesterov=True, weight_decay=_column(0.0, 0.01, 0.1))),
    (lo.SGDW, dict(lr=LRS, momentum=MOMENTA, weight_decay=_column(0.0, 0.01, 0.1))),
    (lo.Adagrad, dict(lr=LRS, lr_decay=_column(0.0, 0.01, 0.1))),
    (lo.RMSprop, dict(lr=LRS, alpha=_column(0.9, 0.99, 0.5), momentum=MOMENTA, centered=True)),
    (lo.Adadelta, dict(lr=LRS * 1e3, rho=_column(0.5, 0.9, 0.95))),
    (lo.Adam, dict(lr=LRS, betas=(MOMENTA, 0.999))),
    (lo.Adam, dict(lr=LRS, betas=(MOMENTA, _column(0.9, 0.99, 0.999)), amsgrad=True)),
    (lo.AdamW, dict(lr=LRS, betas=(MOMENTA, 0.999), nesterov=True)),
    (lo.NAdam, dict(lr=LRS, betas=(MOMENTA, 0.999), momentum_decay=_column(4e-3, 1e-2, 0.0))),
    # β2 = 0.6, 0.9, 0.999: never rectified, rectified from k = 7, and from k = 6
    (lo.RAdam, dict(lr=LRS, betas=(MOMENTA, _column(0.6, 0.9, 0.999)))),
    (lo.RAdamW, dict(lr=LRS, betas=(MOMENTA, 0.999), nesterov=True)),
    (lo.AdaBound, dict(lr=LRS, betas=(MOMENTA, 0.999), final_lr=_column(6e-4, 3e-4, 1e-4), gamma=0.1)),
    (lo.AggMo, dict(lr=LRS, betas=(MOMENTA, _column(0.9, 0.99, 0.5)))),
]


def _optimize_rows(rule, hp, foreach, steps=60):
    p = torch.tensor([[-1.2, 1.0], [0.5, -0.5], [1.2, 1.2]], dtype=DTYPE, requires_grad=True)
    optimizer = rule([p], **hp, foreach=foreach)
    if not foreach:
        optimizer._update = _never
    run(optimizer, [p], lambda ps: rosenbrock(ps[0]).sum(), steps)
    return [p], optimizer


@pytest.mark.parametrize("case", TENSOR_CASES, ids=[_name(c) for c in TENSOR_CASES])
def test_tensor_hyperparameters_give_the_same_numbers_on_both_paths(case):
    rule, hp = case
    fast = _optimize_rows(rule, hp, foreach=True)
    lecture = _optimize_rows(rule, hp, foreach=False)
    _assert_same(fast, lecture)
    assert torch.isfinite(lecture[0][0]).all()


EXTENSIONS = {
    "gradnoise": lambda: lo.GradientNoise(eta=0.01),
    "graddropout": lambda: lo.GradientDropout(keep_prob=0.8),
    "lrdropout": lambda: lo.LRDropout(keep_prob=0.7),
    "lookahead": lambda: lo.Lookahead(k=4, alpha=0.5),
    "all": lambda: [lo.GradientDropout(0.8), lo.GradientNoise(0.01), lo.LRDropout(0.7), lo.Lookahead(4)],
}
EXTENDED_RULES = [(lo.SGD, dict(lr=0.05, momentum=0.9)), (lo.AdamW, dict(lr=0.01, nesterov=True)),
                  (lo.RAdam, dict(lr=0.01))]


@pytest.mark.parametrize("extension", list(EXTENSIONS))
@pytest.mark.parametrize("case", EXTENDED_RULES, ids=[_name(c) for c in EXTENDED_RULES])
def test_extensions_compose_with_both_paths(case, extension):
    rule, hp = case

    def extensions():
        made = EXTENSIONS[extension]()
        return made if isinstance(made, list) else [made]

    fast = _optimize(rule, hp, foreach=True, extensions=extensions())
    lecture = _optimize(rule, hp, foreach=False, extensions=extensions())
    _assert_same(fast, lecture)
    plain = _optimize(rule, hp, foreach=True)
    assert not torch.equal(plain[0][0], lecture[0][0]), "the extension must change the run"


def test_foreach_is_kept_by_deepcopy_and_pickle_and_continues_identically():
    params, loss = make_params(2), make_loss(2)
    optimizer = lo.NAdam(params, lr=0.01, foreach=False, extensions=[lo.Lookahead(3)])
    run(optimizer, params, loss, steps=4)
    twins = [copy.deepcopy(optimizer), pickle.loads(pickle.dumps(optimizer))]
    run(optimizer, params, loss, steps=3)
    for twin in twins:
        assert twin.foreach is False
        twin._update = _never
        twin_params = [p for group in twin.param_groups for p in group["params"]]
        run(twin, twin_params, loss, steps=3)
        for a, b in zip(twin_params, params):
            assert torch.equal(a, b)


@pytest.mark.parametrize("foreach", [None, 0, "False"])
def test_foreach_must_be_a_bool(foreach):
    with pytest.raises(ValueError, match=f"Invalid foreach: {foreach!r} \\(expected True or False\\)"):
        lo.Adam([torch.zeros(2, dtype=DTYPE, requires_grad=True)], foreach=foreach)
