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

In a list of runs on a surface (``trajectory.compare``, ``trajectory.sweeps``, the ``gif``
command) a spec may carry its own learning rate, ``spec@lr``: ``sgd@0.01, sgd@0.1, sgd@0.5``
is one optimizer at three learning rates (``split_learning_rate``).
"""

from __future__ import annotations

import inspect
import math
import sys
from dataclasses import dataclass, field
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
    """A parsed spec: the base rule (its catalog row), the options its words set, the extensions."""

    text: str
    base: str
    options: dict[str, Any] = field(default_factory=dict)
    modifiers: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()

    @property
    def info(self) -> OptimizerInfo:
        """The catalog row of the base rule."""
        return BASE_RULES[self.base]

    @property
    def rule(self) -> type[Optimizer]:
        return self.info.rule

    @property
    def momentum(self) -> str | None:
        """The hyper-parameter a shared "momentum" setting moves for this spec: "beta1" for the
        Adam family, "momentum" for a spec that keeps a velocity (the momentum / nesterov words),
        None for the others (plain gd/sgd, AdaGrad, …)."""
        if self.info.momentum == "momentum" and "momentum" not in self.options:
            return None
        return self.info.momentum

    @property
    def is_heavy_ball(self) -> bool:
        """Gradient descent, with or without heavy-ball momentum, nothing else added: where the
        quadratic's theory (``landscape.theory``) holds."""
        return self.info.heavy_ball and set(self.modifiers) <= {"momentum"} and not self.extensions

    def hyperparameters(self) -> list[str]:
        """Keyword names ``build`` accepts for this spec."""
        names = list(constructor_defaults(self.rule))
        if self.info.momentum == "beta1":
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
        """The optimizer for ``params`` with ``hyperparameters`` routed to rule and extensions."""
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

    def _betas(self, hyperparameters: dict) -> dict:
        """Fold beta1 / beta2 / momentum (β1 of the Adam family) into ``betas``."""
        if self.info.momentum != "beta1":
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


def parse(spec: str) -> Spec:
    """Parse and check a spec; ``ValueError`` lists the valid words for anything unknown."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"Invalid optimizer spec {spec!r}: expected e.g. 'adam' or "
                         f"'radamw+nesterov+lookahead'")
    if "@" in spec:
        raise ValueError(f"Invalid optimizer spec {spec!r}: 'spec@lr' is for lists of runs on a "
                         f"surface (trajectory.compare, trajectory.sweeps, the gif command); "
                         f"here give the learning rate as lr=")
    words = [w.strip().lower() for w in spec.split("+")]
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
    return Spec("+".join(words), base, options, tuple(modifiers), ordered)


def split_specs(text: str) -> list[str]:
    """A comma-separated list of specs: 'sgd, momentum+lookahead' → ['sgd', 'momentum+lookahead']."""
    return [part.strip() for part in text.split(",") if part.strip()]


def split_learning_rate(spec: str) -> tuple[str, float | None]:
    """A spec and its own learning rate: 'sgd@0.1' → ('sgd', 0.1); 'sgd' → ('sgd', None)."""
    name, at, rate = spec.partition("@")
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
    return name.strip(), lr


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
    for item in split_specs(text):
        name, _, value = item.partition("=")
        rates[name.strip()] = number(value)
    return rates


def build(spec: str, params, seed: int | None = None, **hyperparameters) -> Optimizer:
    """``build("radamw+nesterov+gradnoise+lrdropout+lookahead", model.parameters(), lr=1e-3)``."""
    return parse(spec).build(params, seed=seed, **hyperparameters)
