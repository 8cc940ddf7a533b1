"""The explorer: wires the controls, the model (``Setting`` → ``Sweep``) and the views.

A change of a setting that a sweep depends on (surface, optimizers, steps, start, β2, noise)
computes a new sweep; lr, momentum, the iteration (its slider, ◀ ▶ one step) and whose step's
arrows to draw only pick what to show. Views draw on their own worker threads (latest request
only), so a slider drag never queues stale frames.

In a notebook, GIFs, pages and settings are files in folders the user names. On a standalone page
(``in_page``, see ``standalone.py``) files travel through the browser: Save, Export GIF and Export
page offer a download, Load is an upload (a setting's JSON, or a page made by Export page). Either
way an exported GIF or page is also offered as a download.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from dataclasses import replace
from pathlib import Path

import ipywidgets as widgets

from .. import surfaces
from ..animate import export_gif
from ..files import atomic_path
from ..page import command, page_html, write_html
from .common import (CSS_PREFIX, Download, Mute, OneAtATime, StatusLine, default_gif_folder, named, reported,
                     settings_folder, show_gif)
from .controls import Controls
from ..setting import Setting, Sweep
from .networks import NetworksTab
from .views import LandscapeView, PhaseView

TABS = ("Landscape", "Phase diagram", "Real networks")
# ipywidgets labels an upload button "<description> (<files held>)", and Load lets go of each file at
# once: "Load (0)" says nothing useful. This style shows the icon and "Load" alone.
UPLOAD_LABEL = f"""<style>
.{CSS_PREFIX}upload {{ font-size: 0 }}
.{CSS_PREFIX}upload i {{ font-size: var(--jp-widgets-font-size) }}
.{CSS_PREFIX}upload::after {{ content: "Load"; font-size: var(--jp-widgets-font-size); margin-left: 4px }}
</style>"""


def gif_name(setting: Setting) -> str:
    """A file name that says what the GIF shows: the surface, the specs (with their own lr), the
    slider values that apply to them (lr only when a spec follows the lr slider, momentum only
    when one has a momentum), the schedule and the noise when on:
    'two-well_sgd_adam_lr0.01_m0.9.gif', 'quadratic_gd@0.02_gd@0.1.gif'."""
    specs = setting.specs
    parts = [setting.surface, *(spec.text for spec in specs)]
    if any(spec.lr is None for spec in specs):
        parts.append(f"lr{setting.lr:.3g}")
    if any(spec.momentum_parameter for spec in specs):
        parts.append(f"m{setting.momentum:g}")
    if setting.schedule != "none":
        parts.append(setting.schedule)
    return "_".join(parts) + ".gif"


class Explorer:
    """The explorer's state and wiring; ``widget()`` lays it out as tabs."""

    def __init__(self, setting: Setting | None = None, *, in_page: bool = False, **values):
        """Start from ``setting``, or from ``values``: fields of a ``Setting`` (surface,
        optimizers, lr, momentum, steps, start, …; the lr defaults to the surface's ``default_lr``),
        checked as a saved setting is."""
        if setting is None:
            if "lr" not in values and isinstance(values.get("surface", Setting.surface), str):
                values["lr"] = surfaces.get(values.get("surface", Setting.surface)).default_lr
            setting = Setting.checked({k: list(v) if k == "start" else v for k, v in values.items()}, "explore()")
        self.setting = setting
        self.in_page = in_page
        self.mute = Mute()
        self.status = StatusLine("message")
        self.controls = Controls(self.setting)
        self.landscape = LandscapeView(self.status, on_click=self.set_start)
        self.phase = PhaseView(self.status, on_select=self.select)
        self.networks = NetworksTab(in_page=in_page)
        steps = setting.steps
        self.iteration = named(widgets.IntSlider(value=steps, min=0, max=steps, description="iteration",
                                                 layout={"flex": "1 1 auto"}), "iteration")
        self.play = named(widgets.Play(value=steps, min=0, max=steps, interval=60), "play")
        widgets.jslink((self.play, "value"), (self.iteration, "value"))
        self.back = named(widgets.Button(description="◀", tooltip="one iteration back",
                                         layout={"width": "34px", "padding": "0"}), "step-back")
        self.forward = named(widgets.Button(description="▶", tooltip="one iteration on",
                                            layout={"width": "34px", "padding": "0"}), "step-forward")
        self.vectors = named(widgets.Dropdown(options=[("none", "")], value="", description="arrows",
                                              tooltip="draw the arrows of this optimizer's step from the "
                                                      "iteration shown",
                                              layout={"width": "190px"}, style={"description_width": "44px"}),
                             "vectors")
        self.export_button = named(widgets.Button(description="Export GIF", icon="film",
                                                  layout={"width": "auto"}), "export")
        self.page_button = named(widgets.Button(description="Export page", icon="globe", layout={"width": "auto"},
                                                tooltip="the Landscape view as one HTML file: sliders, play and "
                                                        "phase diagram with no Python running"), "export-page")
        self.save_button = named(widgets.Button(description="Save", icon="save", layout={"width": "auto"},
                                                tooltip="save the setting as JSON"), "save")
        self.load_button = named(widgets.Button(description="Load", icon="folder-open",
                                                layout={"width": "auto"}), "load")
        folder = tempfile.mkdtemp(prefix="landscape-page-") if in_page else default_gif_folder()
        if in_page:  # the page's GIFs are downloads: gone with the explorer (or the kernel)
            weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
        self.gif_folder = named(widgets.Text(value=str(folder), description="GIF folder",
                                             layout={"width": "98%"}, style={"description_width": "92px"}),
                                "gif-folder")
        self.setting_file = named(widgets.Text(value="explorer.json", description="setting file",
                                               layout={"width": "98%"}, style={"description_width": "92px"}),
                                  "setting-file")
        self.export_progress = named(widgets.IntProgress(value=0, min=0, max=1, layout={"width": "100%",
                                                                                          "display": "none"}),
                                     "export-progress")
        self.gif_preview = named(widgets.Image(format="gif", layout={"width": "100%", "display": "none"}),
                                 "gif-preview")
        self.upload = named(widgets.FileUpload(accept=".json,.html", description="Load", icon="folder-open",
                                               layout={"width": "auto"}), "upload")
        self.gif_download, self.setting_download = Download("gif-download"), Download("setting-download")
        self.page_download = Download("page-download")
        self.sweep: Sweep | None = None
        self.exports = OneAtATime(self.status, "an export is already running")

        for control in self.controls.setting_widgets:
            control.observe(self._on_setting, names="value")
        for slider in (self.controls.lr, self.controls.momentum):
            slider.observe(self._on_slider, names="value")
        self.iteration.observe(self._on_iteration, names="value")
        self.back.on_click(lambda _: self.step_iteration(-1))
        self.forward.on_click(lambda _: self.step_iteration(1))
        self.vectors.observe(self._on_vectors, names="value")
        self.controls.text_size.observe(self._on_text_size, names="value")
        self.phase.optimizer.observe(self._on_phase_optimizer, names="value")
        self.export_button.on_click(lambda _: self.export_in_background())
        self.page_button.on_click(lambda _: self.export_page_in_background())
        self.save_button.on_click(lambda _: self.offer_setting() if in_page
                                  else self.save_state(self.setting_file.value))
        self.load_button.on_click(lambda _: self.load_state(self.setting_file.value))
        self.upload.observe(self._on_upload, names="value")
        self.recompute(self.setting)
        # The first picture is in the widget's state before anything displays it: a page reads
        # that state once as it connects, and a picture the drawing thread published meanwhile
        # could be lost, leaving the figure blank until the next change.
        self.landscape.wait()

    # -- the model ---------------------------------------------------------------------------------
    @reported
    def recompute(self, setting: Setting, done: str = "") -> None:
        """Compute the sweep of ``setting`` and show it (nothing changes if that fails);
        ``done`` starts the message that says so."""
        self.status.say("computing …", "busy")
        sweep = Sweep(setting)
        self.setting, self.sweep = setting, sweep
        with self.mute():
            self.controls.show(setting)
            self.controls.offer_beta2(sweep.takes_beta2)
            for control in (self.iteration, self.play):
                control.max = setting.steps
            self.iteration.value = setting.steps
            self.vectors.options = [("none", "")] + [(text, text) for text in sweep.runs]
            self.vectors.value = self.vectors.value if self.vectors.value in sweep.runs else ""
            self.phase.offer(sweep)
        pinned = sweep.own_learning_rates
        self.controls.lr.disabled = len(pinned) == len(sweep.runs)
        self._show()
        own = (f"; {', '.join(pinned)} keep their own learning rate"
               + (" (the lr slider is off)" if self.controls.lr.disabled else "")) if pinned else ""
        self.status.say(f"{done}computed {len(sweep.runs)} optimizers x {len(sweep.grid.lrs)} learning "
                        f"rates x {len(sweep.grid.momenta)} momenta on {setting.surface} from {setting.start}: "
                        f"drag the sliders{own}")

    def _show(self) -> None:
        """Ask the views for the runs at the sliders (they draw in the background)."""
        lr, momentum = self.setting.lr, self.setting.momentum
        if self.gif_preview.layout.display != "none":  # it shows other runs now
            self.gif_preview.layout.display = "none"
            self.gif_download.hide()
        self.setting_download.hide()  # it holds the setting as it was
        self.landscape.show(self.sweep, lr, momentum, self.iteration.value, self.chosen_vectors)
        self.phase.show(self.sweep, lr, momentum)

    @property
    def chosen_vectors(self) -> str | None:
        """The optimizer (its spec's text) whose step's arrows are drawn, or None."""
        return self.vectors.value or None

    def current_runs(self) -> list:
        """Each optimizer's run at the sliders' (lr, momentum)."""
        return self.sweep.runs_at(self.setting.lr, self.setting.momentum)

    def wait(self, timeout: float = 60.0) -> None:
        """Block until the figures show the latest change and any export has finished."""
        self.landscape.wait(timeout)
        self.phase.wait(timeout)
        self.exports.join(timeout)

    # -- callbacks ---------------------------------------------------------------------------------
    @reported
    def _on_setting(self, change) -> None:
        if self.mute:
            return
        values = self.controls.values(self.setting.seed)
        if change["owner"] is self.controls.surface:  # a new surface: its start and its lr
            surface = surfaces.get(values["surface"])
            values.update(start=list(surface.start), lr=surface.default_lr)
        self.recompute(Setting.checked(values))

    @reported
    def _on_slider(self, change) -> None:
        if self.mute:
            return
        self.setting = replace(self.setting, lr=self.controls.lr.value,
                               momentum=self.controls.momentum.value).snapped()
        self._show()

    @reported
    def _on_iteration(self, change) -> None:
        if not self.mute:
            self.landscape.show(self.sweep, self.setting.lr, self.setting.momentum, change["new"],
                                self.chosen_vectors)

    @reported
    def _on_text_size(self, change) -> None:
        """The figure drawn anew at the text size chosen (the runs are the same)."""
        self.landscape.text_size = change["new"]
        self.landscape.show(self.sweep, self.setting.lr, self.setting.momentum, self.iteration.value,
                            self.chosen_vectors)

    @reported
    def step_iteration(self, by: int) -> None:
        """◀ ▶: the iteration ``by`` steps on (back, for a negative one); the slider keeps it
        within 0 … steps."""
        self.iteration.value += by

    @reported
    def _on_vectors(self, change) -> None:
        """Arrows chosen at the last iteration, which takes no step, show the last step taken."""
        if self.mute:
            return
        if change["new"] and self.iteration.value == self.iteration.max:
            with self.mute():
                self.iteration.value = self.iteration.max - 1
        self._show()

    @reported
    def _on_phase_optimizer(self, change) -> None:
        if not self.mute and change["new"]:
            self.phase.show(self.sweep, self.setting.lr, self.setting.momentum)

    def _on_tab(self, change) -> None:
        self.phase.visible = change["new"] == TABS.index("Phase diagram")
        self.phase.show(self.sweep, self.setting.lr, self.setting.momentum)

    @reported
    def set_start(self, x: float, y: float) -> None:
        """Start the optimizers from (x, y) (a click on the landscape): one new sweep."""
        self.recompute(self.setting.changed(start=[round(x, 3), round(y, 3)]))

    @reported
    def select(self, lr: float, momentum: float) -> None:
        """Set lr and momentum to the nearest slider values (a click on the phase diagram)."""
        self.setting = self.setting.changed(lr=float(lr), momentum=float(momentum))
        with self.mute():
            self.controls.lr.value, self.controls.momentum.value = self.setting.lr, self.setting.momentum
        self._show()

    # -- export and settings -----------------------------------------------------------------------
    def export(self, path: str | Path | None = None) -> str:
        """Write the runs shown as a 960x540 GIF (the frames the figure shows, slide-sized, at its
        text size, the arrows of the chosen optimizer's step included); returns its absolute path.
        Default: ``gif_name(setting)`` in the GIF folder."""
        path = self._export_path(path, ".gif")
        progress = self.export_progress
        progress.value, progress.layout.display = 0, None

        def advance(done: int, total: int) -> None:
            progress.max, progress.value = total, done

        try:
            written = export_gif(path, self.sweep.surface, trajectories=self.current_runs(), title=self.sweep.title,
                                 vectors=self.chosen_vectors, text_size=self.controls.text_size.value,
                                 progress=advance)
        finally:
            progress.layout.display = "none"
        size = show_gif(written, self.gif_preview, self.gif_download)
        where = "the GIF" if self.in_page else f"wrote {written}"
        self.status.say(f"{where} ({progress.max} frames, {size / 1e6:.2f} MB): download it or see its "
                        f"preview below the buttons")
        return written

    @reported
    def export_in_background(self) -> None:
        """The Export GIF button: export on a thread of its own, the explorer stays live."""
        self.exports.start(reported(Explorer.export), self, starting="exporting the GIF …")

    def export_page(self, path: str | Path | None = None) -> str:
        """Write the Landscape view as one HTML file (``page.write_page``: every slider position of
        the runs shown, the chosen arrows first, at the figure's text size), offered as a download
        too; returns its absolute path. Default: ``gif_name(setting)`` as .html in the GIF folder."""
        path = self._export_path(path, ".html")
        vectors, text_size = self.chosen_vectors, self.controls.text_size.value
        data = write_html(path, lambda: page_html(self.sweep, vectors=vectors, text_size=text_size,
                                                  made_by=command(self.setting, vectors, text_size, out=path.name)))
        self.page_download.offer(path.name, data, "text/html")
        where = "the page" if self.in_page else f"wrote {path}"
        self.status.say(f"{where} ({len(data) / 1e6:.1f} MB): download it below the buttons; it opens in any "
                        f"browser, with no Python")
        return str(path)

    def _export_path(self, path: str | Path | None, suffix: str) -> Path:
        """Where an export goes: ``path``, by default ``gif_name(setting)`` with ``suffix`` in the
        GIF folder, which must exist."""
        name = Path(gif_name(self.setting)).with_suffix(suffix).name
        path = (Path(path) if path is not None else Path(self.gif_folder.value).expanduser() / name).resolve()
        if not path.parent.is_dir():
            raise ValueError(f"the GIF folder {path.parent} does not exist")
        return path

    @reported
    def export_page_in_background(self) -> None:
        """The Export page button: export on a thread of its own, the explorer stays live."""
        self.exports.start(reported(Explorer.export_page), self, starting="drawing the page …")

    @reported
    def save_state(self, path: str) -> None:
        """Save the setting as JSON: a plain name goes into the settings folder (``settings_folder``),
        where a page's link ``?setting=NAME`` finds it."""
        path = settings_folder() / Path(path).expanduser()
        with atomic_path(path) as temporary:
            temporary.write_text(self.setting.to_json())
        link = (f"; the app opens it as …/?setting={path.relative_to(settings_folder())}"
                if path.resolve().is_relative_to(settings_folder()) else "")
        self.status.say(f"saved the setting to {path.resolve()}{link}")

    @reported
    def offer_setting(self) -> None:
        """Save on a page: the setting as a JSON file offered for download."""
        name = Path(gif_name(self.setting)).with_suffix(".json").name
        self.setting_download.offer(name, self.setting.to_json().encode(), "application/json")
        self.status.say(f"the setting is ready: download {name} below the buttons")

    @reported
    def load_state(self, path: str) -> None:
        """Load a setting: a plain name from the settings folder (``settings_folder``)."""
        path = (settings_folder() / Path(path).expanduser()).resolve()
        self._load(*Setting.read(path, f"the setting {path}"), source=str(path))

    @reported
    def _on_upload(self, change) -> None:
        """Load on a page: the uploaded JSON file."""
        if not change["new"]:
            return
        upload = change["new"][-1]
        self.upload.value = ()  # so that uploading the same file again is a change (this call returns early)
        self._load(*Setting.parsed(bytes(upload["content"]), upload["name"]), source=upload["name"])

    def _load(self, setting: Setting, moved: str, source: str) -> None:
        self.recompute(setting, done=f"loaded the setting from {source}; " + (f"{moved}; " if moved else ""))

    # -- layout -----------------------------------------------------------------------------------
    def widget(self) -> widgets.Tab:
        load = [self.upload, widgets.HTML(UPLOAD_LABEL)] if self.in_page else [self.load_button]
        exports = widgets.HBox([self.export_button, self.page_button], layout={"justify_content": "space-between"})
        buttons = widgets.HBox([self.save_button, *load], layout={"justify_content": "space-between"})
        folders = [] if self.in_page else [self.gif_folder, self.setting_file]
        controls = widgets.VBox([*self.controls.column(), exports, buttons, *folders, self.export_progress,
                                 self.setting_download.widget, self.page_download.widget, self.gif_download.widget,
                                 self.gif_preview],
                                layout={"flex": "0 0 300px", "width": "300px"})
        scrubber = widgets.HBox([self.play, self.back, self.forward, self.iteration, self.vectors])
        picture = widgets.VBox([self.landscape.image, scrubber,
                                self.landscape.key, self.status.widget],
                               layout={"flex": "1 1 auto", "min_width": "0", "max_width": "800px"})
        landscape = widgets.HBox([controls, picture], layout={"grid_gap": "10px"})
        tabs = named(widgets.Tab(children=[landscape, self.phase.widget(), self.networks.widget()]),
                     "explorer")
        for index, title in enumerate(TABS):
            tabs.set_title(index, title)
        tabs.observe(self._on_tab, names="selected_index")
        return tabs


def explore(**options) -> widgets.Tab:
    """Show the explorer (in a notebook: the value of the cell). Options: see ``Explorer``."""
    return Explorer(**options).widget()
