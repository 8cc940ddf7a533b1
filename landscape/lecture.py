"""The lecture's figures: the GIFs committed in gifs/ (``make gifs``), their interactive pages
(``make pages``) and the notebook's figures.

Each entry is one slide: a surface, the optimizers and the options of ``trajectory.compare``
(what ``python -m landscape gif`` would be given). Learning rates are chosen per optimizer
(``lr={spec: lr}``, or ``spec@lr`` for one optimizer at several learning rates) so that every
path tells its story (a slide, not a benchmark). The notebook shows ``entry.figure()`` for each;
``render_all`` writes each as a GIF, ``write_pages`` each that a setting can hold as a page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collections import Counter

from . import draw, optim, surfaces, trajectory
from .animate import export_gif
from .setting import Setting, Sweep

PAGE_OPTIONS = {"lr", "momentum", "steps", "starts"}  # the run options a page's setting holds


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

    def setting(self) -> Setting | None:
        """The slide as the explorer's setting, which its page opens at: the learning rate most of
        its optimizers share is the lr slider's, every other one stays the spec's own (``spec@lr``);
        lr and momentum snap to the sliders' values. None where the slide needs options a setting
        does not hold (a minibatch size, another arrival criterion)."""
        options = self.run_options
        if set(options) - PAGE_OPTIONS:
            return None
        surface = surfaces.get(self.surface)
        specs = optim.parse_list(list(self.optimizers))
        rates = optim.learning_rates(specs, options.get("lr", surface.default_lr))
        shared = [rate for spec, rate in zip(specs, rates) if spec.lr is None]
        lr = Counter(shared).most_common(1)[0][0] if shared else surface.default_lr
        texts = [spec.text if spec.lr is not None or rate == lr else f"{spec.text}@{rate!r}"
                 for spec, rate in zip(specs, rates)]
        values = {"surface": self.surface, "optimizers": ", ".join(texts), "lr": float(lr),
                  "steps": options.get("steps", Setting.steps)}
        if options.get("momentum") is not None:
            values["momentum"] = options["momentum"]
        if "starts" in options:
            (start,) = options["starts"]
            values["start"] = list(start)
        return Setting.checked(values, f"the slide {self.file}")

    def write_page(self, folder: str | Path, **options) -> str | None:
        """Write the slide's interactive page (``page.write_page``) into ``folder``, named as its GIF
        with .html; ``options`` go there. None for a slide without a setting (``setting``)."""
        from .page import command, write_page

        setting = self.setting()
        if setting is None:
            return None
        path = Path(folder) / Path(self.file).with_suffix(".html")
        write_page(path, Sweep(setting), title=self.title,
                   made_by=command(setting, options.get("vectors"), options.get("text_size", "normal"), out=path.name),
                   **options)
        return str(path)


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


def write_pages(folder: str | Path = "gifs", **options) -> list[str]:
    """Write the page of every lecture slide a setting can hold into ``folder`` (``LectureGif.
    write_page``; made if missing), saying which it leaves out and why; returns the paths written."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    written = []
    for entry in LECTURE_GIFS:
        path = entry.write_page(folder, **options)
        if path is None:
            print(f"left out {entry.file}: its runs need {', '.join(sorted(set(entry.run_options) - PAGE_OPTIONS))}, "
                  f"which a page's sliders do not hold", flush=True)
        else:
            written.append(path)
            print(f"wrote {path}", flush=True)
    return written
