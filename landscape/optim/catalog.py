"""The optimizer catalog: one declared row per base rule of a spec, and the modifiers.

Everything the rest of landscape needs to know about an optimizer beyond its update rule is
declared here, in the manner of torch's ``OptimizerInfo`` test table: which class runs it, which
options its spec word sets, which modifiers it accepts, which hyper-parameter the explorer's
momentum slider and the phase diagram's y axis move, its default learning rate on a network, its
paper, and its colour in every picture. ``spec.py`` parses with it, the explorer and ``draw`` label
their momentum axis with it and ``draw.colours`` colours its runs with it,
``Spec.is_heavy_ball`` decides with it where ``draw`` overlays ``landscape.theory``, and
``nets.train`` takes its default learning rates from it.

The keyword names a rule accepts, and their defaults, are its constructor's (the one place they
are written); ``constructor_defaults`` reads them, and a test holds this table to them.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

from .adabound import AdaBound, AMSBound
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW, AMSGrad
from .aggmo import AggMo
from .base import Optimizer
from .nadam import NAdam, NAdamW
from .radam import RAdam, RAdamW
from .rmsprop import RMSprop
from .sgd import SGD, SGDW

# modifier word → the options it sets
MODIFIERS: dict[str, dict[str, Any]] = {
    "momentum": {"momentum": 0.9},
    "nesterov": {"nesterov": True, "momentum": 0.9},
    "amsgrad": {"amsgrad": True},
    "centered": {"centered": True},
    "l2": {"weight_decay": 1e-2, "decoupled_weight_decay": False},
}


@dataclass(frozen=True)
class OptimizerInfo:
    """What landscape knows about one base rule of a spec.

    Attributes:
        rule: the ``torch.optim.Optimizer`` subclass that runs it.
        paper: where the rule comes from.
        options: what the spec word sets beyond the class defaults ("momentum": β = 0.9).
        modifiers: the modifier words the rule accepts ("adam+amsgrad", "sgd+nesterov").
        momentum_parameter: the name of the hyper-parameter the momentum slider and the phase
            diagram move: "momentum" (the velocity's β, for specs that keep a velocity), "beta1"
            (the first-moment decay of the Adam family), or None (no such parameter).
        network_lr: default learning rate when it trains a network (``nets.train``).
        heavy_ball: the rule is gradient descent, with or without heavy-ball momentum: the
            quadratic's theory (``landscape.theory``) applies to it.
        colour: its runs' colour in every picture (``draw.colours``; several runs of the rule in
            one picture get shades of it). The colours differ from rule to rule and keep off the
            contours' viridis hues (purple, blue-green, green, yellow) and off white, the loss
            panels' background.
    """

    rule: type[Optimizer]
    paper: str
    options: dict[str, Any] = field(default_factory=dict)
    modifiers: tuple[str, ...] = ()
    momentum_parameter: str | None = None
    network_lr: float = 1e-3
    heavy_ball: bool = False
    colour: str = field(kw_only=True)


_SGD = "Robbins & Monro 1951"
_HEAVY_BALL = "Polyak 1964"
_NESTEROV = "Nesterov 1983; Sutskever et al., ICML 2013"
_ADAM = "Kingma & Ba, ICLR 2015"
_ADAMW = "Loshchilov & Hutter, ICLR 2019"
_NADAM = "Dozat, ICLR workshop 2016"
_RADAM = "Liu et al., ICLR 2020"
_ADABOUND = "Luo et al., ICLR 2019"

BASE_RULES: dict[str, OptimizerInfo] = {
    "gd": OptimizerInfo(SGD, _SGD, modifiers=("momentum", "nesterov", "l2"),
                        momentum_parameter="momentum", heavy_ball=True, colour="#f58231"),  # orange
    "sgd": OptimizerInfo(SGD, _SGD, modifiers=("momentum", "nesterov", "l2"),
                         momentum_parameter="momentum", heavy_ball=True, colour="#e6194b"),  # crimson
    "momentum": OptimizerInfo(SGD, _HEAVY_BALL, {"momentum": 0.9}, ("momentum", "nesterov", "l2"),
                              momentum_parameter="momentum", heavy_ball=True, colour="#f032e6"),  # magenta
    "nesterov": OptimizerInfo(SGD, _NESTEROV, {"momentum": 0.9, "nesterov": True},
                              ("momentum", "nesterov", "l2"), momentum_parameter="momentum",
                              colour="#0050ff"),  # blue
    "sgdw": OptimizerInfo(SGDW, _ADAMW, modifiers=("momentum", "nesterov"),
                          momentum_parameter="momentum", colour="#ff7f50"),  # coral
    "adagrad": OptimizerInfo(Adagrad, "Duchi, Hazan & Singer, JMLR 2011", modifiers=("l2",),
                             network_lr=1e-2, colour="#8a2be2"),  # blue violet
    "rmsprop": OptimizerInfo(RMSprop, "Tieleman & Hinton 2012; centered: Graves 2013",
                             modifiers=("momentum", "centered", "l2"), momentum_parameter="momentum",
                             network_lr=1e-2, colour="#c71585"),  # violet red
    "adadelta": OptimizerInfo(Adadelta, "Zeiler 2012", modifiers=("l2",), network_lr=1.0,
                              colour="#00a0ff"),  # sky blue
    "adam": OptimizerInfo(Adam, _ADAM, modifiers=("nesterov", "amsgrad", "l2"), momentum_parameter="beta1",
                          colour="#000000"),  # black
    "adamw": OptimizerInfo(AdamW, _ADAMW, modifiers=("nesterov", "amsgrad"), momentum_parameter="beta1",
                           colour="#800000"),  # maroon
    "amsgrad": OptimizerInfo(AMSGrad, "Reddi, Kale & Kumar, ICLR 2018", modifiers=("nesterov", "l2"),
                             momentum_parameter="beta1", colour="#8470ff"),  # light slate blue
    "nadam": OptimizerInfo(NAdam, _NADAM, modifiers=("l2",), momentum_parameter="beta1",
                           network_lr=2e-3, colour="#9a6324"),  # brown
    "nadamw": OptimizerInfo(NAdamW, _NADAM, momentum_parameter="beta1", network_lr=2e-3,
                            colour="#d2691e"),  # chocolate
    "radam": OptimizerInfo(RAdam, _RADAM, modifiers=("nesterov", "l2"), momentum_parameter="beta1",
                           colour="#ff6fa5"),  # pink
    "radamw": OptimizerInfo(RAdamW, _RADAM, modifiers=("nesterov",), momentum_parameter="beta1",
                            colour="#ff1493"),  # deep pink
    "adabound": OptimizerInfo(AdaBound, _ADABOUND, modifiers=("l2",), momentum_parameter="beta1",
                              colour="#b8860b"),  # dark goldenrod
    "amsbound": OptimizerInfo(AMSBound, _ADABOUND, modifiers=("l2",), momentum_parameter="beta1",
                              colour="#bc8f8f"),  # rosy brown
    "aggmo": OptimizerInfo(AggMo, "Lucas, Sun, Zemel & Grosse, ICLR 2019", modifiers=("l2",),
                           network_lr=0.1, colour="#ba55d3"),  # orchid
}

# constructor arguments that are not hyper-parameters of the rule
_NOT_HYPERPARAMETERS = ("self", "params", "extensions", "seed", "foreach")


def constructor_defaults(rule: type[Optimizer]) -> dict[str, Any]:
    """The hyper-parameters ``rule``'s constructor takes, with their defaults."""
    return {name: parameter.default
            for name, parameter in inspect.signature(rule.__init__).parameters.items()
            if name not in _NOT_HYPERPARAMETERS}
