"""The Landscape tab's controls: one widget per field of a ``Setting``, read and written whole."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from .. import schedules, surfaces
from ..draw import TEXT_SIZES
from .common import named
from ..setting import BETA2S, LEARNING_RATES, MOMENTA, NOISE_LEVELS, STEPS_RANGE, Setting

LABEL = {"description_width": "92px"}
WIDE = {"width": "98%"}  # of the column, borders included


def _exponent_range(values) -> tuple[float, float, float]:
    exponents = np.log10(values)
    return float(exponents[0]), float(exponents[-1]), float(round(exponents[1] - exponents[0], 6))


class Controls:
    """The setting's widgets in a column: surface, optimizers, steps, start, lr, momentum, β2,
    gradient noise, learning-rate schedule; ``values()`` reads them, ``show(setting)`` writes them
    (callers mute). Below them the figure's text size (``draw.TEXT_SIZES``), which is how the
    setting is shown, not part of it."""

    def __init__(self, setting: Setting):
        low, high, step = _exponent_range(LEARNING_RATES)
        self.surface = named(widgets.Dropdown(options=list(surfaces.SURFACES), value=setting.surface,
                                              description="surface", layout=WIDE, style=LABEL), "surface")
        self.optimizers = named(widgets.Text(value=setting.optimizers, description="optimizers",
                                             continuous_update=False, layout=WIDE, style=LABEL,
                                             tooltip="specs, comma-separated; spec@lr for a fixed lr"),
                                "optimizers")
        self.steps = named(widgets.IntText(value=setting.steps, description="steps", layout=WIDE, style=LABEL,
                                           tooltip=f"iterations, {STEPS_RANGE[0]} to {STEPS_RANGE[1]}"), "steps")
        self.x0 = named(widgets.FloatText(value=setting.start[0], description="start x₀",
                                          tooltip="or click the landscape", layout={"width": "58%"},
                                          style=LABEL), "x0")
        self.y0 = named(widgets.FloatText(value=setting.start[1], description="y₀", layout={"width": "38%"},
                                          style={"description_width": "22px"}), "y0")
        self.lr = named(widgets.FloatLogSlider(value=setting.lr, base=10, min=low, max=high, step=step,
                                               description="lr η", readout_format=".3g", layout=WIDE,
                                               style=LABEL), "lr")
        self.momentum = named(widgets.FloatSlider(value=setting.momentum, min=float(MOMENTA[0]),
                                                  max=float(MOMENTA[-1]), step=float(MOMENTA[1] - MOMENTA[0]),
                                                  description="momentum β", layout=WIDE, style=LABEL),
                              "momentum")
        self.beta2 = named(widgets.SelectionSlider(options=BETA2S, value=setting.beta2, description="β2 (Adam)",
                                                   layout=WIDE, style=LABEL), "beta2")
        self.noise = named(widgets.SelectionSlider(options=[("off", 0.0)] + [(f"{v:g}", v) for v in NOISE_LEVELS[1:]],
                                                   value=setting.noise, description="grad. noise",
                                                   layout=WIDE, style=LABEL), "noise")
        self.schedule = named(widgets.Dropdown(options=[(f"{name}: {schedules.SUMMARIES[name]}", name)
                                                        for name in schedules.SCHEDULES],
                                               value=setting.schedule, description="η schedule", layout=WIDE,
                                               style=LABEL), "schedule")
        self.text_size = named(widgets.ToggleButtons(options=list(TEXT_SIZES), value="normal",
                                                     description="text size", layout=WIDE,
                                                     tooltips=["as on a screen", "larger, for a projector"],
                                                     style={**LABEL, "button_width": "88px"}), "text-size")

    @property
    def setting_widgets(self) -> tuple:
        """The widgets whose change needs a new sweep (lr and momentum do not)."""
        return (self.surface, self.optimizers, self.steps, self.x0, self.y0, self.beta2, self.noise, self.schedule)

    def values(self, seed: int) -> dict:
        """What the widgets say, as the fields of a ``Setting`` (unchecked)."""
        return {
            "surface": self.surface.value, "optimizers": self.optimizers.value, "lr": self.lr.value,
            "momentum": self.momentum.value, "beta2": self.beta2.value, "steps": int(self.steps.value),
            "start": [float(self.x0.value), float(self.y0.value)], "noise": self.noise.value, "seed": seed,
            "schedule": self.schedule.value}

    def show(self, setting: Setting) -> None:
        """Set every widget from ``setting`` (its values are on the sliders: see Setting.snapped)."""
        self.surface.value = setting.surface
        self.optimizers.value = setting.optimizers
        self.steps.value = setting.steps
        self.x0.value, self.y0.value = setting.start
        self.lr.value, self.momentum.value = setting.lr, setting.momentum
        self.beta2.value = setting.beta2
        self.noise.value = setting.noise
        self.schedule.value = setting.schedule

    def offer_beta2(self, offered: bool) -> None:
        """Show the β2 slider only when an optimizer in the list has a β2."""
        self.beta2.layout.display = None if offered else "none"

    def column(self) -> list:
        return [self.surface, self.optimizers, self.steps, widgets.HBox([self.x0, self.y0]),
                self.lr, self.momentum, self.beta2, self.noise, self.schedule, self.text_size]
