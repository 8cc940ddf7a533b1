"""The explorer's model, without widgets: a ``Setting`` (what the controls say, validated,
saved as JSON) and a ``Sweep`` (every (lr, momentum) pair of the sliders for one setting,
computed in one batched run, so that a slider move is a lookup), and the words both show under
their pictures (``KEY``, ``arrows_key``, a phase diagram's ``readout``). Below both homes of the
explorer: the notebook's widgets (``app``) and the standalone HTML page (``page``)."""

from __future__ import annotations

import html
import json
import math
import os
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from . import draw, optim, schedules, surfaces, trajectory
from .anatomy import Anatomy
from .grid import Grid, nearest_index
from .trajectory import Trajectories

# the sliders' values: lr 10^-3 … 10^0 in steps of 10^0.1 (31), momentum 0 … 0.95 (20), β2 (4)
LEARNING_RATES = 10 ** np.round(np.arange(-3.0, 0.0 + 1e-9, 0.1), 1)
MOMENTA = np.round(np.arange(0.0, 0.951, 0.05), 2)
BETA2S = (0.9, 0.99, 0.999, 0.9999)
NOISE_LEVELS = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)  # η of annealed gradient noise; 0: off
STEPS_RANGE = (10, 1000)
MAX_SETTING_BYTES = 100_000  # a setting file or upload larger than this is refused unread
SLIDERS = Grid(LEARNING_RATES, MOMENTA)  # every (lr, momentum) the sliders offer, as one sweep's grid


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# field -> (check, what is expected): a setting is checked whole before anything changes
CHECKS = {
    "surface": (lambda v: isinstance(v, str) and v in surfaces.SURFACES, f"one of {', '.join(surfaces.SURFACES)}"),
    "optimizers": (lambda v: isinstance(v, str), "a text of optimizer specs, e.g. 'sgd, adam'"),
    "lr": (lambda v: _number(v) and v > 0, "a number > 0"),
    "momentum": (lambda v: _number(v) and 0 <= v < 1, "a number in [0, 1)"),
    "beta2": (lambda v: _number(v) and 0 < v < 1, "a number in (0, 1)"),
    "steps": (lambda v: _integer(v) and STEPS_RANGE[0] <= v <= STEPS_RANGE[1],
              f"an integer from {STEPS_RANGE[0]} to {STEPS_RANGE[1]}"),
    "start": (lambda v: isinstance(v, (list, tuple)) and len(v) == 2 and all(map(_number, v)),
              "[x, y], two finite numbers"),
    "noise": (lambda v: _number(v) and 0 <= v <= 1, "a number from 0 (off) to 1"),
    "schedule": (lambda v: isinstance(v, str) and v in schedules.SCHEDULES, f"one of {', '.join(schedules.SCHEDULES)}"),
    "seed": (lambda v: _integer(v) and 0 <= v <= optim.MAX_SEED, "an integer from 0 to 2**63 - 1"),
}


def nearest(options, value: float, log: bool = False) -> float:
    """The option closest to ``value``: where a saved or typed setting lands on a slider."""
    return float(options[nearest_index(options, value, log)])


SNAPPED = ("lr", "momentum", "beta2", "noise")  # the fields whose sliders offer a grid of values
# an HTML page made by landscape (``python -m landscape page``, Export page) holds its setting as
# JSON in <script type="application/json" id="landscape-setting">, within its first MAX_SETTING_BYTES
PAGE_SETTING = "landscape-setting"
_PAGE_SETTING = re.compile(rb'<script type="application/json" id="' + PAGE_SETTING.encode() + rb'">(.*?)</script>',
                           re.DOTALL)


def is_page(data: bytes) -> bool:
    """Whether ``data`` (a file's first bytes) is an HTML page."""
    return data.lstrip()[:15].lower() == b"<!doctype html>"


def page_setting(data: bytes, source: str = "page") -> bytes:
    """The setting's JSON that the HTML page ``data`` holds (``PAGE_SETTING``, in its first
    MAX_SETTING_BYTES); ``ValueError`` when it holds none."""
    found = _PAGE_SETTING.search(data[:MAX_SETTING_BYTES])
    if found is None:
        raise ValueError(f"{source} is an HTML page without a landscape setting (a page made by "
                         f"'python -m landscape page' or Export page holds one)")
    return found.group(1)


@dataclass(frozen=True)
class Setting:
    """Everything the explorer's controls say. ``Setting.checked(...)`` refuses bad values
    with a message naming the field; lr, momentum and β2 snap to the sliders' values."""

    surface: str = "two-well"
    optimizers: str = "sgd, momentum, nesterov, adam"
    lr: float = 0.01
    momentum: float = 0.9
    beta2: float = 0.999
    steps: int = 150
    start: tuple[float, float] = (0.2, 1.2)
    noise: float = 0.0
    seed: int = 0
    schedule: str = "none"

    @classmethod
    def checked(cls, values: dict, source: str = "setting") -> "Setting":
        """A setting from ``values`` (missing fields: defaults, start: the surface's); every
        value is checked first, and ``ValueError`` names the first bad one."""
        if not isinstance(values, dict):
            raise ValueError(f"{source}: expected a JSON object with keys {list(CHECKS)}")
        unknown = sorted(set(values) - set(CHECKS))
        if unknown:
            raise ValueError(f"{source}: unknown keys {unknown}; expected {list(CHECKS)}")
        for key, value in values.items():
            check, expected = CHECKS[key]
            if not check(value):
                raise ValueError(f"{source}: {key} is {value!r}; expected {expected}")
        values = dict(values)
        surface = values.setdefault("surface", cls.surface)
        values["start"] = tuple(float(v) for v in values.get("start", surfaces.get(surface).start))
        setting = cls(**values)
        try:
            setting.specs  # the optimizer text must parse too
        except ValueError as error:
            raise ValueError(f"{source}: optimizers is {setting.optimizers!r}: {error}") from None
        surface = surfaces.get(setting.surface)
        if not surface.in_view(setting.start):
            raise ValueError(f"{source}: start is ({setting.start[0]:g}, {setting.start[1]:g}); expected "
                             f"a point in the view of {setting.surface}: {surface.view_ranges}")
        return setting.snapped()

    def snapped(self) -> "Setting":
        """lr, momentum, β2 and noise moved to the nearest value their sliders offer."""
        noise = self.noise and nearest(NOISE_LEVELS[1:], self.noise, log=True)
        return replace(self, lr=nearest(LEARNING_RATES, self.lr, log=True),
                       momentum=nearest(MOMENTA, self.momentum), beta2=nearest(BETA2S, self.beta2),
                       noise=noise)

    def changed(self, **values) -> "Setting":
        """This setting with ``values`` changed (checked)."""
        return Setting.checked({**self.to_dict(), **values})

    @property
    def specs(self) -> list[optim.Spec]:
        """The optimizer specs (``optim.parse_list``; as many as one figure shows, ``draw.MAX_RUNS``),
        ``+gradnoise`` added to each when the noise is on."""
        specs = optim.parse_list(self.optimizers)
        draw.check_runs(len(specs))
        return [spec.with_extension("gradnoise") for spec in specs] if self.noise > 0 else specs

    def to_dict(self) -> dict:
        values = asdict(self)
        values["start"] = list(self.start)
        return values

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def read(cls, path: Path, source: str | None = None) -> tuple["Setting", str]:
        """The setting saved in ``path`` (a JSON file, or an HTML page that holds one, see
        ``page_setting``) and what ``moved_from`` says of it (``source`` names it in messages;
        default the path)."""
        source = source or str(path)
        try:
            with open(path, "rb") as file:  # no more than a setting's size: a page holds its setting first
                data, size = file.read(MAX_SETTING_BYTES + 1), os.fstat(file.fileno()).st_size
        except OSError as error:
            raise ValueError(f"cannot read {source}: {error.strerror}") from None
        if size > MAX_SETTING_BYTES and not is_page(data):
            raise ValueError(f"{source} is not a setting: {size:,} bytes (a setting is a few hundred)")
        return cls.parsed(data, source)

    @classmethod
    def parsed(cls, text: str | bytes, source: str = "setting") -> tuple["Setting", str]:
        """The setting in the JSON ``text`` (or a file's bytes, or an HTML page's: ``page_setting``)
        and what ``moved_from`` says of it."""
        data = text.encode() if isinstance(text, str) else bytes(text)
        if is_page(data):
            data = page_setting(data, source)
        elif len(data) > MAX_SETTING_BYTES:
            raise ValueError(f"{source} is not a setting: {len(data):,} bytes (a setting is a few hundred)")
        try:
            values = json.loads(data)
        except json.JSONDecodeError as error:
            raise ValueError(f"{source} is not JSON: {error}") from None
        except UnicodeDecodeError:
            raise ValueError(f"{source} is not a setting: not a text file") from None
        except RecursionError:
            raise ValueError(f"{source} is not a setting: nested too deeply") from None
        setting = cls.checked(values, source)
        return setting, setting.moved_from(values)

    @classmethod
    def from_json(cls, text: str, source: str = "setting") -> "Setting":
        return cls.parsed(text, source)[0]

    def moved_from(self, values: dict) -> str:
        """Which of the ``values`` this setting shows at the nearest slider value instead, e.g.
        'lr 0.0015 is shown as 0.00158 (the nearest value the sliders offer)'; '' if none."""
        moved = [f"{key} {values[key]:g} is shown as {getattr(self, key):.3g}" for key in SNAPPED
                 if key in values and not math.isclose(values[key], getattr(self, key), rel_tol=1e-9)]
        if not moved:
            return ""
        return f"{', '.join(moved)} (the nearest value{'s' if len(moved) > 1 else ''} the sliders offer)"


SWEEP_FIELDS = ("surface", "optimizers", "beta2", "steps", "start", "noise", "seed", "schedule")


class Sweep:
    """Every (lr, momentum) of the sliders for one setting: all optimizers stepped together in
    one batched run (``trajectory.sweeps`` on the sliders' grid, ``SLIDERS``), each row's
    gradients and optimizer state recorded (``trajectory.Recorded``: the numbers a step's arrows
    are drawn from). ``runs_at(lr, momentum)`` is then a lookup."""

    grid = SLIDERS

    def __init__(self, setting: Setting, steps: int | None = None):
        """``steps``: fewer than the setting's, for a quick look at what the sweep holds (its rows,
        the arrows of each rule's step); default the setting's."""
        self.setting = setting
        self.surface = surfaces.get(setting.surface)
        specs = setting.specs
        options = {"noise_eta": setting.noise} if setting.noise > 0 else {}
        self.takes_beta2 = any(spec.momentum_parameter == "beta1" for spec in specs)  # the Adam family
        if self.takes_beta2:
            options["beta2"] = setting.beta2
        every_runs = trajectory.sweeps(self.surface, specs, self.grid.lrs, self.grid.momenta, start=setting.start,
                                       steps=setting.steps if steps is None else steps, seed=setting.seed,
                                       schedule=setting.schedule,
                                       record_state=True, **options)
        self.runs: dict[str, Trajectories] = {runs.spec.text: runs for runs in every_runs}  # spec → its sweep
        self._rows: dict[tuple[int, int], list[Trajectories]] = {}

    @property
    def title(self) -> str:
        """The figure's title: the surface's formula and the learning-rate schedule, if any."""
        return draw.title(self.surface, self.setting.schedule)

    @staticmethod
    def key(setting: Setting) -> tuple:
        """What a sweep depends on: settings with the same key share it (lr and momentum don't)."""
        return tuple(getattr(setting, name) for name in SWEEP_FIELDS)

    def index(self, lr: float, momentum: float) -> tuple[int, int]:
        """The slider point (i, j) nearest (lr, momentum)."""
        return self.grid.nearest(lr, momentum)

    def runs_at(self, lr: float, momentum: float) -> list[Trajectories]:
        """Each optimizer's run at the slider point nearest (lr, momentum)."""
        return self.runs_at_index(*self.index(lr, momentum))

    def runs_at_index(self, i: int, j: int) -> list[Trajectories]:
        """Each optimizer's run at slider point (i, j) (the same list each time)."""
        if (i, j) not in self._rows:
            self._rows[(i, j)] = [runs.row(runs.grid.row(i, j)) for runs in self.runs.values()]
        return self._rows[(i, j)]

    @property
    def own_learning_rates(self) -> list[str]:
        """The specs that keep their own learning rate ('sgd@0.1'): the lr slider leaves them."""
        return [text for text, runs in self.runs.items() if runs.spec.lr is not None]

    @property
    def with_momentum(self) -> list[str]:
        """The specs whose sweep spans the momentum axis (what a phase diagram can show)."""
        return [text for text, runs in self.runs.items() if runs.grid.shape[1] > 1]


# what the pictures' marks mean, and what a picked cell's run did: the same words in the notebook's
# explorer and in the standalone HTML page
KEY = ("★ global minimum · ✖ other minimum · ● start · <b>[n]</b> iterations to arrive at a minimum "
       "(on its mark) and stay · <b>[n ★]</b>, <b>[n ✖]</b> arrived at a global or another minimum (marked "
       "where a surface has both) · <b>[n (last step)]</b> arrived at the last step · <b>[&gt;T]</b> not "
       "there after T steps · <b>left@k</b> left the view at step k · <b>diverged@k</b> blew up at step k (a ✖ "
       "of its colour ends its loss curve)")


def arrows_key(anatomy: Anatomy) -> str:
    """The key line of a step's arrows, under the figure: each arrow's colour and what it is."""
    entries = []
    for kind, label in zip(anatomy.kinds, anatomy.labels):
        style = draw.ARROW_STYLES[kind]
        border = "dashed" if style["linestyle"] != "-" else "solid"
        entries.append(f'<span style="display:inline-block;width:18px;height:7px;margin:0 3px 1px 0;'
                       f'background:{style["color"]};border:1.5px {border} #000"></span>{html.escape(label)}')
    notes = "".join(f"<br>{html.escape(note)}" for note in anatomy.notes)
    return (f"<b>arrows of {html.escape(anatomy.name)}</b>, the step from θₖ (the factor they are drawn at is "
            f"in the key on the figure): " + " · ".join(entries) + notes)


def readout(runs: Trajectories, lr: float, momentum: float) -> str:
    """The outcome of the sweep's cell nearest (lr, momentum), in words: '<b>η = 0.0631, β =
    0.1</b> (the ringed cell): reached ✖ at (0.91, 0.00), a minimum with f − f* = 3.9, in 6 iterations'."""
    i, j = runs.grid.nearest(lr, momentum)
    setting = runs.grid.setting(i, j)
    beta = "β1" if runs.spec.momentum_parameter == "beta1" else "β"
    return (f"<b>η = {setting['lr']:.3g}, {beta} = {setting['momentum']:.3g}</b> (the ringed cell): "
            f"{runs.describe(runs.grid.row(i, j))}")
