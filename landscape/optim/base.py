"""The step loop every landscape optimizer shares, and the hooks extensions plug into.

One call of ``step()`` does:

1. in each parameter group, take the parameters that have a gradient g_k and advance their step
   counters k ← k + 1;
2. pass the gradients through the gradient extensions (gradient dropout, gradient noise), one
   stage at a time, each stage on every group before the next stage;
3. in each group, apply the update rule, wrapped by the update extensions (LR dropout,
   Lookahead), which see the parameters before and after the rule.

Random draws thus come in the same order whether the parameters p1, p2, p3 share one group or
each have their own: an optimizer with one group per parameter (B network copies stacked, with
per-group tensor hyper-parameters) steps exactly as one group holding them all, seed for seed.

A rule is written twice, like torch.optim's multi-tensor and single-tensor paths: ``_update``
works on the lists of a group with ``torch._foreach_*`` ops (fast, the default), and
``lecture_rule`` is one step on one tensor in the lecture's notation (θ, g, m, v, η, β1, …),
a line per equation (``foreach=False``). Both read and write the same state.

Hyper-parameters may be Python numbers or tensors broadcastable to the parameters; tensors are
moved to the parameters' device and dtype on first use.

Each rule also says which lecture symbol each of its state tensors is (``state_symbols``: torch's
"momentum_buffer" is u_k) and how a lecture draws one of its steps (``anatomy``: the arrows from
θ_k, as ``Term``s, computed from the state the rule kept; ``landscape.anatomy`` applies it to a
recorded run).
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from . import _ops

Number = float | Tensor


def describe(value: Any) -> str:
    """A short text of a hyper-parameter value for error messages."""
    if isinstance(value, Tensor):
        if value.numel() == 1:
            return repr(value.item())
        return f"tensor of shape {tuple(value.shape)} (min {value.min().item():g}, max {value.max().item():g})"
    return repr(value)


def is_number(value: Any) -> bool:
    """A real number or a real tensor: not a string, not a bool (``True == 1`` in Python)."""
    if isinstance(value, Tensor):
        return value.dtype != torch.bool and not value.is_complex()
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def require(name: str, value: Any, holds: Callable[[Any], Any], expected: str) -> None:
    """Raise ``ValueError`` naming ``name`` and ``value`` unless ``holds(value)`` is true everywhere.

    ``value`` must be a number or a tensor (or a sequence of them, for ``betas``)."""
    if not isinstance(value, (tuple, list)) and not is_number(value):
        kind = f"a tensor of dtype {value.dtype}" if isinstance(value, Tensor) else type(value).__name__
        raise ValueError(f"Invalid {name}: {value!r} (expected a number or a tensor of numbers, got {kind})")
    try:
        ok = holds(value)
        ok = bool(torch.all(ok)) if isinstance(ok, Tensor) else bool(ok)
    except (TypeError, RuntimeError):
        ok = False
    if not ok:
        raise ValueError(f"Invalid {name}: {describe(value)} (expected {expected})")


def require_probability_below_one(name: str, value: Any) -> None:
    require(name, value, lambda v: (v >= 0) & (v < 1), f"0 <= {name} < 1")


def require_nonnegative(name: str, value: Any) -> None:
    require(name, value, lambda v: v >= 0, f"{name} >= 0")


def require_broadcastable(group: dict) -> None:
    """Refuse a tensor hyper-parameter of ``group`` that does not broadcast to the shape of each
    of its parameters (an lr of shape (B, 1) fits a (B, 2) parameter; (3, 1) does not fit (4, 2))."""
    for key, value in group.items():
        values = value if isinstance(value, tuple) else (value,)
        for index, v in enumerate(values):
            if not isinstance(v, Tensor):
                continue
            name = f"{key}[{index}]" if isinstance(value, tuple) else key
            for param in group["params"]:
                try:
                    fits = torch.broadcast_shapes(v.shape, param.shape) == param.shape
                except RuntimeError:
                    fits = False
                if not fits:
                    raise ValueError(f"Invalid {name}: a tensor of shape {tuple(v.shape)} does not "
                                     f"broadcast to a parameter of shape {tuple(param.shape)} "
                                     f"(expected e.g. shape (B, 1) for a (B, 2) parameter)")


def is_zero(value: Number) -> bool:
    """True for a number equal to 0 (a tensor hyper-parameter is never treated as absent)."""
    return not isinstance(value, Tensor) and value == 0


def decay_weights(θ: Tensor, g: Tensor, group: dict) -> Tensor:
    """Weight decay λ on one tensor θ, coupled or decoupled; returns the g_k the rule uses."""
    η, λ = group["lr"], group["weight_decay"]
    if is_zero(λ):
        return g
    if group.get("decoupled_weight_decay", False):
        θ.mul_(1 - η * λ)                              # θ_k ← (1 − ηλ) θ_k     (decoupled: SGDW, AdamW, …)
        return g
    return g + λ * θ                                   # g_k ← g_k + λ θ_k      (coupled: L2)


def apply_weight_decay(group: dict, params: list[Tensor], grads: list[Tensor]) -> list[Tensor]:
    """Weight decay λ, coupled or decoupled; returns the gradients the rule should use.

    coupled (L2):        g_k ← g_k + λ θ_k
    decoupled (…W):      θ_k ← (1 − η λ) θ_k    (Loshchilov & Hutter, 2019)
    """
    decay = group["weight_decay"]
    if is_zero(decay):
        return grads
    if group.get("decoupled_weight_decay", False):
        _ops.mul_(params, 1 - group["lr"] * decay)
        return grads
    return _ops.added(grads, params, decay)


MAX_SEED = 2**63 - 1  # seeds are 0 … 2^63 − 1: what every torch.Generator takes


def require_seed(seed) -> int:
    """``seed``, if it is an integer from 0 to ``MAX_SEED``; else ``ValueError`` saying so."""
    if isinstance(seed, bool) or not (isinstance(seed, int) and 0 <= seed <= MAX_SEED):
        raise ValueError(f"Invalid seed: {seed!r} (expected an integer from 0 to 2**63 - 1)")
    return seed


class RandomSource:
    """Seeded random streams, one ``torch.Generator`` per device, saved with the optimizer.

    With ``seed=None`` draws come from torch's global generator (``torch.manual_seed``).
    """

    def __init__(self, seed: int | None = None):
        if seed is not None:
            require_seed(seed)
        self.seed = seed
        self._generators: dict[str, torch.Generator] = {}
        self._pending: dict[str, Tensor] = {}

    def generator(self, device: torch.device) -> torch.Generator | None:
        if self.seed is None:
            return None
        key = str(device)
        if key not in self._generators:
            generator = torch.Generator(device=device)
            generator.manual_seed(self.seed)
            if key in self._pending:
                generator.set_state(self._pending.pop(key))
            self._generators[key] = generator
        return self._generators[key]

    def rand_like(self, tensor: Tensor) -> Tensor:
        """Uniform [0, 1) draws of the shape, dtype and device of ``tensor``."""
        return torch.rand(tensor.shape, generator=self.generator(tensor.device),
                          dtype=tensor.dtype, device=tensor.device)

    def randn_like(self, tensor: Tensor) -> Tensor:
        """Standard normal draws of the shape, dtype and device of ``tensor``."""
        return torch.randn(tensor.shape, generator=self.generator(tensor.device),
                           dtype=tensor.dtype, device=tensor.device)

    def state_dict(self) -> dict:
        states = dict(self._pending)
        states.update({key: g.get_state() for key, g in self._generators.items()})
        return {"seed": self.seed, "generators": states}

    def load_state_dict(self, state: dict) -> None:
        self.seed = state["seed"]
        self._generators = {}
        self._pending = {key: value.clone() for key, value in state["generators"].items()}

    def __getstate__(self) -> dict:  # generators do not pickle; their states do
        return self.state_dict()

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["seed"])
        self.load_state_dict(state)


@dataclass
class GroupStep:
    """What one step of one parameter group works on: the parameters that have gradients."""

    group: dict
    params: list[Tensor]
    grads: list[Tensor]
    states: list[dict]
    random: RandomSource

    @property
    def steps(self) -> list[int]:
        """The step count k of each parameter, counting this step (1 on the first step)."""
        return [state["step"] for state in self.states]


#: What a ``Term`` of a step's anatomy is; "step" (θ_{k+1} − θ_k, the step taken) is added by
#: ``landscape.anatomy`` from the run's points, not by a rule.
KINDS = ("momentum", "gradient", "scaled gradient", "next momentum", "first moment", "step")


@dataclass(frozen=True)
class Term:
    """One arrow of the anatomy of a step from θ_k: ``vector`` drawn from θ_k + ``tail``.

    ``kind`` is one of ``KINDS`` (what it is, one colour per kind in every picture); ``label``
    says it in the lecture's notation, e.g. "−ηβuₖ₋₁: momentum term". Tensors may hold many
    points and rows at once: (…, 2) like θ."""

    kind: str
    label: str
    vector: Tensor
    tail: Tensor


def gradient_anatomy(θ: Tensor, g: Tensor, before: dict, after: dict, group: dict) -> list[Term]:
    """The gradient step −η g_k from θ_k: what every rule's anatomy shows at least (the step
    taken, θ_{k+1} − θ_k, is drawn beside it)."""
    return [Term("gradient", "−ηgₖ: gradient step", -group["lr"] * g, torch.zeros_like(θ))]


class Extension:
    """A stage that composes with any update rule.

    ``gradients`` may replace a group's gradients before the rule sees them (it must not modify
    ``p.grad`` in place); it runs on every group before the next extension's ``gradients``.
    ``update`` wraps a group's rule: it must call ``apply_rule()`` exactly once.
    Extension state is kept in the optimizer's per-parameter state under the extension's keys,
    so it travels with ``state_dict``.
    """

    name: str = "extension"
    #: What a step's arrows (``landscape.anatomy``) leave out of the step taken with this stage.
    anatomy_note: str = ""

    def gradients(self, step: GroupStep) -> list[Tensor]:
        return step.grads

    def update(self, step: GroupStep, apply_rule: Callable[[], None]) -> None:
        apply_rule()

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={describe(v)}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class Optimizer(torch.optim.Optimizer):
    """Base class of landscape's optimizers: a ``torch.optim.Optimizer`` with extensions.

    Subclasses validate their hyper-parameters, then implement ``_init_state`` (the state of
    one parameter), ``_update`` (the rule, on the lists of one group) and ``lecture_rule``
    (the same rule on one tensor, in the lecture's notation).

    Args:
        params: parameters or parameter groups, as for any torch optimizer.
        defaults: the default hyper-parameters of a group.
        extensions: extension stages (``GradientDropout``, ``GradientNoise``, ``LRDropout``,
            ``Lookahead``), applied in the order given.
        seed: seed of the random streams of randomised extensions; ``None`` uses torch's
            global generator.
        foreach: ``True`` steps every tensor of a group at once (``_update``); ``False`` steps
            one tensor at a time with ``lecture_rule``, the version to read. Same numbers.
    """

    #: One step on one tensor, ``lecture_rule(θ, g, state, group)``: θ and ``state`` updated in
    #: place, the state filled by ``_init_state`` and ``state["step"]`` = k already counted.
    lecture_rule: Callable[[Tensor, Tensor, dict, dict], None]

    #: The lecture symbol of each state tensor the rule keeps, by its key: {"exp_avg": "m", …}.
    state_symbols: dict[str, str] = {}

    #: The arrows of one step from θ_k, ``anatomy(θ, g, before, after, group)`` → [Term, …]: g is
    #: g_k, ``before`` and ``after`` the state at θ_k and at θ_{k+1} (``after["step"]`` = k counted
    #: as ``lecture_rule`` counts it; a key absent before the first step is 0), read, not changed.
    anatomy: Callable[[Tensor, Tensor, dict, dict, dict], list[Term]] = staticmethod(gradient_anatomy)

    def __init__(self, params: Iterable, defaults: dict, *,
                 extensions: Sequence[Extension] = (), seed: int | None = None, foreach: bool = True):
        if not isinstance(foreach, bool):
            raise ValueError(f"Invalid foreach: {foreach!r} (expected True or False)")
        names = [e.name for e in extensions]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"Invalid extensions: {name!r} given twice")
        self.extensions = list(extensions)
        self.random = RandomSource(seed)
        self.foreach = foreach
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict) -> None:
        super().add_param_group(param_group)
        require_broadcastable(self.param_groups[-1])

    # -- what a rule implements -------------------------------------------------------------
    def _init_state(self, param: Tensor, state: dict, group: dict) -> None:
        """Fill the empty state of ``param`` (``state['step']`` is set by the base class)."""

    def _update(self, group: dict, params: list[Tensor], grads: list[Tensor],
                states: list[dict]) -> None:
        raise NotImplementedError

    def _update_each(self, group: dict, params: list[Tensor], grads: list[Tensor],
                     states: list[dict]) -> None:
        """The rule one tensor at a time (``foreach=False``)."""
        for θ, g, state in zip(params, grads, states):
            self.lecture_rule(θ, g, state, group)

    # -- the step loop ------------------------------------------------------------------------
    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        groups = [(group, [p for p in group["params"] if p.grad is not None]) for group in self.param_groups]
        if any(p.grad.is_sparse for _, params in groups for p in params):
            raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
        steps = [self._start_step(group, params) for group, params in groups if params]
        for extension in self.extensions:
            for step in steps:
                step.grads = extension.gradients(step)
        rule = self._update if self.foreach else self._update_each
        for step in steps:
            apply_rule = functools.partial(rule, step.group, step.params, step.grads, step.states)
            for extension in self.extensions:
                apply_rule = functools.partial(extension.update, step, apply_rule)
            apply_rule()
        return loss

    def _start_step(self, group: dict, params: list[Tensor]) -> GroupStep:
        """The step of ``group`` on ``params`` (those with a gradient), their counters k ← k + 1."""
        self._move_hyperparameters(group, params[0])
        states = [self._state_of(p, group) for p in params]
        for state in states:
            state["step"] += 1
        return GroupStep(group, params, [p.grad for p in params], states, self.random)

    def _state_of(self, param: Tensor, group: dict) -> dict:
        state = self.state[param]
        if "step" not in state:
            state["step"] = 0
            self._init_state(param, state, group)
        return state

    @staticmethod
    def _move_hyperparameters(group: dict, like: Tensor) -> None:
        """Put tensor hyper-parameters on the device and dtype of the group's parameters."""

        def moved(value):
            if isinstance(value, Tensor) and (value.device != like.device or value.dtype != like.dtype):
                return value.to(device=like.device, dtype=like.dtype)
            return value

        for key, value in group.items():
            if isinstance(value, Tensor):
                group[key] = moved(value)
            elif isinstance(value, tuple) and any(isinstance(v, Tensor) for v in value):
                group[key] = tuple(moved(v) for v in value)

    # -- persistence and display --------------------------------------------------------------
    def state_dict(self) -> dict:
        state = super().state_dict()
        state["random"] = self.random.state_dict()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        random = state_dict.pop("random", None)
        super().load_state_dict(state_dict)
        if random is not None:
            self.random.load_state_dict(random)

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.update(extensions=self.extensions, random=self.random, foreach=self.foreach)
        return state

    def __repr__(self) -> str:
        text = super().__repr__()
        if not self.extensions:
            return text
        lines = text.rstrip(")").rstrip("\n")
        extensions = "\n".join(f"    {e!r}" for e in self.extensions)
        return f"{lines}\nExtensions (seed={self.random.seed}):\n{extensions}\n)"
