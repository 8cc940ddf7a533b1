"""The Real networks tab: the CIFAR-10 or MNIST comparison (``landscape.nets.train.train_and_compare``) run
on a background thread, the other tabs staying live; live loss curves, a bar per optimizer, a
status line that says what is happening now, and the results table of this run. Each run records
its optimizers' paths, which the "Landscape slice" below it draws (``slice_panel``); the "lr x
momentum sweep" below that trains a grid of settings at once and puts it under two sliders
(``sweep_panel``)."""

from __future__ import annotations

import threading
import time

import ipywidgets as widgets

from .. import optim
from ..nets.report import summary_html
from .common import OneAtATime, StatusLine, named
from .slice_panel import SlicePanel
from .sweep_panel import SweepPanel

LABEL = {"description_width": "90px"}


class NetworksTab:
    """The CIFAR-10 comparison tab (one run at a time, on its own thread)."""

    def __init__(self, in_page: bool = False):
        from ..nets.datasets import DATASETS

        self.in_page = in_page  # on the students' page: exports are downloads, never files

        wide = {"width": "auto"}  # the column's width, margins included (100% would overflow by them)
        self.dataset = named(widgets.Dropdown(options=[(d.title, name) for name, d in DATASETS.items()],
                                              value="cifar10", description="data set", style=LABEL), "net-dataset")
        self.model = named(widgets.Dropdown(options=DATASETS["cifar10"].models(), value="mlp", description="model",
                                            style=LABEL), "net-model")
        self.dataset.observe(lambda change: self._offer_models(change["new"]), names="value")
        self.optimizers = named(widgets.Text(value="sgd+momentum, adam", description="optimizers",
                                             layout=wide, style=LABEL), "net-optimizers")
        self.lr = named(widgets.Text(value="sgd+momentum=0.01, adam=0.001", description="lr",
                                     placeholder="0.01, or per optimizer: sgd=0.1, adam=0.001",
                                     layout=wide, style=LABEL), "net-lr")
        self.epochs = named(widgets.BoundedIntText(value=2, min=1, max=200, description="epochs",
                                                   style=LABEL), "net-epochs")
        self.train_size = named(widgets.BoundedIntText(value=2000, min=0, max=50000,
                                                       description="train images", tooltip="0: all",
                                                       style=LABEL), "net-train-size")
        self.device = named(widgets.Dropdown(options=["auto", "cpu", "cuda", "mps"], value="auto",
                                             description="device", style=LABEL), "net-device")
        self.data_dir = named(widgets.Text(value="",
                                           placeholder="default: $LANDSCAPE_DATA or ~/.cache/landscape",
                                           description="data folder", layout={"flex": "1 1 auto"}, style=LABEL),
                              "net-data-dir")
        self.run_button = named(widgets.Button(description="Run", button_style="primary", icon="play"),
                                "net-run")
        self.status = StatusLine("net-status")
        self.progress = named(widgets.VBox(), "net-progress")
        self.curves = named(widgets.Image(format="png", layout={"width": "100%", "max_width": "1000px",
                                                                 "height": "auto", "display": "none"}),
                            "net-curves")
        self.table = named(widgets.HTML(), "net-table")
        self.slice = SlicePanel()
        for field in (self.model, self.device):  # a new model or device: its slice defaults
            field.observe(lambda _: self.slice.suggest(self.model.value, self.device.value), names="value")
        self.slice.suggest(self.model.value, self.device.value)
        self.sweep = SweepPanel(self)
        self.jobs = OneAtATime(self.status, "a comparison is already running")
        self.result = None
        self.run_button.on_click(lambda _: self.start())
        self.status.say("choose a model and optimizers, then Run")

    def start(self) -> threading.Thread | None:
        """Start the comparison in the background (one at a time)."""
        return self.jobs.start(self.run)

    def _learning_rates(self):
        text = self.lr.value.strip()
        try:
            return optim.parse_learning_rates(text) if text else None
        except ValueError as error:
            raise ValueError(f"lr: {error}; expected one number (0.01) or one per optimizer "
                             f"(sgd=0.1, adam=0.001)") from None

    def _offer_models(self, dataset: str) -> None:
        from ..nets.datasets import DATASETS

        self.model.options = DATASETS[dataset].models()
        self.model.value = DATASETS[dataset].default_model if dataset == "mnist" else "mlp"

    def load_data(self, status: StatusLine):
        """The tab's data set on its device, as its widgets say (downloading it if needed); and
        where it came from, in words. ``status`` says what is happening."""
        from ..nets.datasets import DATASETS
        from ..nets.devices import resolve_device

        dataset = DATASETS[self.dataset.value]
        device = resolve_device(self.device.value)
        status.say(f"looking for {dataset.title} (downloading it if needed) …", "busy")
        folder = dataset.locate(self.data_dir.value.strip() or None, progress=False)
        status.say(f"loading {dataset.title} from {folder} onto {device} …", "busy")
        data = dataset.load(folder, device=device, train_size=self.train_size.value or None, progress=False)
        return data, f"{len(data.train_labels):,} images from {folder}"

    def run(self) -> None:
        """The comparison of the tab's setting (what Run starts on a thread)."""
        from ..nets.train import train_and_compare

        self.run_button.disabled = True
        self.table.value, self.result = "", None
        self.curves.layout.display = "none"
        self.progress.children = ()
        self.slice.offer(None, None)
        started = time.perf_counter()
        try:
            specs = [spec.text for spec in optim.parse_list(self.optimizers.value)]
            lr, epochs = self._learning_rates(), self.epochs.value
            data, source = self.load_data(self.status)
            bars = {spec: _EpochBar(spec, epochs) for spec in specs}
            self.progress.children = tuple(bar.widget for bar in bars.values())
            self.status.say(f"training {self.model.value} with {specs[0]} on {source}: "
                            f"epoch 1/{epochs} …", "busy")

            def on_epoch(comparison) -> None:
                self._show(comparison, bars)
                run = comparison.runs[-1]
                following = specs[len(comparison.runs)] if len(comparison.runs) < len(specs) else None
                if len(run.epochs) < epochs:
                    self.status.say(f"training {self.model.value} with {run.optimizer}: epoch "
                                    f"{len(run.epochs) + 1}/{epochs} …", "busy")
                elif following:
                    self.status.say(f"training {self.model.value} with {following}: epoch 1/{epochs} …",
                                    "busy")

            self.result = train_and_compare(self.model.value, specs, epochs=epochs, lr=lr, data=data,
                                            progress=False, on_epoch=on_epoch, record=True)
            self._show(self.result, bars)
            self.slice.offer(self.result, data)
            outcomes = ", ".join(f"{run.optimizer} {run.status}" for run in self.result.runs)
            self.status.say(f"{'interrupted' if self.result.interrupted else 'finished'} in "
                            f"{time.perf_counter() - started:.0f} s: {outcomes} ({source})")
        except Exception as error:  # noqa: BLE001 - shown in the tab, never a silent thread death
            self.status.error(error)
        finally:
            self.run_button.disabled = False

    def _show(self, comparison, bars) -> None:
        for run in comparison.runs:
            bars[run.optimizer].show(len(run.epochs), run.status)
        if any(run.epochs for run in comparison.runs):
            self.curves.value = comparison.figure().png()
            self.curves.layout.display = None
        self.table.value = summary_html(comparison.summary())

    def widget(self) -> widgets.VBox:
        return widgets.VBox([
            widgets.HBox([self.dataset, self.model, self.epochs]), widgets.HBox([self.train_size, self.device]),
            self.optimizers, self.lr,
            widgets.HBox([self.data_dir, self.run_button]),
            self.status.widget, self.progress, self.curves, self.table, self.slice.widget(),
            self.sweep.widget()],
            layout={"max_width": "1000px"})


class _EpochBar:
    """One optimizer's progress: its full name, a bar, 'epoch 2/5' (or how it ended)."""

    def __init__(self, spec: str, epochs: int):
        self.epochs, self.unit = epochs, "epoch" if epochs == 1 else "epochs"
        self.bar = widgets.IntProgress(value=0, min=0, max=epochs, layout={"width": "300px"})
        self.text = widgets.Label(f"0/{epochs} {self.unit}")
        self.widget = widgets.HBox([widgets.Label(spec, layout={"width": "auto", "min_width": "160px"}),
                                    self.bar, self.text])

    def show(self, done: int, status: str) -> None:
        self.bar.value = done
        ending = "" if status in ("running", "finished") else f" ({status})"
        self.text.value = f"{done}/{self.epochs} {self.unit}{ending}"
