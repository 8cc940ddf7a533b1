"""The Real networks tab's "Landscape slice": after a run, every optimizer's recorded path in one
plane of the network's loss, drawn like the analytic surfaces (``nets.slice_view``); the training
or validation loss at a click; the animation exported as a GIF. The grid and images start at the
model's and device's defaults (``nets.costs``); the status line says how long a slice will take
before it starts. A coarse picture comes first, then the full grid replaces it; Stop keeps the
picture on screen. Slicing and exporting run on a thread of their own, with a progress bar, the
tab staying live."""

from __future__ import annotations

import threading
from pathlib import Path

import ipywidgets as widgets

from ..nets import costs, slice_view
from ..nets.devices import resolve_device
from .common import Download, OneAtATime, StatusLine, default_gif_folder, named, reported, show_gif

LABEL = {"description_width": "90px"}
PICTURE = {"width": "100%", "max_width": "1000px", "height": "auto", "display": "none"}


class SlicePanel:
    """The slice of the last comparison run in the tab (``offer``); one job at a time."""

    def __init__(self):
        self.directions = named(widgets.Dropdown(options=[("PCA of the paths (centred)", "pca"),
                                                          ("PCA from the start (uncentred)", "pca-uncentred"),
                                                          ("random, filter-normalised", "random")],
                                                 value="pca", description="plane", style=LABEL), "slice-directions")
        grid, images = costs.SLICE_PRESETS[0]
        self.grid = named(widgets.BoundedIntText(value=grid, min=3, max=slice_view.MAX_GRID_POINTS,
                                                 description="grid points", style=LABEL), "slice-grid")
        self.images = named(widgets.BoundedIntText(value=images, min=1, max=60_000,
                                                   description="loss images", style=LABEL), "slice-images")
        self.button = named(widgets.Button(description="Landscape slice", icon="map", disabled=True,
                                           tooltip="run a comparison first"), "slice-run")
        self.stop_button = named(widgets.Button(description="Stop", icon="stop", layout={"display": "none"},
                                                tooltip="stop refining: the picture on screen stays"), "slice-stop")
        self.gif_button = named(widgets.Button(description="Export slice GIF", icon="film", disabled=True),
                                "slice-gif")
        self.loss = named(widgets.ToggleButtons(options=slice_view.WHICH, value="train",
                                                layout={"display": "none"}), "slice-loss")
        self.progress = named(widgets.IntProgress(value=0, min=0, max=1, layout={"display": "none"}),
                              "slice-progress")
        self.status = StatusLine("slice-status")
        self.figure = named(widgets.Image(format="png", layout=dict(PICTURE)), "slice-figure")
        self.gif_preview = named(widgets.Image(format="gif", layout=dict(PICTURE)), "slice-gif-preview")
        self.gif_download = Download("slice-gif-download")
        self.comparison = self.data = self.result = None
        self.stopping = threading.Event()
        self.jobs = OneAtATime(self.status, "the slice is busy: wait for it to finish, or Stop it")
        self.button.on_click(lambda _: self.jobs.start(self.compute))
        self.stop_button.on_click(lambda _: self.stopping.set())
        self.gif_button.on_click(lambda _: self.jobs.start(self.export))
        self.loss.observe(lambda _: self._draw(), names="value")
        for field in (self.grid, self.images):
            field.observe(lambda _: self._say_estimate(), names="value")
        self.status.say("after a run: its optimizers' paths in one plane of the network's loss")

    def suggest(self, model: str, device: str) -> None:
        """The grid and images of ``model`` on ``device`` ("auto", "cpu", …): ``costs.slice_defaults``."""
        try:
            target = resolve_device(device)
        except ValueError:  # not on this machine: the run will say so; the defaults of its kind
            target = device
        self.grid.value, self.images.value = costs.slice_defaults(model, target)

    def plan(self) -> slice_view.SlicePlan:
        """The offered comparison's slice with the panel's grid and images, a coarse picture first."""
        return slice_view.plan_slice(self.comparison, self.data, grid=self.grid.value,
                                     evaluation_images=self.images.value, coarse=True)

    def _say_estimate(self) -> None:
        if self.comparison is not None and not self.button.disabled:
            self.status.say(f"Landscape slice: {self.plan().estimate()}")

    def offer(self, comparison, data) -> None:
        """Make the slice of ``comparison`` (trained with ``record=True`` on ``data``) available;
        None: a new run started, nothing to slice (a slice being computed stops)."""
        self.stopping.set()
        self.comparison, self.data, self.result = comparison, data, None
        for picture in (self.figure, self.gif_preview):
            picture.layout.display = "none"
        self.gif_download.hide()
        self.loss.layout.display = "none"
        self.gif_button.disabled = True
        recorded = comparison is not None and any(run.path is not None for run in comparison.runs)
        self.button.disabled = not recorded
        self._say_estimate()

    def _advance(self, done: int, total: int) -> None:
        if self.stopping.is_set():
            raise _Stopped
        self.progress.max, self.progress.value = total, done

    @reported
    def compute(self) -> None:
        """The slice of the offered comparison with the panel's plane, grid and images: its
        estimate said first, then the coarse picture, then the full one."""
        if self.comparison is None:
            raise ValueError("run a comparison first")
        comparison, plan = self.comparison, self.plan()
        headline = [plan.estimate()]
        self.status.say(headline[0], "busy")
        self.stopping.clear()
        self.button.disabled = self.gif_button.disabled = True
        self.progress.value, self.progress.layout.display = 0, None
        self.stop_button.layout.display = None

        def coarse(loss_slice) -> None:
            if self.comparison is comparison:
                self.result = loss_slice
                headline[0] = f"coarse {plan.coarse} x {plan.coarse} picture; {plan.remaining()}"
                self._draw()
                self.loss.layout.display = None

        try:
            result = slice_view.slice_comparison(
                comparison, self.data, directions=self.directions.value, grid=plan.grid,
                evaluation_images=self.images.value, progress=self._advance, on_coarse=coarse,
                status=lambda text: self.status.say(f"{headline[0]}\n{text}", "busy"))
            if self.comparison is comparison:
                self.result = result
                self._draw()
                self.loss.layout.display = None
                self.status.say(self._summary())
        except _Stopped:
            if self.comparison is comparison:
                self.status.say(f"stopped: the coarse {plan.coarse} x {plan.coarse} picture stays" if self.result
                                else "stopped before the first picture")
        finally:
            self.progress.layout.display = self.stop_button.layout.display = "none"
            self.button.disabled = self.comparison is None
            self.gif_button.disabled = self.result is None

    def _summary(self) -> str:
        shares = ", ".join(f"{path.name} {path.off_plane_share:.0%}" for path in self.result.paths)
        variance = ("" if self.result.explained_variance is None else f"{self.result.variance_meaning}: "
                    + " + ".join(f"{share:.0%}" for share in self.result.explained_variance) + "; ")
        return f"{variance}largest distance off the plane / path length: {shares}"

    @reported
    def _draw(self) -> None:
        if self.result is not None:
            self.figure.value = self.result.figure(self.loss.value).png()
            self.figure.layout.display = None

    def gif_path(self) -> Path:
        specs = "_".join(path.optimizer for path in self.result.paths)
        return default_gif_folder() / f"slice_{self.result.model}_{specs}_{self.loss.value}.gif"

    @reported
    def export(self, path: str | Path | None = None) -> str:
        """The slice's animation as a GIF, by default in the GIF folder (``default_gif_folder``)."""
        if self.result is None:
            raise ValueError("compute the slice first")
        path = Path(path or self.gif_path()).resolve()
        self.status.say("exporting the slice GIF …", "busy")
        self.progress.value, self.progress.layout.display = 0, None
        try:
            written = self.result.export_gif(path, self.loss.value, progress=self._advance)
        finally:
            self.progress.layout.display = "none"
        size = show_gif(written, self.gif_preview, self.gif_download)
        self.status.say(f"wrote {written} ({self.progress.max} frames, {size / 1e6:.2f} MB): download it or "
                        f"see its preview below")
        return written

    def widget(self) -> widgets.VBox:
        return widgets.VBox([
            widgets.HTML("<b>Landscape slice</b>"),
            widgets.HBox([self.directions, self.grid, self.images]),
            widgets.HBox([self.button, self.stop_button, self.gif_button, self.loss]),
            self.progress, self.status.widget, self.figure, self.gif_download.widget, self.gif_preview])


class _Stopped(Exception):
    """Raised in the slice's progress when Stop is pressed (or a new run makes it moot)."""
