"""Optimizer specs: ``"radamw+nesterov+gradnoise+lrdropout+lookahead"`` → an optimizer.

A spec is a base rule followed by modifiers and extensions, joined with ``+``:

* base rules: gd, sgd, momentum, nesterov, sgdw, adagrad, rmsprop, adadelta, adam, adamw,
  amsgrad, nadam, nadamw, radam, radamw, adabound, amsbound, aggmo;
* modifiers, for the rules whose catalog row accepts them (``catalog.BASE_RULES``): momentum,
  nesterov, amsgrad, centered, l2;
* extensions, for every rule: graddropout, gradnoise, lrdropout, lookahead (applied in that
  order: gradient stages before the rule, LR dropout on its update, Lookahead last).

``build`` routes keyword hyper-parameters to the rule (``lr``, ``momentum``, ``betas`` or
``beta1``/``beta2``, ...) and to the extensions (``noise_eta``, ``noise_gamma``,
``grad_keep_prob``, ``lr_keep_prob``, ``lookahead_k``, ``lookahead_alpha``); ``seed`` seeds
the randomised extensions.

A spec may end in its own learning rate, ``spec@lr``: ``sgd@0.01, sgd@0.1, sgd@0.5`` is one
optimizer at three learning rates. A list of runs (``parse_list``: a comma-separated text or a
sequence) is parsed and checked once, then travels as ``Spec`` objects; ``learning_rates`` gives
each its learning rate (its own, else one for all or one per spec).

Words: a *spec* is the text and the ``Spec`` parsed from it; its *rule* is the optimizer class
that runs it (``Spec.rule``).
"""

from __future__ import annotations

import inspect
import math
import sys
from dataclasses import dataclass, field, replace
from collections.abc import Sequence
from typing import Any

import torch

from .base import Extension, Optimizer
from .catalog import BASE_RULES, MODIFIERS, OptimizerInfo, constructor_defaults
from .dropout import GradientDropout, LRDropout
from .gradient_noise import GradientNoise
from .lookahead import Lookahead

# extension word → (class, {build keyword: constructor argument}); the order is the pipeline's
EXTENSIONS: dict[str, tuple[type[Extension], dict[str, str]]] = {
    "graddropout": (GradientDropout, {"grad_keep_prob": "keep_prob"}),
    "gradnoise": (GradientNoise, {"noise_eta": "eta", "noise_gamma": "gamma"}),
    "lrdropout": (LRDropout, {"lr_keep_prob": "keep_prob"}),
    "lookahead": (Lookahead, {"lookahead_k": "k", "lookahead_alpha": "alpha"}),
}


@dataclass(frozen=True)
class Spec:
    """A parsed spec: the base rule (its catalog row), the options its words set, the extensions,
    and its own learning rate (``lr``, from ``spec@lr``; None without)."""

    words: str
    base: str
    options: dict[str, Any] = field(default_factory=dict)
    modifiers: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    lr: float | None = None

    @property
    def text(self) -> str:
        """The spec as text, normalised: 'sgd+nesterov', or 'sgd+nesterov@0.1' with its own lr."""
        return self.words if self.lr is None else f"{self.words}@{self.lr!r}"

    @property
    def name(self) -> str:
        """What legends call it: 'sgd', or 'sgd η=0.1' with its own learning rate."""
        return self.words if self.lr is None else f"{self.words} η={self.lr:g}"

    def __str__(self) -> str:
        return self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __eq__(self, other) -> bool:
        return isinstance(other, Spec) and self.text == other.text

    @property
    def info(self) -> OptimizerInfo:
        """The catalog row of the base rule."""
        return BASE_RULES[self.base]

    @property
    def rule(self) -> type[Optimizer]:
        return self.info.rule

    @property
    def momentum_parameter(self) -> str | None:
        """The name of the hyper-parameter a shared "momentum" setting moves for this spec: "beta1"
        for the Adam family, "momentum" for a spec that keeps a velocity (the momentum / nesterov
        words), None for the others (plain gd/sgd, AdaGrad, …)."""
        if self.info.momentum_parameter == "momentum" and "momentum" not in self.options:
            return None
        return self.info.momentum_parameter

    @property
    def is_heavy_ball(self) -> bool:
        """Gradient descent, with or without heavy-ball momentum, nothing else added: where the
        quadratic's theory (``landscape.theory``) holds."""
        return self.info.heavy_ball and set(self.modifiers) <= {"momentum"} and not self.extensions

    def with_extension(self, word: str) -> "Spec":
        """This spec with the extension ``word`` added (itself if it has it): 'sgd@0.1' + 'gradnoise'
        is 'sgd+gradnoise@0.1'."""
        if word in self.extensions:
            return self
        return parse(f"{self.words}+{word}" + ("" if self.lr is None else f"@{self.lr!r}"))

    def without_lr(self) -> "Spec":
        """This spec without its own learning rate (the caller gives one)."""
        return replace(self, lr=None)

    def hyperparameters(self) -> list[str]:
        """Keyword names ``build`` accepts for this spec."""
        names = list(constructor_defaults(self.rule))
        if self.info.momentum_parameter == "beta1":
            names += ["beta1", "beta2", "momentum"]
        for word in self.extensions:
            names += list(EXTENSIONS[word][1])
        return names + ["seed", "foreach"]

    def lecture_source(self, **hyperparameters) -> str:
        """The lecture version of this spec, as Python source for a slide: the rule's function
        (one step on one tensor; its branches cover the options) and the lecture functions it
        calls, under the values of the group it runs with (``hyperparameters`` as for ``build``);
        then each extension's stage as its module states it."""
        optimizer = self.build([torch.zeros(1)], **hyperparameters)
        group = {name: value for name, value in optimizer.param_groups[0].items() if name != "params"}
        lines = [f"# {self.text}: {self.rule.__name__} ({self.info.paper})",
                 "# group: " + ", ".join(f"{name}={value!r}" for name, value in group.items()), ""]
        lines += [inspect.getsource(function) for function in _called_lecture_functions(self.rule.lecture_rule)]
        for extension in optimizer.extensions:
            stage = sys.modules[type(extension).__module__].__doc__.strip()
            lines += [f"# +{extension.name}: {extension!r}", *(f"#   {line}".rstrip() for line in stage.splitlines()), ""]
        return "\n".join(lines)

    def build(self, params, seed: int | None = None, **hyperparameters) -> Optimizer:
        """The optimizer for ``params`` with ``hyperparameters`` routed to rule and extensions;
        a spec with its own learning rate runs at it (``lr=`` is then refused)."""
        if self.lr is not None:
            if "lr" in hyperparameters:
                raise ValueError(f"Invalid lr: {self.text!r} has its own learning rate; give it once")
            hyperparameters = {**hyperparameters, "lr": self.lr}
        accepted = self.hyperparameters()
        unknown = sorted(set(hyperparameters) - set(accepted))
        if unknown:
            raise ValueError(f"Invalid hyper-parameter {unknown[0]!r} for {self.text!r}; "
                             f"valid: {', '.join(accepted)}")
        hyperparameters = dict(hyperparameters)
        extensions = []
        for word in self.extensions:
            extension, keywords = EXTENSIONS[word]
            extensions.append(extension(**{argument: hyperparameters.pop(keyword)
                                           for keyword, argument in keywords.items()
                                           if keyword in hyperparameters}))
        arguments = {**self.options, **self._betas(hyperparameters), **hyperparameters}
        return self.rule(params, **arguments, extensions=extensions, seed=seed)

    def group_values(self, **hyperparameters) -> dict:
        """The rule's keyword values for one param group of its optimizer, from ``build``'s names
        (``momentum`` or ``beta1``/``beta2`` fold into the Adam family's ``betas``)."""
        unknown = sorted(set(hyperparameters) - set(self.hyperparameters()))
        if unknown:
            raise ValueError(f"Invalid hyper-parameter {unknown[0]!r} for {self.text!r}")
        hyperparameters = dict(hyperparameters)
        return {**self._betas(hyperparameters), **hyperparameters}

    def _betas(self, hyperparameters: dict) -> dict:
        """Fold beta1 / beta2 / momentum (β1 of the Adam family) into ``betas``."""
        if self.info.momentum_parameter != "beta1":
            return {}
        aliases = {k: hyperparameters.pop(k) for k in ("beta1", "momentum", "beta2") if k in hyperparameters}
        if not aliases:
            return {}
        if "beta1" in aliases and "momentum" in aliases:
            raise ValueError("Invalid hyper-parameters: give beta1 or momentum, not both")
        if "betas" in hyperparameters:
            raise ValueError("Invalid hyper-parameters: give betas or beta1/beta2, not both")
        default_beta1, default_beta2 = constructor_defaults(self.rule)["betas"]
        beta1 = aliases.get("beta1", aliases.get("momentum", default_beta1))
        return {"betas": (beta1, aliases.get("beta2", default_beta2))}


def _called_lecture_functions(function) -> list:
    """``function`` and, after it, the functions of landscape.optim it calls, in order of use: the
    names each one's code refers to (``co_names``), looked up in its module."""
    found = [function]
    for known in found:
        for name in known.__code__.co_names:
            called = known.__globals__.get(name)
            if (inspect.isfunction(called) and called.__module__.startswith(f"{__package__}.")
                    and called not in found):
                found.append(called)
    return found


def parse(spec: str | Spec) -> Spec:
    """Parse and check a spec, 'adam+lookahead' or with its own learning rate 'sgd@0.1' (a
    ``Spec`` is returned as it is); ``ValueError`` lists the valid words for anything unknown."""
    if isinstance(spec, Spec):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"Invalid optimizer spec {spec!r}: expected e.g. 'adam' or "
                         f"'radamw+nesterov+lookahead'")
    text, lr = _own_learning_rate(spec)
    words = [w.strip().lower() for w in text.split("+")]
    base, rest = words[0], words[1:]
    if base not in BASE_RULES:
        raise ValueError(f"Invalid optimizer spec {spec!r}: unknown base rule {base!r}; "
                         f"valid: {', '.join(BASE_RULES)}")
    info = BASE_RULES[base]
    options = dict(info.options)
    modifiers, extensions = [], []
    for word in rest:
        if word in modifiers or word in extensions:
            raise ValueError(f"Invalid optimizer spec {spec!r}: {word!r} given twice")
        if word in EXTENSIONS:
            extensions.append(word)
        elif word in MODIFIERS:
            if word not in info.modifiers:
                fits = [b for b, row in BASE_RULES.items() if word in row.modifiers]
                raise ValueError(f"Invalid optimizer spec {spec!r}: {word!r} does not apply to "
                                 f"{base!r}; it applies to: {', '.join(fits)}")
            modifiers.append(word)
            accepted = constructor_defaults(info.rule)
            options.update({k: v for k, v in MODIFIERS[word].items() if k in accepted})
        else:
            raise ValueError(f"Invalid optimizer spec {spec!r}: unknown word {word!r}; valid "
                             f"modifiers: {', '.join(MODIFIERS)}; extensions: {', '.join(EXTENSIONS)}")
    ordered = tuple(e for e in EXTENSIONS if e in extensions)
    return Spec("+".join(words), base, options, tuple(modifiers), ordered, lr)


def _own_learning_rate(spec: str) -> tuple[str, float | None]:
    """The words of ``spec`` and its own learning rate: 'sgd@0.1' → ('sgd', 0.1); 'sgd' → ('sgd', None)."""
    words, at, rate = spec.partition("@")
    if not at:
        return spec, None
    try:
        lr = float(rate)
    except ValueError:
        raise ValueError(f"Invalid learning rate in optimizer spec {spec!r}: {rate.strip()!r} is "
                         f"not a number (expected spec@lr, e.g. 'sgd@0.1')") from None
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"Invalid learning rate in optimizer spec {spec!r}: {lr!r} (expected a "
                         f"finite number > 0, e.g. 'sgd@0.1')")
    return words.strip(), lr


def parse_list(specs: str | Sequence[str | Spec]) -> list[Spec]:
    """The specs of a list of runs, parsed and checked once: a comma-separated text ('sgd, adam',
    'sgd@0.01, sgd@0.1') or a sequence of specs. At least one; the same run twice is refused
    (one rule at several learning rates is 'sgd@0.01, sgd@0.1')."""
    texts = [part.strip() for part in specs.split(",") if part.strip()] if isinstance(specs, str) else list(specs)
    if not texts:
        raise ValueError("Invalid optimizers: give at least one, e.g. 'sgd, adam'")
    parsed = [parse(text) for text in texts]
    seen = set()
    for text, spec in zip(texts, parsed):
        if spec in seen:
            raise ValueError(f"Invalid optimizers: {str(text)!r} given twice; one rule at several "
                             f"learning rates is e.g. 'sgd@0.01, sgd@0.1'")
        seen.add(spec)
    return parsed


def learning_rates(specs: Sequence[Spec], lr=None, default=None) -> list:
    """Each spec's learning rate: its own ('sgd@0.1'), else ``lr``: one for all (a number or a
    tensor), or {spec: lr} (keys are specs in any case, 'ADAM' is 'adam'); with ``lr`` None,
    ``default(spec)``. A key that names none of the specs, or only specs that have their own
    learning rate (the value would be ignored), is refused, and so is a spec left without one."""
    if not isinstance(lr, dict):
        rates = [spec.lr if spec.lr is not None else lr for spec in specs]
    else:
        given = {}
        for key, value in lr.items():
            try:
                words = parse(key).words
            except ValueError:
                words = None
            named = [spec for spec in specs if spec.words == words]
            if not named:
                raise ValueError(f"Invalid lr: {key!r} is none of the optimizers "
                                 f"{', '.join(spec.text for spec in specs)}")
            if all(spec.lr is not None for spec in named):
                raise ValueError(f"Invalid lr: {key}={value!r} would be ignored: "
                                 f"{', '.join(spec.text for spec in named)} keep their own learning rate")
            given[words] = value
        rates = [spec.lr if spec.lr is not None else given.get(spec.words) for spec in specs]
    if lr is None and default is not None:
        rates = [default(spec) if rate is None else rate for spec, rate in zip(specs, rates)]
    missing = [spec.text for spec, rate in zip(specs, rates) if rate is None]
    if missing:
        raise ValueError(f"Invalid lr: no learning rate for {', '.join(missing)}")
    return rates


def parse_learning_rates(text: str) -> float | dict[str, float]:
    """'0.05' (every optimizer), or per optimizer: 'sgd=0.1, adam=0.05'."""

    def number(value: str) -> float:
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"not a number: {value.strip()!r}") from None

    if "=" not in text:
        return number(text)
    rates = {}
    for item in (part.strip() for part in text.split(",") if part.strip()):
        name, _, value = item.partition("=")
        rates[name.strip()] = number(value)
    return rates


def build(spec: str, params, seed: int | None = None, **hyperparameters) -> Optimizer:
    """``build("radamw+nesterov+gradnoise+lrdropout+lookahead", model.parameters(), lr=1e-3)``."""
    return parse(spec).build(params, seed=seed, **hyperparameters)
