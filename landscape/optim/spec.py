"""Optimizer specs: ``"radamw+nesterov+gradnoise+lrdropout+lookahead"`` → an optimizer.

A spec is a base rule followed by modifiers and extensions, joined with ``+``:

* base rules: gd, sgd, momentum, nesterov, sgdw, adagrad, rmsprop, adadelta, adam, adamw,
  amsgrad, nadam, nadamw, radam, radamw, adabound, amsbound, aggmo;
* modifiers, for the rules that have the option: momentum, nesterov, amsgrad, centered, l2;
* extensions, for every rule: graddropout, gradnoise, lrdropout, lookahead (applied in that
  order: gradient stages before the rule, LR dropout on its update, Lookahead last).

``build`` routes keyword hyper-parameters to the rule (``lr``, ``momentum``, ``betas`` or
``beta1``/``beta2``, ...) and to the extensions (``noise_eta``, ``noise_gamma``,
``grad_keep_prob``, ``lr_keep_prob``, ``lookahead_k``, ``lookahead_alpha``); ``seed`` seeds
the randomised extensions.

In a list of runs on a surface (``trajectory.compare``, ``trajectory.grids``, the ``gif``
command) a spec may carry its own learning rate, ``spec@lr``: ``sgd@0.01, sgd@0.1, sgd@0.5``
is one optimizer at three learning rates (``split_learning_rate``).
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Any

from .adabound import AdaBound, AMSBound
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW, AMSGrad
from .aggmo import AggMo
from .base import Extension, Optimizer
from .dropout import GradientDropout, LRDropout
from .gradient_noise import GradientNoise
from .lookahead import Lookahead
from .nadam import NAdam, NAdamW
from .radam import RAdam, RAdamW
from .rmsprop import RMSprop
from .sgd import SGD, SGDW

BASE_RULES: dict[str, tuple[type[Optimizer], dict[str, Any]]] = {
    "gd": (SGD, {}),
    "sgd": (SGD, {}),
    "momentum": (SGD, {"momentum": 0.9}),
    "nesterov": (SGD, {"momentum": 0.9, "nesterov": True}),
    "sgdw": (SGDW, {}),
    "adagrad": (Adagrad, {}),
    "rmsprop": (RMSprop, {}),
    "adadelta": (Adadelta, {}),
    "adam": (Adam, {}),
    "adamw": (AdamW, {}),
    "amsgrad": (AMSGrad, {}),
    "nadam": (NAdam, {}),
    "nadamw": (NAdamW, {}),
    "radam": (RAdam, {}),
    "radamw": (RAdamW, {}),
    "adabound": (AdaBound, {}),
    "amsbound": (AMSBound, {}),
    "aggmo": (AggMo, {}),
}

# modifier → options it sets; it applies to the rules whose constructor takes the first option
MODIFIERS: dict[str, dict[str, Any]] = {
    "momentum": {"momentum": 0.9},
    "nesterov": {"nesterov": True, "momentum": 0.9},
    "amsgrad": {"amsgrad": True},
    "centered": {"centered": True},
    "l2": {"weight_decay": 1e-2, "decoupled_weight_decay": False},
}

# extension word → (class, {build keyword: constructor argument}); the order is the pipeline's
EXTENSIONS: dict[str, tuple[type[Extension], dict[str, str]]] = {
    "graddropout": (GradientDropout, {"grad_keep_prob": "keep_prob"}),
    "gradnoise": (GradientNoise, {"noise_eta": "eta", "noise_gamma": "gamma"}),
    "lrdropout": (LRDropout, {"lr_keep_prob": "keep_prob"}),
    "lookahead": (Lookahead, {"lookahead_k": "k", "lookahead_alpha": "alpha"}),
}


def _arguments(rule: type[Optimizer]) -> list[str]:
    names = list(inspect.signature(rule.__init__).parameters)
    return [n for n in names if n not in ("self", "params", "extensions", "seed")]


def _modifier_applies(modifier: str, rule: type[Optimizer]) -> bool:
    arguments = _arguments(rule)
    if modifier == "l2":  # coupled weight decay: rules that can also decouple, or only couple
        return "weight_decay" in arguments and rule not in (SGDW, AdamW, NAdamW, RAdamW)
    return next(iter(MODIFIERS[modifier])) in arguments


@dataclass(frozen=True)
class Spec:
    """A parsed spec: the base rule, the options its modifiers set, and the extensions."""

    text: str
    base: str
    rule: type[Optimizer]
    options: dict[str, Any] = field(default_factory=dict)
    modifiers: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()

    @property
    def momentum_is_beta1(self) -> bool:
        """Whether the rule's momentum is β1, the first-moment decay of ``betas`` (the Adam
        family), rather than a heavy-ball / Nesterov coefficient. AggMo's ``betas`` are its
        several momenta, not (β1, β2)."""
        return "betas" in _arguments(self.rule) and self.rule is not AggMo

    @property
    def takes_momentum(self) -> bool:
        """Whether a shared "momentum" setting is meant for this spec: momentum / nesterov
        words, or β1 of the Adam family (plain gd/sgd keep no velocity)."""
        return "momentum" in self.options or self.momentum_is_beta1

    def hyperparameters(self) -> list[str]:
        """Keyword names ``build`` accepts for this spec."""
        names = _arguments(self.rule)
        if self.momentum_is_beta1:
            names += ["beta1", "beta2"] + ([] if "momentum" in names else ["momentum"])
        for word in self.extensions:
            names += list(EXTENSIONS[word][1])
        return names + ["seed"]

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
        aliases = {k: hyperparameters.pop(k) for k in ("beta1", "momentum", "beta2")
                   if k in hyperparameters and k not in _arguments(self.rule)}
        if not aliases:
            return {}
        if "beta1" in aliases and "momentum" in aliases:
            raise ValueError("Invalid hyper-parameters: give beta1 or momentum, not both")
        if "betas" in hyperparameters:
            raise ValueError("Invalid hyper-parameters: give betas or beta1/beta2, not both")
        default_beta1, default_beta2 = inspect.signature(self.rule.__init__).parameters["betas"].default
        beta1 = aliases.get("beta1", aliases.get("momentum", default_beta1))
        return {"betas": (beta1, aliases.get("beta2", default_beta2))}


def parse(spec: str) -> Spec:
    """Parse and check a spec; ``ValueError`` lists the valid words for anything unknown."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"Invalid optimizer spec {spec!r}: expected e.g. 'adam' or "
                         f"'radamw+nesterov+lookahead'")
    if "@" in spec:
        raise ValueError(f"Invalid optimizer spec {spec!r}: 'spec@lr' is for lists of runs on a "
                         f"surface (trajectory.compare, trajectory.grids, the gif command); "
                         f"here give the learning rate as lr=")
    words = [w.strip().lower() for w in spec.split("+")]
    base, rest = words[0], words[1:]
    if base not in BASE_RULES:
        raise ValueError(f"Invalid optimizer spec {spec!r}: unknown base rule {base!r}; "
                         f"valid: {', '.join(BASE_RULES)}")
    rule, options = BASE_RULES[base]
    options = dict(options)
    modifiers, extensions = [], []
    for word in rest:
        if word in modifiers or word in extensions:
            raise ValueError(f"Invalid optimizer spec {spec!r}: {word!r} given twice")
        if word in EXTENSIONS:
            extensions.append(word)
        elif word in MODIFIERS:
            if not _modifier_applies(word, rule):
                fits = [b for b, (r, _) in BASE_RULES.items() if _modifier_applies(word, r)]
                raise ValueError(f"Invalid optimizer spec {spec!r}: {word!r} does not apply to "
                                 f"{base!r}; it applies to: {', '.join(fits)}")
            modifiers.append(word)
            arguments = _arguments(rule)
            options.update({k: v for k, v in MODIFIERS[word].items() if k in arguments})
        else:
            raise ValueError(f"Invalid optimizer spec {spec!r}: unknown word {word!r}; valid "
                             f"modifiers: {', '.join(MODIFIERS)}; extensions: {', '.join(EXTENSIONS)}")
    ordered = tuple(e for e in EXTENSIONS if e in extensions)
    return Spec("+".join(words), base, rule, options, tuple(modifiers), ordered)


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
