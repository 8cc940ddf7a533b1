"""The notebook explorer's logic, driven from Python (no browser)."""

import matplotlib

matplotlib.use("Agg")

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from landscape import app, draw, surfaces, trajectory


@pytest.fixture(scope="module")
def explorer():
    return app.Explorer(surface="quadratic", optimizers="gd, momentum, adam", lr=0.01, momentum=0.5,
                        steps=30)


def _messages(widget):
    return "".join(o.get("text", "") for o in widget.outputs)


def test_sliders_show_the_precomputed_runs_of_that_setting(explorer):
    surface = surfaces.get("quadratic")
    explorer.lr_slider.value = 0.1
    explorer.momentum_slider.value = 0.7
    lr, momentum = explorer._slider_point()
    assert lr == pytest.approx(0.1) and momentum == pytest.approx(0.7)
    shown = {t.spec: t for _, t, _ in explorer._animation.paths}
    for spec in ("gd", "momentum", "adam"):
        expected = trajectory.compare(surface, [spec], lr=lr, momentum=momentum, steps=30)[0]
        torch.testing.assert_close(shown[spec].points, expected.points, rtol=1e-8, atol=1e-8)
    labels = [t.get_text() for t in explorer._animation.legend.get_texts()]
    assert labels[1] == f"momentum [{shown['momentum'].outcome()}]"
    before = explorer.image.value
    explorer.lr_slider.value = 0.001
    assert explorer.image.value != before, "moving the slider redraws the figure"


def test_scrubbing_shows_the_path_up_to_the_iteration(explorer):
    explorer.iteration.value = 5
    line, run, _ = explorer._animation.paths[0]
    assert len(line.get_xdata()) == 6
    explorer.iteration.value = 30


def _click(explorer, x: int, y: int) -> None:
    """What ipyevents sends for a click at pixel (x, y) of the shown image."""
    explorer.image_clicks._handle_mouse_msg(None, {"event": "click", "dataX": x, "dataY": y}, [])


def test_a_click_on_the_landscape_moves_the_start_under_the_pointer(explorer):
    animation, start = explorer._animation, explorer.state()["start"]
    _click(explorer, 5, 5)  # the figure's corner: outside the contour plot, nothing happens
    assert explorer.state()["start"] == start
    click = (300, 200)
    _click(explorer, *click)
    x0, y0 = explorer.state()["start"]
    assert (x0, y0) != tuple(start) and explorer._animation is animation, "same figure, new runs"
    for run in explorer.current_runs():
        assert run.points[0, 0].tolist() == [x0, y0]
    # the start marker of the last optimizer (drawn on top) is centred on the clicked pixel
    frame = explorer._animation.frame(0).astype(int)
    colour = [int(draw.colour(len(explorer.grids) - 1)[i:i + 2], 16) for i in (1, 3, 5)]
    window = frame[click[1] - 12:click[1] + 13, click[0] - 12:click[0] + 13]
    ys, xs = np.nonzero((np.abs(window - colour) < 30).all(-1))
    assert len(xs) > 20 and abs(xs.mean() - 12) < 1.5 and abs(ys.mean() - 12) < 1.5
    explorer.set_start(*start)


def test_beta2_is_offered_for_the_adam_family_and_changes_its_runs(explorer):
    surface = surfaces.get("quadratic")
    assert explorer.beta2_slider.layout.display is None, "adam is in the list"
    explorer.beta2_slider.value = 0.9
    lr, momentum = explorer._slider_point()
    start = explorer.state()["start"]
    shown = {t.spec: t for _, t, _ in explorer._animation.paths}
    for beta2, spec in ((0.9, "adam"), (None, "momentum")):
        expected = trajectory.run(surface, spec, lr=lr, momentum=momentum, starts=[start], steps=30,
                                  **({"beta2": beta2} if beta2 else {}))
        torch.testing.assert_close(shown[spec].points, expected.points, rtol=1e-8, atol=1e-8)
    explorer.optimizers_box.value = "gd, momentum"
    assert explorer.beta2_slider.layout.display == "none", "no optimizer has a β2"
    explorer.optimizers_box.value = "gd, momentum, adam"
    explorer.beta2_slider.value = 0.999


def test_bad_optimizer_spec_is_a_message_and_keeps_the_runs(explorer):
    grids = explorer.grids
    explorer.optimizers_box.value = "gd, adamm"
    assert "unknown base rule 'adamm'" in _messages(explorer.messages)
    assert explorer.grids is grids
    explorer.optimizers_box.value = "gd, momentum, adam"


def test_select_snaps_sliders_to_the_grid(explorer):
    explorer.select(0.0123, 0.62)
    assert explorer._slider_point() == (pytest.approx(10 ** -1.9), pytest.approx(0.6))


def test_export_writes_the_runs_shown(explorer, tmp_path):
    path = explorer.export(str(tmp_path / "shown.gif"))
    assert iio.imread(path, index=None).shape[:3] == (31, 540, 960)
    assert "wrote" in _messages(explorer.messages)


def test_setting_round_trips_through_json(explorer, tmp_path):
    path = str(tmp_path / "setting.json")
    explorer.select(0.05, 0.3)
    explorer.beta2_slider.value = 0.99
    saved = explorer.state()
    explorer.save_state(path)
    explorer.select(0.5, 0.9)
    explorer.beta2_slider.value = 0.9999
    explorer.load_state(path)
    assert explorer.state() == saved and saved["beta2"] == 0.99
    (tmp_path / "bad.json").write_text('{"colour": "red"}')
    explorer.load_state(str(tmp_path / "bad.json"))
    assert "unknown keys ['colour']" in _messages(explorer.messages)


@pytest.mark.parametrize("setting,message", [
    ('{"beta2": "high"}', "beta2 is 'high'; expected a number in (0, 1)"),
    ('{"surface": "moon"}', "surface is 'moon'; expected one of quadratic"),
    ('{"start": [0.1, NaN]}', "start is [0.1, nan]; expected [x, y]"),
    ('{"steps": 5}', "steps is 5; expected an integer from 10 to 1000"),
    ('[1, 2]', "expected a JSON object"),
])
def test_a_bad_setting_is_a_message_and_changes_nothing(explorer, tmp_path, setting, message):
    before, image = explorer.state(), explorer.image.value
    (tmp_path / "bad.json").write_text(setting)
    explorer.load_state(str(tmp_path / "bad.json"))
    assert message in _messages(explorer.messages)
    assert explorer.state() == before and explorer.image.value == image
    explorer.lr_slider.value = 0.2  # and the explorer still answers
    assert explorer.image.value != image
    explorer.select(before["lr"], before["momentum"])


def test_networks_tab_shows_missing_data_as_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("LANDSCAPE_CIFAR_URL", "http://127.0.0.1:9/cifar.tar.gz")
    tab = app.NetworksTab()
    tab.data_dir.value = str(tmp_path / "nothing")
    tab.run()  # what the Run button starts in a thread
    assert "CIFAR-10 not found" in _messages(tab.messages)
    assert not tab.run_button.disabled
