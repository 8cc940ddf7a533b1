"""The notebook explorer: ``landscape.app.explore()``.

Tabs: **Landscape** (optimizers on a surface; lr and momentum sliders, β2 for the Adam family;
start point; gradient noise; play/scrub over iterations; GIF export; save/load of the setting),
**Phase diagram**
(lr x momentum heatmap of iterations, the sliders' position marked, a click sets the sliders) and
**Real networks** (the CIFAR-10 comparison, run in the background).

For the current surface, start and optimizers, every (lr, momentum) pair of the sliders is
computed once, all optimizers stepped together (``trajectory.grids``); moving a slider is then a
lookup and an update of the drawn paths by blitting (the same frames as the GIF export), not a
recomputation. A new start reuses the figure too: only a new surface, optimizer list or step
count draws a new one. A click on the landscape sets the start (ipyevents on the frame image);
with ``%matplotlib widget`` (ipympl) a click on the phase diagram sets the sliders.
"""

from __future__ import annotations

import functools
import io
import json
import math
import threading
import traceback
from pathlib import Path

import ipyevents
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np

from . import draw, optim, surfaces, trajectory
from .animate import TrajectoryAnimation, export_gif
from .files import atomic_path

LR_EXPONENTS = (-3.0, 0.0, 0.1)  # the lr slider: 10^-3 … 10^0 in steps of 10^0.1 (31 values)
LEARNING_RATES = 10 ** np.round(np.arange(LR_EXPONENTS[0], LR_EXPONENTS[1] + 1e-9, LR_EXPONENTS[2]), 1)
MOMENTA = np.round(np.arange(0.0, 0.951, 0.05), 2)  # the momentum slider (20 values)
BETA2S = (0.9, 0.99, 0.999, 0.9999)  # the β2 slider, for the Adam family


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# a saved setting: key -> (check, what is expected); checked before anything is changed
STATE_CHECKS = {
    "surface": (lambda v: v in surfaces.SURFACES, f"one of {', '.join(surfaces.SURFACES)}"),
    "optimizers": (lambda v: isinstance(v, str), "a text of optimizer specs"),
    "lr": (lambda v: _number(v) and v > 0, "a number > 0"),
    "momentum": (lambda v: _number(v) and 0 <= v < 1, "a number in [0, 1)"),
    "beta2": (lambda v: _number(v) and 0 < v < 1, "a number in (0, 1)"),
    "steps": (lambda v: isinstance(v, int) and 10 <= v <= 1000, "an integer from 10 to 1000"),
    "start": (lambda v: isinstance(v, list) and len(v) == 2 and all(map(_number, v)), "[x, y]"),
    "noise": (lambda v: _number(v) and 0 <= v <= 1, "a number from 0 (off) to 1"),
    "seed": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
}
STATE_KEYS = tuple(STATE_CHECKS)


def _nearest(options, value: float) -> float:
    """The option closest to ``value`` (a saved or given setting snaps to the slider)."""
    return min(options, key=lambda option: abs(option - value))


def _reported(method):
    """Run a widget callback; show any error in the tab's message area instead of raising."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except ValueError as error:
            self.say(f"⚠ {error}")
        except Exception as error:  # noqa: BLE001 - a notebook callback must not die silently
            self.say(f"⚠ {type(error).__name__}: {error}\n{traceback.format_exc(limit=3)}")

    return wrapper


class Explorer:
    """The explorer's widgets and logic (everything a click does is a method here)."""

    def __init__(self, surface: str = "two-well", optimizers: str = "sgd, momentum, nesterov, adam",
                 lr: float = 0.01, momentum: float = 0.9, steps: int = 150, start=None,
                 noise: float = 0.0, seed: int = 0, beta2: float = 0.999):
        self.messages = widgets.Output(layout={"border": "1px solid #ddd", "min_height": "1.5em"})
        self.surface_box = widgets.Dropdown(options=list(surfaces.SURFACES), value=surface,
                                            description="surface")
        self.optimizers_box = widgets.Text(value=optimizers, description="optimizers",
                                           continuous_update=False, layout={"width": "420px"})
        self.lr_slider = widgets.FloatLogSlider(value=lr, base=10, min=LR_EXPONENTS[0],
                                                max=LR_EXPONENTS[1], step=LR_EXPONENTS[2],
                                                description="lr η", readout_format=".3g")
        self.momentum_slider = widgets.FloatSlider(value=momentum, min=0.0, max=float(MOMENTA[-1]),
                                                   step=0.05, description="momentum β",
                                                   style={"description_width": "initial"})
        self.beta2_slider = widgets.SelectionSlider(options=BETA2S, value=_nearest(BETA2S, beta2),
                                                    description="β2 (Adam family)",
                                                    style={"description_width": "initial"})
        self.steps_box = widgets.BoundedIntText(value=steps, min=10, max=1000, description="steps")
        start = surfaces.get(surface).start if start is None else start
        self.x0_box = widgets.FloatText(value=start[0], description="x₀", layout={"width": "160px"})
        self.y0_box = widgets.FloatText(value=start[1], description="y₀", layout={"width": "160px"})
        self.noise_slider = widgets.FloatLogSlider(value=max(noise, 1e-4), base=10, min=-4, max=0,
                                                   step=0.25, description="noise η")
        self.noise_on = widgets.Checkbox(value=noise > 0, description="gradient noise")
        self.seed = seed
        self.iteration = widgets.IntSlider(value=steps, min=0, max=steps, description="iteration")
        self.play = widgets.Play(value=steps, min=0, max=steps, interval=60)
        widgets.jslink((self.play, "value"), (self.iteration, "value"))
        self.gif_name = widgets.Text(value="gifs/explorer.gif", description="GIF file")
        self.export_button = widgets.Button(description="Export GIF", icon="film")
        self.state_name = widgets.Text(value="explorer.json", description="setting")
        self.save_button = widgets.Button(description="Save")
        self.load_button = widgets.Button(description="Load")
        self.image = widgets.Image(format="jpeg")
        self.image_clicks = ipyevents.Event(source=self.image, watched_events=["click"])
        self.phase_optimizer = widgets.Dropdown(description="optimizer")
        self.phase_box = widgets.Box()
        self.grids: dict[str, object] = {}
        self._quiet = False
        self._animation = self._phase_axes = self._tabs = None
        self._phase_stale = True  # the phase diagram is drawn only while its tab is shown
        self.networks = NetworksTab()

        for box in (self.surface_box, self.optimizers_box, self.steps_box, self.noise_on, self.noise_slider,
                    self.beta2_slider):
            box.observe(self._on_setting, names="value")
        for box in (self.x0_box, self.y0_box):
            box.observe(self._on_setting, names="value")
        for slider in (self.lr_slider, self.momentum_slider):
            slider.observe(self._on_slider, names="value")
        self.iteration.observe(self._on_iteration, names="value")
        self.image_clicks.on_dom_event(self._on_image_click)
        self.phase_optimizer.observe(self._on_phase_optimizer, names="value")
        self.export_button.on_click(lambda _: self.export())
        self.save_button.on_click(lambda _: self.save_state(self.state_name.value))
        self.load_button.on_click(lambda _: self.load_state(self.state_name.value))
        self.recompute()

    # -- messages ------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        self.messages.outputs = ()  # not clear_output(): that needs the cell's context (threads)
        self.messages.append_stdout(text + "\n")

    # -- the precomputed grids -------------------------------------------------------------------
    @property
    def specs(self) -> list[str]:
        specs = optim.split_specs(self.optimizers_box.value)
        if not specs:
            raise ValueError("give at least one optimizer, e.g. 'sgd, adam'")
        if self.noise_on.value:
            specs = [s if "gradnoise" in s else f"{s}+gradnoise" for s in specs]
        return specs

    @_reported
    def recompute(self) -> None:
        """The lr x momentum grid of every optimizer for the current surface and start, all
        stepped together (one batched run)."""
        surface = surfaces.get(self.surface_box.value)
        specs = self.specs
        start = (float(self.x0_box.value), float(self.y0_box.value))
        extra = {"noise_eta": self.noise_slider.value} if self.noise_on.value else {}
        takes_beta2 = any("beta2" in optim.parse(s).hyperparameters() for s in specs)
        if takes_beta2:
            extra["beta2"] = self.beta2_slider.value
        runs = trajectory.grids(surface, specs, LEARNING_RATES, MOMENTA, start=start,
                                steps=int(self.steps_box.value), seed=self.seed, **extra)
        self.surface, self.grids = surface, dict(zip(specs, runs))
        self.beta2_slider.layout.display = None if takes_beta2 else "none"
        for control in (self.iteration, self.play):
            control.max = int(self.steps_box.value)
        self.iteration.value = int(self.steps_box.value)
        self._draw_landscape()
        self._phase_stale = True
        self._draw_phase_options()
        self.say(f"computed {len(specs)} x {len(LEARNING_RATES)} x {len(MOMENTA)} settings "
                 f"on {surface.name} from {start}")

    def _index(self) -> tuple[int, int]:
        i = int(np.abs(np.log10(LEARNING_RATES) - np.log10(self.lr_slider.value)).argmin())
        j = int(np.abs(MOMENTA - self.momentum_slider.value).argmin())
        return i, j

    def current_runs(self) -> list:
        """The run of each optimizer at the sliders' (lr, momentum): rows of the grids."""
        i, j = self._index()
        return [g.row(i * g.grid[1] + (j if g.grid[1] > 1 else 0)) for g in self.grids.values()]

    # -- the landscape figure ----------------------------------------------------------------------
    def _draw_landscape(self) -> None:
        """The lecture figure as a blitted animation, drawn once per surface, optimizer list
        and step count; other runs (sliders, start) are swapped in."""
        runs = self.current_runs()
        if self._animation is None or not self._animation.can_show(runs):
            if self._animation is not None:
                self._animation.close()
            self._animation = TrajectoryAnimation(self.surface, runs)
        self._update_artists()

    def _update_artists(self) -> None:
        """Show the current runs up to the iteration slider (a lookup and a blit)."""
        self._animation.set_runs(self.current_runs())
        buffer = io.BytesIO()
        self._animation.frame_image(self.iteration.value).save(buffer, format="jpeg", quality=92)
        self.image.value = buffer.getvalue()

    @staticmethod
    def _refresh(figure, box) -> None:
        if isinstance(figure.canvas, widgets.DOMWidget):
            figure.canvas.draw_idle()
        else:
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png")
            box.children[0].value = buffer.getvalue()

    # -- the phase diagram -------------------------------------------------------------------------
    def _draw_phase_options(self) -> None:
        with_momentum = [s for s, g in self.grids.items() if g.grid[1] > 1]
        self._quiet = True
        self.phase_optimizer.options = with_momentum
        self._quiet = False
        if with_momentum:
            self.phase_optimizer.value = with_momentum[0]
            self.show_phase()
        else:
            self.phase_box.children = (widgets.HTML("no optimizer with momentum in the list"),)

    @_reported
    def _on_phase_optimizer(self, change) -> None:
        if not self._quiet and change["new"]:
            self._phase_stale = True
            self.show_phase()

    def show_phase(self, force: bool = False) -> None:
        """Draw the phase diagram if its tab is shown (or ``force``) and it is out of date."""
        visible = self._tabs is not None and self._tabs.selected_index == 1
        if (visible or force) and self.phase_optimizer.value:
            if self._phase_stale or self._phase_axes is None:
                self._draw_phase()
                self._phase_stale = False
            else:
                self._update_phase_marker()

    def _draw_phase(self) -> None:
        if self._phase_axes is not None:
            plt.close(self._phase_axes.figure)
        with plt.ioff():
            self._phase_axes = draw.phase_diagram(self.grids[self.phase_optimizer.value],
                                                  current=self._slider_point())
        figure = self._phase_axes.figure
        if isinstance(figure.canvas, widgets.DOMWidget):
            figure.canvas.header_visible = False
            figure.canvas.mpl_connect("button_press_event", self._on_phase_click)
            self.phase_box.children = (figure.canvas,)
        else:
            self.phase_box.children = (widgets.Image(format="png"),)
        self._refresh(figure, self.phase_box)

    def _slider_point(self) -> tuple[float, float]:
        i, j = self._index()
        return float(LEARNING_RATES[i]), float(MOMENTA[j])

    def _update_phase_marker(self) -> None:
        if self._phase_axes is None:
            return
        for line in self._phase_axes.lines:
            if line.get_label() == "current":
                line.set_data([self._slider_point()[0]], [self._slider_point()[1]])
        self._refresh(self._phase_axes.figure, self.phase_box)

    def select(self, lr: float, momentum: float) -> None:
        """Set both sliders (to the nearest grid values), e.g. from a click on the phase diagram."""
        self._quiet = True
        self.lr_slider.value = float(LEARNING_RATES[np.abs(np.log10(LEARNING_RATES) - np.log10(lr)).argmin()])
        self._quiet = False
        self.momentum_slider.value = float(MOMENTA[np.abs(MOMENTA - momentum).argmin()])
        self._on_slider(None)

    # -- callbacks ---------------------------------------------------------------------------------
    @_reported
    def _on_slider(self, change) -> None:
        if not self._quiet:
            self._update_artists()
            self.show_phase()

    @_reported
    def _on_iteration(self, change) -> None:
        if self._animation is not None:
            self._update_artists()

    @_reported
    def _on_setting(self, change) -> None:
        if not self._quiet:
            if change is not None and change["owner"] is self.surface_box:
                self._quiet = True
                self.x0_box.value, self.y0_box.value = surfaces.get(change["new"]).start
                self._quiet = False
            self.recompute()

    def set_start(self, x: float, y: float) -> None:
        """Move the start point (one recomputation)."""
        self._quiet = True
        self.x0_box.value, self.y0_box.value = round(x, 3), round(y, 3)
        self._quiet = False
        self.recompute()

    @_reported
    def _on_image_click(self, event: dict) -> None:
        """A click on the landscape (ipyevents: pixel dataX, dataY of the image) sets the start."""
        point = self._animation.data_point(event["dataX"], event["dataY"])
        if point is not None:
            self.set_start(*point)

    @_reported
    def _on_phase_click(self, event) -> None:
        if self._phase_axes is not None and event.inaxes is self._phase_axes and event.xdata is not None:
            self.select(event.xdata, event.ydata)

    # -- export and settings -----------------------------------------------------------------------
    @_reported
    def export(self, path: str | None = None) -> str:
        """Write the runs shown (same frames as the figure) as a GIF."""
        path = path or self.gif_name.value
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        written = export_gif(path, self.surface, trajectories=self.current_runs())
        self.say(f"wrote {written}")
        return written

    def state(self) -> dict:
        lr, momentum = self._slider_point()
        return {"surface": self.surface_box.value, "optimizers": self.optimizers_box.value,
                "lr": lr, "momentum": momentum, "beta2": self.beta2_slider.value,
                "steps": int(self.steps_box.value),
                "start": [float(self.x0_box.value), float(self.y0_box.value)],
                "noise": self.noise_slider.value if self.noise_on.value else 0.0, "seed": self.seed}

    @_reported
    def save_state(self, path: str) -> None:
        with atomic_path(path) as temporary:
            temporary.write_text(json.dumps(self.state(), indent=1))
        self.say(f"saved the setting to {path}")

    @_reported
    def load_state(self, path: str) -> None:
        try:
            state = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"cannot read the setting {path}: {error}") from None
        if not isinstance(state, dict):
            raise ValueError(f"{path}: expected a JSON object with keys {list(STATE_KEYS)}")
        unknown = set(state) - set(STATE_KEYS)
        if unknown:
            raise ValueError(f"{path}: unknown keys {sorted(unknown)}; expected {list(STATE_KEYS)}")
        for key, value in state.items():
            check, expected = STATE_CHECKS[key]
            if not check(value):
                raise ValueError(f"{path}: {key} is {value!r}; expected {expected}")
        self._quiet = True
        try:
            self._apply(state)
        finally:
            self._quiet = False
        self.recompute()

    def _apply(self, state: dict) -> None:
        """Set the widgets from a checked setting (quietly: one recomputation follows)."""
        self.surface_box.value = state.get("surface", self.surface_box.value)
        self.optimizers_box.value = state.get("optimizers", self.optimizers_box.value)
        self.steps_box.value = state.get("steps", self.steps_box.value)
        self.x0_box.value, self.y0_box.value = state.get("start", (self.x0_box.value, self.y0_box.value))
        noise = state.get("noise", 0.0)
        self.noise_on.value = noise > 0
        self.noise_slider.value = max(noise, 1e-4)
        self.seed = state.get("seed", self.seed)
        self.lr_slider.value = state.get("lr", self.lr_slider.value)
        self.momentum_slider.value = state.get("momentum", self.momentum_slider.value)
        self.beta2_slider.value = _nearest(BETA2S, state.get("beta2", self.beta2_slider.value))

    # -- layout -----------------------------------------------------------------------------------
    def widget(self) -> widgets.Tab:
        landscape = widgets.VBox([
            widgets.HBox([self.surface_box, self.optimizers_box, self.steps_box]),
            widgets.HBox([self.lr_slider, self.momentum_slider, self.beta2_slider]),
            widgets.HBox([self.x0_box, self.y0_box, widgets.HTML("<i>or click the plot</i>", layout={"width": "110px"}),
                          self.noise_on, self.noise_slider]),
            self.image,
            widgets.HBox([self.play, self.iteration]),
            widgets.HBox([self.gif_name, self.export_button, self.state_name, self.save_button,
                          self.load_button]),
            self.messages])
        phase = widgets.VBox([self.phase_optimizer, self.phase_box,
                              widgets.HTML("click a cell to set the sliders")])
        tabs = widgets.Tab(children=[landscape, phase, self.networks.widget()])
        for index, title in enumerate(("Landscape", "Phase diagram", "Real networks")):
            tabs.set_title(index, title)
        self._tabs = tabs
        tabs.observe(_reported(lambda self, change: self.show_phase()).__get__(self), names="selected_index")
        return tabs


class NetworksTab:
    """The CIFAR-10 comparison tab: runs in a background thread, the other tabs stay live."""

    def __init__(self):
        from .nets.models import MODELS

        self.model = widgets.Dropdown(options=list(MODELS), value="mlp", description="model")
        self.optimizers = widgets.Text(value="sgd+momentum, adam", description="optimizers")
        self.lr = widgets.Text(value="sgd+momentum=0.01, adam=0.001", description="lr")
        self.epochs = widgets.BoundedIntText(value=2, min=1, max=200, description="epochs")
        self.train_size = widgets.BoundedIntText(value=2000, min=0, max=50000,
                                                 description="train images", tooltip="0: all")
        self.device = widgets.Dropdown(options=["auto", "cpu", "cuda", "mps"], value="auto",
                                       description="device")
        self.data_dir = widgets.Text(value="", placeholder="default: ~/.cache/landscape",
                                     description="data folder")
        self.run_button = widgets.Button(description="Run", button_style="primary", icon="play")
        self.progress = widgets.VBox()
        self.curves = widgets.Image(format="png")
        self.table = widgets.HTML()
        self.messages = widgets.Output()
        self.thread: threading.Thread | None = None
        self.result = None
        self.run_button.on_click(lambda _: self.start())

    def say(self, text: str) -> None:
        self.messages.outputs = ()  # not clear_output(): that needs the cell's context (threads)
        self.messages.append_stdout(text + "\n")

    def _learning_rates(self):
        text = self.lr.value.strip()
        return optim.parse_learning_rates(text) if text else None

    def start(self) -> threading.Thread | None:
        """Start the comparison in the background (one at a time)."""
        if self.thread is not None and self.thread.is_alive():
            self.say("a comparison is already running")
            return None
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        return self.thread

    def run(self) -> None:
        from .nets.train import compare

        specs = optim.split_specs(self.optimizers.value)
        bars = {s: widgets.IntProgress(value=0, max=self.epochs.value, description=s[:18]) for s in specs}
        self.progress.children = tuple(bars.values())
        self.run_button.disabled = True
        self.say("loading CIFAR-10 …")
        try:
            self.result = compare(self.model.value, specs, epochs=self.epochs.value,
                                  lr=self._learning_rates(), train_size=self.train_size.value or None,
                                  device=self.device.value, data_dir=self.data_dir.value or None,
                                  progress=False, on_epoch=lambda c: self._live(c, bars))
            self._live(self.result, bars)
            self.say("done" + (" (interrupted)" if self.result.interrupted else ""))
        except ValueError as error:  # includes "CIFAR-10 not found …"
            self.say(f"⚠ {error}")
        except Exception as error:  # noqa: BLE001 - shown in the tab, never a silent thread death
            self.say(f"⚠ {type(error).__name__}: {error}")
        finally:
            self.run_button.disabled = False

    def _live(self, comparison, bars) -> None:
        for run in comparison.runs:
            bars[run.optimizer].value = len(run.epochs)
        figure = comparison.figure()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        plt.close(figure)
        self.curves.value = buffer.getvalue()
        rows = comparison.summary()
        cell = lambda v, f: "–" if v is None else format(v, f)
        self.table.value = (
            "<table><tr><th>optimizer</th><th>status</th><th>train loss</th><th>val loss</th>"
            "<th>val acc</th><th>s/epoch</th></tr>" + "".join(
                f"<tr><td>{r['optimizer']}</td><td>{r['status']}</td><td>{cell(r['train_loss'], '.4f')}</td>"
                f"<td>{cell(r['val_loss'], '.4f')}</td><td>{cell(r['val_accuracy'], '.3f')}</td>"
                f"<td>{cell(r['seconds_per_epoch'], '.2f')}</td></tr>" for r in rows) + "</table>")

    def widget(self) -> widgets.VBox:
        return widgets.VBox([
            widgets.HBox([self.model, self.optimizers, self.lr]),
            widgets.HBox([self.epochs, self.train_size, self.device]),
            widgets.HBox([self.data_dir, self.run_button]),
            self.progress, self.curves, self.table, self.messages])


def explore(**options) -> widgets.Tab:
    """Show the explorer (in a notebook: the value of the cell). Options: see ``Explorer``."""
    return Explorer(**options).widget()
