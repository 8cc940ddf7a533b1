"""The lecture's figures: the GIFs committed in gifs/ (``make gifs``) and the notebook's figures.

Each entry is one slide: a surface, the optimizers and the options of ``trajectory.compare``
(what ``python -m landscape gif`` would be given). Learning rates are chosen per optimizer
(``lr={spec: lr}``, or ``spec@lr`` for one optimizer at several learning rates) so that every
path tells its story (a slide, not a benchmark). The notebook shows ``entry.figure()`` for each;
``render_all`` writes each as a GIF.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import draw, surfaces, trajectory
from .animate import export_gif


@dataclass(frozen=True)
class LectureGif:
    """One slide: ``optimizers`` on ``surface`` with ``run_options`` for ``trajectory.compare``."""

    file: str
    surface: str
    optimizers: tuple[str, ...]
    title: str
    run_options: dict[str, Any] = field(default_factory=dict)
    stride: int = 1  # iterations per GIF frame

    def runs(self) -> list[trajectory.Trajectories]:
        return trajectory.compare(surfaces.get(self.surface), list(self.optimizers), **self.run_options)

    def figure(self, **options) -> draw.PlainFigure:
        """The slide as a still: the whole paths, the '[iterations]' legend, the loss panel."""
        return draw.figure(surfaces.get(self.surface), self.runs(), title=self.title, **options)

    def render(self, folder: str | Path, **options) -> str:
        """Write the slide's GIF into ``folder``; ``options`` go to ``animate.export_gif``."""
        return export_gif(Path(folder) / self.file, surfaces.get(self.surface), trajectories=self.runs(),
                          stride=self.stride, title=self.title, **options)


LECTURE_GIFS = [
    LectureGif("strongly_convex_sgd_vs_adam.gif", "quadratic", ("sgd", "adam"),
               "strongly convex quadratic (κ = 10): SGD η = 0.15 vs Adam η = 0.5",
               dict(lr={"sgd": 0.15, "adam": 0.5}, steps=200), stride=2),
    LectureGif("two_well.gif", "two-well", ("sgd", "momentum", "nesterov", "adam"),
               "two-well function: iterations to reach a minimum in brackets",
               dict(lr={"sgd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adam": 0.05}, steps=150,
                    starts=[(0.2, 1.2)])),
    LectureGif("momentum_vs_nesterov.gif", "ill-conditioned", ("gd", "momentum", "nesterov"),
               "ill-conditioned quadratic (κ = 50): GD, heavy ball, Nesterov; η = 1/L, β = 0.9",
               dict(lr=0.02, momentum=0.9, steps=200), stride=2),
    LectureGif("gd_vs_sgd.gif", "regression", ("gd", "sgd"),
               "least squares: full-batch GD vs minibatch SGD (batch 5)",
               dict(lr=0.05, batch_size=5, steps=150, criterion="loss", tolerance=0.01)),
    LectureGif("learning_rates.gif", "quadratic", ("gd@0.02", "gd@0.1", "gd@0.21"),
               "GD on a quadratic (κ = 10, L = 10): η too small, η = 1/L, η above 2/L",
               dict(steps=150), stride=2),
]


def render_all(folder: str | Path = "gifs", **options) -> list[str]:
    """Render every lecture GIF into ``folder``; returns the paths written."""
    written = []
    for entry in LECTURE_GIFS:
        written.append(entry.render(folder, **options))
        print(f"wrote {written[-1]}", flush=True)
    return written
