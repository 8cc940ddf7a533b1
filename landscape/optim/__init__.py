"""landscape.optim: the optimizer family, as ``torch.optim.Optimizer`` subclasses.

Use a class directly (``Adam(model.parameters(), lr=1e-3)``) or a spec
(``build("radamw+nesterov+gradnoise+lrdropout+lookahead", params, lr=1e-3, seed=0)``).
``BASE_RULES`` is the catalog: what each base rule is, which modifiers it takes, its paper.
Hyper-parameters may be tensors broadcastable to the parameters: an lr of shape (B, 1) for a
(B, 2) parameter steps B settings in one run.
"""

from .adabound import AdaBound, AMSBound
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW, AMSGrad
from .aggmo import AggMo
from .base import MAX_SEED, Extension, Optimizer, require_seed
from .dropout import GradientDropout, LRDropout
from .gradient_noise import GradientNoise
from .lookahead import Lookahead
from .nadam import NAdam, NAdamW
from .radam import RAdam, RAdamW
from .rmsprop import RMSprop
from .sgd import SGD, SGDW
from .catalog import BASE_RULES, MODIFIERS, OptimizerInfo
from .spec import (EXTENSIONS, Spec, build, learning_rates, parse, parse_learning_rates,
                   parse_list)

__all__ = [
    "SGD", "SGDW", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "AMSGrad", "NAdam",
    "NAdamW", "RAdam", "RAdamW", "AdaBound", "AMSBound", "AggMo",
    "GradientNoise", "GradientDropout", "LRDropout", "Lookahead",
    "Optimizer", "Extension", "MAX_SEED", "require_seed", "Spec", "build", "parse", "parse_list", "learning_rates",
    "parse_learning_rates", "BASE_RULES", "MODIFIERS", "EXTENSIONS", "OptimizerInfo",
]
