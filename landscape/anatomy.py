"""The anatomy of a step: the arrows a lecture draws at point k of a run, from the numbers its
optimizer was handed and kept during the run (``trajectory.Recorded``).

Point k is θ_k, reached after k steps; its step, to θ_{k+1}, is the optimizer's (k+1)-th
(``state["step"]`` = k + 1, as its ``lecture_rule`` counts). The rule's ``anatomy`` (in the rule's
own file, the lecture's notation) turns the recorded g_k and the state held at θ_k and at θ_{k+1}
into its arrows: heavy ball's momentum term and gradient step, Nesterov's jump to the look-ahead
point, Adam's step before its per-coordinate scaling, … Last comes the step taken, θ_{k+1} − θ_k,
from the run's points. For a plain rule the rule's arrows end where the step does; where an
extension changes the gradient or the step (``Extension.anatomy_note``), the gap between them is
that extension's doing.

The arrows of every point are computed at once (element-wise, no optimizer is run), so drawing
point k is a lookup.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .trajectory import Trajectories

STEP_LABEL = "θₖ₊₁ − θₖ: the step taken"


@dataclass(frozen=True)
class Anatomy:
    """The arrows of every step of one run: arrow a of the step from point k of row b goes from
    ``tails[a, k, b]`` along ``vectors[a, k, b]``; the last arrow is the step taken.

    Attributes:
        name: the run's name (``Trajectories.name``).
        kinds: each arrow's kind (``optim.base.KINDS``: one colour per kind in every picture).
        labels: each arrow in the lecture's notation, e.g. "−ηβuₖ₋₁: momentum term".
        tails, vectors: (A, P, B, 2), P the run's steps (the last point takes none).
        notes: what the arrows leave out, one line per extension of the spec.
    """

    name: str
    kinds: tuple[str, ...]
    labels: tuple[str, ...]
    tails: Tensor
    vectors: Tensor
    notes: tuple[str, ...] = ()

    @property
    def steps(self) -> int:
        return self.tails.shape[1]

    def at(self, point: int) -> tuple[Tensor, Tensor] | None:
        """(tails, vectors), each (A, B, 2), of the step from ``point``; None for the last point."""
        if not 0 <= point < self.steps:
            return None
        return self.tails[:, point], self.vectors[:, point]


def anatomy(runs: Trajectories) -> Anatomy:
    """The arrows of every step of ``runs``, from its recorded gradients and optimizer state and
    its own optimizer's group (its spec built again at the rows' settings and the run's
    hyper-parameters; the recorded learning rates, a schedule's included)."""
    recorded = runs.recorded
    if recorded is None or runs.spec is None:
        raise ValueError(f"the run {runs.name!r} kept no optimizer state: run it with record_state=True")
    settings = {name: values.reshape(-1, 1) for name, values in runs.settings.items()}
    optimizer = runs.spec.without_lr().build([torch.zeros(runs.rows, 2, dtype=runs.points.dtype)],
                                             **recorded.hyperparameters, **settings)
    group = dict(optimizer.param_groups[0], lr=recorded.lrs[:-1])
    θ, following = runs.points[:-1], runs.points[1:]
    steps = θ.shape[0]
    before = {key: values[:-1] for key, values in recorded.state.items()}
    after = {key: values[1:] for key, values in recorded.state.items()}
    after["step"] = torch.arange(1, steps + 1, dtype=θ.dtype).reshape(-1, 1, 1)
    terms = type(optimizer).anatomy(θ, recorded.gradients[:-1], before, after, group)
    tails = [(θ + term.tail).expand_as(θ) for term in terms] + [θ]
    vectors = [term.vector.expand_as(θ) for term in terms] + [following - θ]
    return Anatomy(runs.name, tuple(term.kind for term in terms) + ("step",),
                   tuple(term.label for term in terms) + (STEP_LABEL,),
                   torch.stack(tails), torch.stack(vectors),
                   tuple(f"+{extension.name}: {extension.anatomy_note}" for extension in optimizer.extensions))
