"""The Real networks tab's lr x momentum sweep: the tab's model trained at every (lr, momentum) of a
small grid in one batched run (``nets.sweep``) on a thread with a progress bar, then put under an lr
and a momentum slider, as on the Landscape tab: a slider move looks up the cell's picture (the
phase diagram with the cell marked, beside its loss curves), drawn for every cell in the background
once the sweep is done. Before it trains, the status line says how long it is expected to take
(``nets.costs``). *Export page* writes the sweep as one self-contained HTML page (``page.network``)
into the GIF folder and offers it as a download (on the students' page, only the download)."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import ipywidgets as widgets

from .. import optim
from ..grid import Grid, parse_range
from ..nets import sweep as network_sweep
from .common import Download, LatestOnly, Mute, OneAtATime, StatusLine, default_gif_folder, named, reported

LABEL = {"description_width": "90px"}


class SweepPanel:
    """The sweep of the tab's model, data and epochs (``tab``: the ``NetworksTab``)."""

    def __init__(self, tab):
        self.tab = tab
        self.optimizer = named(widgets.Text(value="momentum", description="optimizer", style=LABEL), "sweep-optimizer")
        self.lrs = named(widgets.Text(value="0.001:1:8", description="lrs", placeholder="low:high:count (log)",
                                      style=LABEL), "sweep-lrs")
        self.momenta = named(widgets.Text(value="0:0.9:4", description="momenta",
                                          placeholder="low:high:count; empty for a rule without", style=LABEL),
                             "sweep-momenta")
        self.button = named(widgets.Button(description="Run sweep", icon="th"), "sweep-run")
        self.page_button = named(widgets.Button(description="Export page", icon="code", disabled=True,
                                                tooltip="the sweep as one HTML page that opens offline"),
                                 "sweep-page")
        self.page_download = Download("sweep-page-download")
        self.in_page = getattr(tab, "in_page", False)
        self.made_with: dict = {}  # the data options of the sweep shown, for its page's command
        self.progress = named(widgets.IntProgress(value=0, min=0, max=1, layout={"display": "none"}),
                              "sweep-progress")
        self.status = StatusLine("sweep-status")
        self.lr = named(widgets.SelectionSlider(options=[0.0], description="lr", style=LABEL,
                                                layout={"width": "420px", "display": "none"},
                                                continuous_update=True), "sweep-lr")
        self.momentum = named(widgets.SelectionSlider(options=[0.0], description="momentum", style=LABEL,
                                                      layout={"width": "420px", "display": "none"},
                                                      continuous_update=True), "sweep-momentum")
        self.picture = named(widgets.Image(format="png", layout={"width": "100%", "max_width": "1000px",
                                                                  "height": "auto", "display": "none"}),
                             "sweep-figure")
        self.result: network_sweep.NetworkSweep | None = None
        self.pictures: dict[tuple[int, int], bytes] = {}
        self.jobs = OneAtATime(self.status, "a sweep is already running")
        self.exports = OneAtATime(self.status, "the page is being exported")
        self.mute = Mute()
        self.worker = LatestOnly(self._render, self._publish, self.status.error, idle=self._next_picture)
        self.button.on_click(lambda _: self.start())
        self.page_button.on_click(lambda _: self.exports.start(self.export_page, starting="exporting the page …"))
        for slider in (self.lr, self.momentum):
            slider.observe(lambda _: self.show(), names="value")
        self.status.say("train the model at every lr and momentum of a small grid at once, then drag the sliders")

    def start(self) -> threading.Thread | None:
        return self.jobs.start(self.run)

    @reported
    def run(self) -> None:
        """The sweep of the panel's grid (what Run sweep starts on a thread)."""
        spec = optim.parse(self.optimizer.value.strip())
        grid = self.chosen_grid()
        self.button.disabled = True
        self.result, self.pictures = None, {}
        self.page_button.disabled, self.made_with = True, {"train_size": self.tab.train_size.value or None}
        self.page_download.hide()
        for widget in (self.lr, self.momentum, self.picture):
            widget.layout.display = "none"
        try:
            data, source = self.tab.load_data(self.status)
            model = self.tab.model.value

            def say(estimate: str) -> None:
                self.status.say(f"{model} with {spec.text} on {source}: {estimate} …", "busy")

            self.progress.value, self.progress.layout.display = 0, None
            self.result = network_sweep.sweep_network(model, spec, grid.lrs, grid.momenta, data=data,
                                                      epochs=self.tab.epochs.value, progress=self._advance, status=say)
        finally:
            self.progress.layout.display = "none"
            self.button.disabled = False
        self._offer_sliders()
        self.status.say(f"{self.result.summary()}: drag lr and momentum")

    def chosen_grid(self) -> Grid:
        """The grid the panel's lrs and momenta ranges say (``ValueError`` naming the field)."""
        ranges = []
        for name, field in (("lrs", self.lrs), ("momenta", self.momenta)):
            text = field.value.strip()
            try:
                ranges.append(parse_range(text) if text else None)
            except ValueError as error:
                raise ValueError(f"{name}: {error}") from None
        if ranges[0] is None:
            raise ValueError("lrs: give low:high:count, e.g. 0.001:1:8")
        return Grid.from_ranges(*ranges)

    def _advance(self, done: int, total: int) -> None:
        self.progress.max, self.progress.value = total, done

    def _offer_sliders(self) -> None:
        result = self.result
        with self.mute():
            self.lr.options = [(f"{lr:.3g}", index) for index, lr in enumerate(result.grid.lrs.tolist())]
            momenta = [0.0] if result.grid.momenta is None else result.grid.momenta.tolist()
            self.momentum.options = [(f"{m:.3g}", index) for index, m in enumerate(momenta)]
            if result.best_setting() is not None:
                self.lr.index, self.momentum.index = result.best()
        self.lr.layout.display = None
        self.momentum.layout.display = None if result.grid.momenta is not None else "none"
        self.page_button.disabled = False
        self.show()

    def cell(self) -> tuple[int, int]:
        """The (lr index, momentum index) the sliders point at."""
        return self.lr.value, self.momentum.value

    def show(self) -> None:
        """The sliders' cell: its picture from the cache at once, else drawn in the background."""
        if self.mute or self.result is None:
            return
        cell = self.cell()
        if cell in self.pictures:
            self._publish((cell, self.pictures[cell]))
        else:
            self.worker.submit(cell)

    def _render(self, cell: tuple[int, int]) -> tuple[tuple[int, int], bytes]:
        if cell not in self.pictures:
            self.pictures[cell] = self.result.cell_figure(*cell).png()
        return cell, self.pictures[cell]

    def _publish(self, drawn: tuple[tuple[int, int], bytes]) -> None:
        cell, png = drawn
        if cell == self.cell():
            self.picture.value = png
            self.picture.layout.display = None

    def _next_picture(self):
        """Background work while the sliders rest: the next cell's picture not drawn yet."""
        result = self.result
        if result is None:
            return None
        missing = [cell for cell in map(result.grid.cell, range(result.grid.cells)) if cell not in self.pictures]
        return None if not missing else (lambda: self._render(missing[0]))

    def page_path(self) -> Path:
        """Where *Export page* writes in a notebook: the GIF folder (``default_gif_folder``)."""
        words = re.sub(r"[^\w.+-]+", "_", f"{self.result.model}_{self.result.spec.text}")
        return default_gif_folder() / f"sweep_{words}.html"

    @reported
    def export_page(self, path: str | Path | None = None) -> Path | None:
        """The sweep as one HTML page (``page.network``), opened at the sliders' cell, offered as a
        download; in a notebook also written to ``path`` (default ``page_path``), which it returns."""
        from ..page import network, write_html

        result, cell = self.result, self.cell()
        if result is None:
            raise ValueError("run a sweep first")
        path = None if self.in_page else Path(path or self.page_path()).expanduser().resolve()
        name = path.name if path is not None else self.page_path().name
        self.status.say("exporting the page …", "busy")
        options = dict(cell=cell, options=self.made_with,
                       made_by=network.command(result, page=name, **self.made_with))
        if path is None:
            data = network.network_page_html(result, **options).encode("utf-8")
        else:
            data = write_html(path, lambda: network.network_page_html(result, **options))
        self.page_download.offer(name, data, "text/html")
        where = "the page" if path is None else f"wrote {path}"
        self.status.say(f"{where} ({len(data) / 1e6:.2f} MB): download it; it opens in any browser, offline")
        return path

    def widget(self) -> widgets.VBox:
        return widgets.VBox([
            widgets.HTML("<b>lr x momentum sweep</b> (the model, data set and epochs above)"),
            widgets.HBox([self.optimizer, self.lrs, self.momenta]),
            widgets.HBox([self.button, self.page_button]), self.progress, self.status.widget,
            widgets.HBox([self.lr, self.momentum]), self.picture, self.page_download.widget])
