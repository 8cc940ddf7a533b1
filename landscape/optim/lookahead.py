"""Lookahead: k fast steps of any rule, then the slow weights move part of the way.

With slow weights φ (φ = θ_0 at the start) and fast weights θ updated by the base rule::

    every k-th step:   φ ← φ + α (θ − φ),   θ ← φ

The base rule's state (momenta) carries on across synchronisations. Zhang, Lucas, Hinton & Ba,
"Lookahead Optimizer: k steps forward, 1 step back", NeurIPS 2019. The slow weights live in the
optimizer state (key ``lookahead_slow``), so they are saved by ``state_dict``.
"""

from __future__ import annotations

import torch

from . import _ops
from .base import Extension, GroupStep, require


class Lookahead(Extension):
    """Args: k (fast steps per synchronisation, ≥ 1), alpha α (slow step size in [0, 1])."""

    name = "lookahead"
    anatomy_note = ("every k-th step the step taken also pulls θ back towards the slow weights, "
                    "which the arrows leave out")

    def __init__(self, k: int = 5, alpha: float = 0.5):
        require("lookahead_k", k, lambda v: isinstance(v, int) and v >= 1, "an integer >= 1")
        require("lookahead_alpha", alpha, lambda v: (v >= 0) & (v <= 1), "0 <= lookahead_alpha <= 1")
        self.k = k
        self.alpha = alpha

    def update(self, step: GroupStep, apply_rule):
        for param, state in zip(step.params, step.states):
            if "lookahead_slow" not in state:
                state["lookahead_slow"] = param.detach().clone()
        apply_rule()
        due = [(p, s["lookahead_slow"]) for p, s in zip(step.params, step.states)
               if s["step"] % self.k == 0]
        if due:
            fast, slow = (list(t) for t in zip(*due))
            _ops.lerp_(slow, fast, self.alpha)
            torch._foreach_copy_(fast, slow)
