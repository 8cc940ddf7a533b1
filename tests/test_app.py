"""The notebook explorer driven from Python (no browser): its model without widgets, then the
wired explorer. The browser journeys are in test_browser.py."""

import io
import subprocess
import threading
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import torch
from PIL import Image

from landscape import animate, draw, optim, surfaces, trajectory
from landscape.app import Explorer, NetworksTab, Setting, Sweep, default_gif_folder
from landscape.app.explorer import gif_name
from landscape.setting import KEY
from landscape.app.common import LatestOnly, Mute

# -- the model, without widgets -------------------------------------------------------------------


@pytest.mark.parametrize("values,message", [
    ({"beta2": "high"}, "beta2 is 'high'; expected a number in (0, 1)"),
    ({"surface": "moon"}, "surface is 'moon'; expected one of quadratic"),
    ({"start": [0.1, float("nan")]}, "start is [0.1, nan]; expected [x, y]"),
    ({"steps": 5}, "steps is 5; expected an integer from 10 to 1000"),
    ({"steps": True}, "steps is True; expected an integer"),
    ({"lr": 0}, "lr is 0; expected a number > 0"),
    ({"colour": "red"}, "unknown keys ['colour']"),
    ({"optimizers": "gd, adamm"}, "optimizers is 'gd, adamm': Invalid optimizer spec 'adamm': unknown base rule"),
    ({"optimizers": "sgd, sgd"}, "optimizers is 'sgd, sgd': Invalid optimizers: 'sgd' given twice; one rule at "
                                 "several learning rates is e.g. 'sgd@0.01, sgd@0.1'"),
    ({"optimizers": " , "}, "optimizers is ' , ': Invalid optimizers: give at least one"),
    ({"optimizers": ", ".join(f"sgd@{(k + 1) / 1000}" for k in range(13))}, "Invalid optimizers: 13 in one figure"),
    ({"start": [1e300, 0.0]}, "start is (1e+300, 0); expected a point in the view of two-well: x in [-2, 2]"),
])
def test_a_bad_setting_is_refused_naming_the_field(values, message):
    with pytest.raises(ValueError, match=None) as error:
        Setting.checked(values)
    assert message in str(error.value)


def test_setting_snaps_to_the_sliders_and_round_trips_through_json():
    setting = Setting.checked({"surface": "quadratic", "lr": 0.0123, "momentum": 0.62, "beta2": 0.993,
                               "noise": 0.02})
    assert (setting.lr, setting.momentum, setting.beta2, setting.noise) == (
        pytest.approx(10 ** -1.9), 0.6, 0.99, 0.03)  # log-nearest for lr and noise
    assert setting.start == surfaces.get("quadratic").start, "a new surface starts at its start"
    assert Setting.from_json(setting.to_json()) == setting
    with pytest.raises(ValueError, match="setting.json is not JSON"):
        Setting.from_json("{", "setting.json")
    with pytest.raises(ValueError, match="expected a JSON object"):
        Setting.from_json("[1, 2]")


def test_sweep_runs_are_the_runs_of_that_setting():
    setting = Setting.checked({"surface": "quadratic", "optimizers": "gd, momentum, adam", "steps": 30,
                               "beta2": 0.9})
    sweep = Sweep(setting)
    surface = surfaces.get("quadratic")
    for lr, momentum in ((0.1, 0.7), (0.001, 0.0), (1.0, 0.95)):
        shown = {run.spec.text: run for run in sweep.runs_at(lr, momentum)}
        for spec, extra in (("gd", {}), ("momentum", {}), ("adam", {"beta2": 0.9})):
            expected = trajectory.run(surface, spec, lr=lr, starts=[setting.start], steps=30,
                                      momentum=None if spec == "gd" else momentum, **extra)
            torch.testing.assert_close(shown[spec].points, expected.points, rtol=1e-8, atol=1e-8,
                                       equal_nan=True)  # NaN from the step a row diverged
    assert sweep.with_momentum == ["momentum", "adam"] and sweep.takes_beta2
    assert Sweep.key(setting) == Sweep.key(setting.changed(lr=0.5, momentum=0.1))
    assert Sweep.key(setting) != Sweep.key(setting.changed(steps=31))


def test_latest_only_renders_the_newest_request_and_never_publishes_a_superseded_one():
    release, rendered, published = threading.Event(), [], []

    def render(request):
        rendered.append(request)
        if request == 0:
            release.wait(10)  # busy with the first request while the others arrive
        return request

    worker = LatestOnly(render, published.append, on_error=pytest.fail)
    worker.submit(0)
    while not rendered:
        time.sleep(0.001)
    for request in range(1, 10):
        worker.submit(request)
    release.set()
    worker.wait()
    assert rendered == [0, 9] and published == [9], "0 was superseded while drawn; 1-8 never drawn"
    assert worker.dropped == 9


def test_mute_nests_and_always_unmutes():
    mute = Mute()
    with pytest.raises(RuntimeError):
        with mute():
            with mute():
                assert mute
            assert mute
            raise RuntimeError
    assert not mute


def test_default_gif_folder_is_the_repositorys_ignored_exports_else_here(tmp_path):
    repository = Path(__file__).resolve().parents[1]
    assert default_gif_folder(repository / "notebooks") == repository / "gifs" / "exports"
    assert (repository / "gifs" / "exports").is_dir()
    for made in ("gifs/exports/x.gif", "notebooks/.ipynb_checkpoints/x-checkpoint.ipynb"):
        ignored = subprocess.run(["git", "check-ignore", "-q", made], cwd=repository, capture_output=True)
        assert ignored.returncode == 0, f"{made} leaves git status clean"
    assert default_gif_folder(tmp_path) == tmp_path.resolve()


# -- the wired explorer ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_explorer():
    """One explorer for the module's tests (a new one computes a sweep and draws its first picture)."""
    explorer = Explorer(surface="quadratic", optimizers="gd, momentum, adam", lr=0.01, momentum=0.5, steps=30)
    explorer.wait()
    return explorer


@pytest.fixture
def explorer(shared_explorer):
    """The shared explorer as every test finds it: what a test changes (the setting, what the
    controls say, the iteration, the text size, the GIF folder, the phase tab) is set back when it
    ends, also when it fails midway, so that one failure does not spill into the tests after it."""
    explorer = shared_explorer
    setting, folder = explorer.setting, explorer.gif_folder.value
    yield explorer
    explorer.phase.visible = False
    explorer.gif_folder.value = folder
    explorer.vectors.value = ""
    explorer.controls.text_size.value = "normal"
    if (explorer.setting != setting or explorer.controls.values(setting.seed) != setting.to_dict()
            or explorer.iteration.value != setting.steps):
        explorer.recompute(setting)  # the controls, the iteration and the picture with it
    explorer.wait()


def test_a_new_explorer_already_holds_its_first_picture():
    """A page reads the widgets' state once as it connects; a first picture published from the
    drawing thread while it does so could be lost and leave the figure blank."""
    fresh = Explorer(surface="quadratic", optimizers="gd, adam", steps=20)
    picture = np.asarray(Image.open(io.BytesIO(fresh.landscape.image.value)).convert("RGB")).astype(int)
    assert fresh.landscape.shown[1:] == (fresh.setting.lr, fresh.setting.momentum, 20, None)
    assert all(_pixels_of(picture, spec) > 100 for spec in ("gd", "adam")), "both paths drawn"


def _image(explorer) -> np.ndarray:
    explorer.wait()
    return np.asarray(Image.open(io.BytesIO(explorer.landscape.image.value)).convert("RGB")).astype(int)


def _rgb(spec: str) -> list[int]:
    """The colour of ``spec``'s rule (alone of its rule in a list, a run has it)."""
    return [int(optim.parse(spec).info.colour[i:i + 2], 16) for i in (1, 3, 5)]


def _pixels_of(image: np.ndarray, spec: str) -> int:
    return int((np.abs(image - _rgb(spec)) < 40).all(-1).sum())


def test_sliders_show_the_runs_of_that_setting(explorer):
    explorer.controls.lr.value = 0.1
    explorer.controls.momentum.value = 0.7
    explorer.wait()
    assert (explorer.setting.lr, explorer.setting.momentum) == (pytest.approx(0.1), 0.7)
    assert explorer.landscape.shown[1:] == (explorer.setting.lr, 0.7, 30, None), "the image shows the newest"
    shown = {t.spec.text: t for t in explorer.current_runs()}
    expected = trajectory.run(surfaces.get("quadratic"), "momentum", lr=0.1, momentum=0.7,
                              starts=[explorer.setting.start], steps=30)
    torch.testing.assert_close(shown["momentum"].points, expected.points, rtol=1e-8, atol=1e-8)
    before = _image(explorer)
    explorer.controls.lr.value = 0.001
    assert (_image(explorer) != before).any(-1).mean() > 0.001, "moving the slider redraws the figure"


def test_every_optimizer_is_drawn_and_scrubbing_shows_the_path_up_to_the_iteration(explorer):
    explorer.controls.lr.value = 0.1
    full = _image(explorer)
    assert all(_pixels_of(full, spec) > 100 for spec in ("gd", "momentum", "adam")), "paths and loss curves drawn"
    explorer.iteration.value = 2
    early = _image(explorer)
    assert explorer.landscape.shown[3] == 2
    assert _pixels_of(early, "gd") < _pixels_of(full, "gd")


def _click(explorer, x: int, y: int) -> None:
    """What ipyevents sends for a click at pixel (x, y) of the shown image."""
    explorer.landscape._clicks._handle_mouse_msg(None, {"event": "click", "dataX": x, "dataY": y}, [])
    explorer.wait()


def _colour_pixels(image: np.ndarray, hex_colour: str, tolerance: int = 30) -> int:
    rgb = [int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]
    return int((np.abs(image - rgb) < tolerance).all(-1).sum())


def test_the_arrows_of_a_chosen_optimizers_step_are_drawn_and_said_under_the_figure(explorer):
    assert explorer.vectors.options == (("none", ""), ("gd", "gd"), ("momentum", "momentum"), ("adam", "adam"))
    assert explorer.vectors.value == "" and "arrows of" not in explorer.landscape.key.value, "none at first"
    explorer.controls.lr.value = 0.1
    explorer.iteration.value = 5
    plain = _image(explorer)
    plain_bytes = bytes(explorer.landscape.image.value)
    explorer.vectors.value = "momentum"
    arrows = _image(explorer)
    arrows_bytes = bytes(explorer.landscape.image.value)
    assert explorer.landscape.shown[3:] == (5, "momentum")
    pink = draw.ARROW_STYLES["momentum"]["color"]
    contour = slice(0, int(0.55 * arrows.shape[1]))
    assert _colour_pixels(arrows[:, contour], pink) > 40 and _colour_pixels(plain[:, contour], pink) == 0
    key = explorer.landscape.key.value
    assert "<b>arrows of momentum</b>" in key and "−ηβuₖ₋₁: momentum term" in key and "−ηgₖ: gradient step" in key
    row = explorer.current_runs()[1]  # the recorded state of the cell shown, as a run of its own records it
    alone = trajectory.run(surfaces.get("quadratic"), "momentum", lr=explorer.setting.lr, momentum=0.5,
                           starts=[explorer.setting.start], steps=30, record_state=True)
    torch.testing.assert_close(row.recorded.state["momentum_buffer"], alone.recorded.state["momentum_buffer"],
                               rtol=1e-8, atol=1e-8)
    explorer.vectors.value = ""
    _image(explorer)
    assert bytes(explorer.landscape.image.value) == plain_bytes and "arrows of" not in explorer.landscape.key.value
    explorer.vectors.value = "momentum"
    _image(explorer)
    assert bytes(explorer.landscape.image.value) == arrows_bytes, "frames are kept per choice of arrows"


def test_the_step_buttons_move_one_iteration_within_the_run(explorer):
    explorer.iteration.value = 5
    explorer.forward.click()
    explorer.wait()
    assert explorer.iteration.value == 6 and explorer.landscape.shown[3] == 6
    for _ in range(2):
        explorer.back.click()
    explorer.wait()
    assert explorer.iteration.value == 4 and explorer.landscape.shown[3] == 4
    explorer.iteration.value = 0
    explorer.back.click()
    assert explorer.iteration.value == 0, "not before the start"
    explorer.iteration.value = 30
    explorer.forward.click()
    assert explorer.iteration.value == 30, "not past the last step"


def test_arrows_chosen_at_the_last_iteration_show_the_last_step_taken(explorer):
    assert explorer.iteration.value == 30
    explorer.vectors.value = "adam"
    explorer.wait()
    assert explorer.iteration.value == 29 and explorer.landscape.shown[3:] == (29, "adam")
    explorer.iteration.value = 30  # moved there by hand: no step from the last point
    explorer.wait()
    assert explorer.landscape.shown[3:] == (30, "adam")


def test_a_click_on_the_landscape_moves_the_start_under_the_pointer(explorer):
    animation, start = explorer.landscape.animation, explorer.setting.start
    _click(explorer, 3, 3)  # the figure's corner: outside the contour plot, nothing happens
    assert explorer.setting.start == start
    click = (250, 170)
    _click(explorer, *click)
    x0, y0 = explorer.setting.start
    assert (x0, y0) != start and explorer.landscape.animation is animation, "same figure, new runs"
    assert (explorer.controls.x0.value, explorer.controls.y0.value) == (x0, y0)
    for run in explorer.current_runs():
        assert run.points[0, 0].tolist() == [x0, y0]
    explorer.iteration.value = 0
    frame = _image(explorer)  # the last optimizer's start marker (on top) is on the clicked pixel
    window = frame[click[1] - 12:click[1] + 13, click[0] - 12:click[0] + 13]
    ys, xs = np.nonzero((np.abs(window - _rgb("adam")) < 40).all(-1))
    assert len(xs) > 20 and abs(xs.mean() - 12) < 1.5 and abs(ys.mean() - 12) < 1.5


def test_beta2_is_offered_for_the_adam_family_and_changes_its_runs(explorer):
    assert explorer.controls.beta2.layout.display is None, "adam is in the list"
    explorer.controls.beta2.value = 0.9
    explorer.wait()
    shown = {t.spec.text: t for t in explorer.current_runs()}
    expected = trajectory.run(surfaces.get("quadratic"), "adam", lr=explorer.setting.lr,
                              momentum=explorer.setting.momentum, starts=[explorer.setting.start],
                              steps=30, beta2=0.9)
    torch.testing.assert_close(shown["adam"].points, expected.points, rtol=1e-8, atol=1e-8)
    explorer.controls.optimizers.value = "gd, momentum"
    assert explorer.controls.beta2.layout.display == "none", "no optimizer has a β2"
    explorer.controls.optimizers.value = "gd, momentum, adam"
    assert explorer.controls.beta2.layout.display is None, "offered again"


def _far_from_a_new_drawing(explorer, image: np.ndarray) -> int:
    """Pixels of ``image`` (the JPEG shown) beyond JPEG rounding from the figure of the runs at
    the sliders, drawn anew at the iteration shown: what the view should show."""
    drawn = animate.TrajectoryAnimation(explorer.sweep.surface, explorer.current_runs(), size=draw.SCREEN_SIZE,
                                        dpi=draw.SCREEN_DPI, text_size=explorer.controls.text_size.value,
                                        ).frame_image(explorer.landscape.shown[3])
    return int((np.abs(image - np.asarray(drawn).astype(int)).max(-1) > 80).sum())


def test_new_optimizers_and_steps_draw_a_new_figure_with_every_path(explorer):
    explorer.controls.optimizers.value = "sgd, adam"
    first = _image(explorer)
    assert explorer.landscape.shown[0] is explorer.sweep and explorer.landscape.shown[3] == 30
    momentum_colour, far_off = _pixels_of(first, "momentum"), _far_from_a_new_drawing(explorer, first)
    assert momentum_colour < 20, "the earlier figure's momentum path is gone"
    assert far_off < 300, "the figure of sgd and adam: paths, legend, losses"
    explorer.controls.steps.value = 60
    second = _image(explorer)
    assert explorer.iteration.max == 60 and explorer.landscape.shown[3] == 60
    far_off = _far_from_a_new_drawing(explorer, second)
    assert far_off < 300, "paths and losses to iteration 60, a 0-60 axis"
    for image in (first, second):
        assert _pixels_of(image, "sgd") > 100 and _pixels_of(image, "adam") > 100


def test_one_optimizer_at_several_learning_rates_keeps_its_own_rates(explorer):
    explorer.controls.optimizers.value = "gd@0.01, gd@0.1, momentum"
    for lr in (0.001, 0.5):
        explorer.controls.lr.value = lr
        explorer.wait()
        fixed_small, fixed_large, following = explorer.current_runs()
        for run, rate in ((fixed_small, 0.01), (fixed_large, 0.1), (following, explorer.setting.lr)):
            expected = trajectory.run(surfaces.get("quadratic"), run.spec.without_lr(), lr=rate, steps=30,
                                      starts=[explorer.setting.start],
                                      momentum=explorer.setting.momentum if run is following else None)
            torch.testing.assert_close(run.points, expected.points, rtol=1e-8, atol=1e-8, equal_nan=True)
        assert "η=0.1" in fixed_large.label()


def test_steps_out_of_range_are_a_message_not_a_silent_change(explorer):
    sweep = explorer.sweep
    explorer.controls.steps.value = 5
    assert "steps is 5; expected an integer from 10 to 1000" in explorer.status.text
    assert explorer.sweep is sweep and explorer.controls.steps.value == 5, "what the user typed stays"
    explorer.controls.steps.value = 30
    assert explorer.status.text.startswith("computed")


def test_optimizers_with_their_own_rates_only_switch_the_lr_slider_off(explorer):
    explorer.controls.optimizers.value = "gd@0.01, gd@0.1"
    assert explorer.controls.lr.disabled
    assert "gd@0.01, gd@0.1 keep their own learning rate (the lr slider is off)" in explorer.status.text
    explorer.controls.optimizers.value = "gd@0.01, momentum"
    assert not explorer.controls.lr.disabled and "gd@0.01 keep" in explorer.status.text


def test_bad_optimizer_spec_is_a_message_and_keeps_the_runs(explorer):
    sweep = explorer.sweep
    explorer.controls.optimizers.value = "gd, adamm"
    assert "unknown base rule 'adamm'" in explorer.status.text
    assert explorer.sweep is sweep
    explorer.controls.optimizers.value = "gd, momentum, adam"
    assert explorer.status.text.startswith("computed")


def test_the_schedule_control_runs_every_optimizer_on_that_schedule_and_says_so(explorer):
    explorer.controls.schedule.value = "cosine"
    explorer.wait()
    assert explorer.setting.schedule == "cosine" and explorer.sweep.setting.schedule == "cosine"
    expected = trajectory.run(surfaces.get("quadratic"), "momentum", lr=explorer.setting.lr,
                              momentum=explorer.setting.momentum, starts=[explorer.setting.start], steps=30,
                              schedule="cosine")
    shown = {run.spec.text: run for run in explorer.current_runs()}
    torch.testing.assert_close(shown["momentum"].points, expected.points, rtol=1e-8, atol=1e-8)
    assert explorer.landscape.animation.figure.axes[0].get_title() == draw.title(surfaces.get("quadratic"), "cosine")
    assert "(η: cosine schedule)" in explorer.landscape.animation.figure.axes[0].get_title()
    assert Setting.from_json(explorer.setting.to_json()).schedule == "cosine", "saved with the setting"
    assert gif_name(explorer.setting).endswith("_cosine.gif")


@pytest.mark.parametrize("values, name", [
    ({"surface": "two-well", "optimizers": "sgd, adam", "lr": 0.01, "momentum": 0.9},
     "two-well_sgd_adam_lr0.01_m0.9.gif"),
    ({"surface": "quadratic", "optimizers": "gd@0.02, gd@0.1", "lr": 0.5, "momentum": 0.9},
     "quadratic_gd@0.02_gd@0.1.gif"),
    ({"surface": "quadratic", "optimizers": "gd@0.02, momentum@0.1", "lr": 0.5, "momentum": 0.3},
     "quadratic_gd@0.02_momentum@0.1_m0.3.gif"),
    ({"surface": "quadratic", "optimizers": "gd, adagrad", "lr": 0.1, "schedule": "step"},
     "quadratic_gd_adagrad_lr0.1_step.gif"),
])
def test_a_gif_s_name_says_what_its_runs_are(values, name):
    assert gif_name(Setting.checked(values)) == name


def test_select_snaps_sliders_to_the_grid(explorer):
    explorer.select(0.0123, 0.62)
    assert (explorer.setting.lr, explorer.setting.momentum) == (pytest.approx(10 ** -1.9), 0.6)
    assert (explorer.controls.lr.value, explorer.controls.momentum.value) == (explorer.setting.lr, 0.6)


def test_export_writes_the_runs_shown_where_the_message_says(explorer, tmp_path):
    explorer.gif_folder.value = str(tmp_path)
    explorer.export_in_background()
    explorer.wait()
    written = list(tmp_path.glob("*.gif"))
    assert len(written) == 1 and f"wrote {written[0]}" in explorer.status.text
    frames = iio.imread(written[0], index=None)
    assert frames.shape[:3] == (31, 540, 960), "iterations 0..30, slide-sized"
    assert len({frame.tobytes() for frame in frames}) == 31, "every frame differs: the paths grow"
    # the runs of the sliders' lr and momentum, run here on their own, drawn here on their own
    setting, surface = explorer.setting, surfaces.get("quadratic")
    shown = trajectory.compare(surface, ["gd", "momentum", "adam"], lr=setting.lr, momentum=setting.momentum,
                               steps=setting.steps)
    other = trajectory.compare(surface, ["gd", "momentum", "adam"], lr=setting.lr * 3, momentum=0.0,
                               steps=setting.steps)
    last = frames[-1][..., :3].astype(int)
    far_off = {name: (np.abs(last - np.asarray(animate.TrajectoryAnimation(surface, runs).frame_image(30))).max(-1) > 80).sum()
               for name, runs in (("shown", shown), ("other", other))}  # pixels, beyond palette rounding
    assert far_off["shown"] < 50 and far_off["other"] > 2000, far_off
    assert bytes(explorer.gif_preview.value) == written[0].read_bytes()
    assert explorer.gif_preview.layout.display is None, "shown"
    explorer.select(0.2, 0.5)
    assert explorer.gif_preview.layout.display == "none", "a preview of other runs is hidden"
    explorer.gif_folder.value = str(tmp_path / "missing")
    explorer.export_in_background()
    explorer.wait()
    assert f"the GIF folder {tmp_path / 'missing'} does not exist" in explorer.status.text


def test_export_draws_the_arrows_shown(explorer, tmp_path):
    explorer.vectors.value = "adam"
    explorer.iteration.value = 10
    written = explorer.export(tmp_path / "arrows.gif")
    frames = iio.imread(written, index=None)[..., :3].astype(int)
    cyan = draw.ARROW_STYLES["first moment"]["color"]  # Adam's −ηm̂_k, in no path's colour
    assert frames.shape[0] == 31 and all(_colour_pixels(frames[k], cyan, 20) > 20 for k in (0, 10, 29))


def test_the_projector_text_size_redraws_the_figure_and_the_gif(explorer, tmp_path):
    """A lecturer's control: the figure drawn anew with projector text, and GIFs exported so."""
    normal = _image(explorer)
    assert _far_from_a_new_drawing(explorer, normal) < 300
    explorer.controls.text_size.value = "projector"
    projector = _image(explorer)
    assert explorer.landscape.animation.text_size == "projector"
    assert _far_from_a_new_drawing(explorer, projector) < 300, "the projector figure of the same runs"
    assert (np.abs(projector - normal).max(-1) > 80).sum() > 2000, "not the normal one"
    explorer.gif_folder.value = str(tmp_path)
    explorer.export_in_background()
    explorer.wait()
    (written,) = tmp_path.glob("*.gif")
    last = iio.imread(written, index=explorer.setting.steps)[..., :3].astype(int)
    for text_size, close in (("projector", True), ("normal", False)):
        drawn = animate.TrajectoryAnimation(explorer.sweep.surface, explorer.current_runs(), text_size=text_size)
        far_off = (np.abs(last - np.asarray(drawn.frame_image(explorer.setting.steps))).max(-1) > 80).sum()
        assert bool(far_off < 50) == close, (text_size, far_off)


def test_a_folder_that_refuses_files_is_one_line(explorer, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tempfile.mkstemp", refuse)  # what a read-only mount does (even to root)
    explorer.gif_folder.value = str(tmp_path)
    explorer.export_in_background()
    explorer.wait()
    assert explorer.status.text.startswith(f"⚠ cannot write {tmp_path}") and "\n" not in explorer.status.text
    explorer.save_state(str(tmp_path / "setting.json"))
    assert explorer.status.text == f"⚠ cannot write {tmp_path / 'setting.json'}: Permission denied"
    assert list(tmp_path.iterdir()) == []


def test_setting_round_trips_through_json(explorer, tmp_path):
    path = tmp_path / "setting.json"
    explorer.select(0.05, 0.3)
    explorer.controls.beta2.value = 0.99
    saved = explorer.setting.to_dict()
    explorer.save_state(str(path))
    assert f"saved the setting to {path}" in explorer.status.text
    explorer.select(0.5, 0.9)
    explorer.controls.beta2.value = 0.9999
    explorer.load_state(str(path))
    assert explorer.status.text.startswith(f"loaded the setting from {path}; computed")
    assert explorer.setting.to_dict() == saved and saved["beta2"] == 0.99
    assert explorer.controls.lr.value == saved["lr"] and explorer.controls.beta2.value == 0.99


@pytest.mark.parametrize("setting,message", [
    ('{"beta2": "high"}', "beta2 is 'high'; expected a number in (0, 1)"),
    ('{"start": [0.1, NaN]}', "start is [0.1, nan]; expected [x, y]"),
    ('[1, 2]', "expected a JSON object"),
])
def test_a_bad_saved_setting_is_a_message_and_changes_nothing(explorer, tmp_path, setting, message):
    before, image = explorer.setting.to_dict(), _image(explorer)
    (tmp_path / "bad.json").write_text(setting)
    explorer.load_state(str(tmp_path / "bad.json"))
    assert message in explorer.status.text
    assert explorer.setting.to_dict() == before and (_image(explorer) == image).all()
    explorer.controls.lr.value = 0.2  # and the explorer still answers
    assert (_image(explorer) != image).any()


def test_a_new_surface_brings_its_start_and_learning_rate(explorer):
    explorer.controls.surface.value = "rosenbrock"
    rosenbrock = surfaces.get("rosenbrock")
    assert explorer.setting.start == rosenbrock.start
    assert explorer.setting.lr == pytest.approx(rosenbrock.default_lr, rel=0.13), "nearest slider value"


def test_phase_diagram_is_drawn_when_shown_and_a_click_sets_the_sliders(explorer):
    explorer.phase.visible = True
    explorer.phase.show(explorer.sweep, explorer.setting.lr, explorer.setting.momentum)
    explorer.wait()
    axes = explorer.phase._drawn[1]
    assert axes.get_ylabel() != "" and bytes(explorer.phase.image.value).startswith(b"\x89PNG")
    height = axes.figure.canvas.get_width_height()[1]
    x, y = axes.transData.transform((0.1, 0.3))  # a click where lr 0.1, momentum 0.3 is drawn
    explorer.phase._clicks._handle_mouse_msg(None, {"event": "click", "dataX": x, "dataY": height - y}, [])
    explorer.wait()
    assert (explorer.setting.lr, explorer.setting.momentum) == (pytest.approx(0.1), 0.3)


def _click_phase_cell(explorer, lr: float, momentum: float) -> None:
    axes = explorer.phase._drawn[1]
    height = axes.figure.canvas.get_width_height()[1]
    x, y = axes.transData.transform((lr, momentum))
    explorer.phase._clicks._handle_mouse_msg(None, {"event": "click", "dataX": x, "dataY": height - y}, [])
    explorer.wait()


def test_a_click_on_a_phase_cell_reads_out_its_setting_and_outcome(explorer):
    """Under the picture, in words: the clicked (now ringed) cell's η, β and what its run did,
    the same as that setting run on its own."""
    explorer.recompute(explorer.setting.changed(surface="two-well", optimizers="momentum", start=[1.5, 1.0],
                                                steps=150))
    explorer.phase.visible = True
    explorer.phase.show(explorer.sweep, explorer.setting.lr, explorer.setting.momentum)
    explorer.wait()
    surface = surfaces.get("two-well")
    for lr, momentum, outcome in ((0.0631, 0.1, "reached ✖ at (0.91, 0.00), a minimum with f − f* = 3.9, in "),
                                  (0.0316, 0.9, "reached ★ at (-0.97, 0.00), the global minimum, in "),
                                  (0.001, 0.0, "not at a minimum after 150 iterations (f − f* = ")):
        _click_phase_cell(explorer, lr, momentum)
        assert (explorer.setting.lr, explorer.setting.momentum) == (pytest.approx(lr, rel=1e-3), momentum)
        alone = trajectory.run(surface, "momentum", lr=explorer.setting.lr, momentum=momentum,
                               starts=[(1.5, 1.0)], steps=150)
        assert alone.describe(0).startswith(outcome)
        assert explorer.phase.readout.value == (f"<b>η = {lr:g}, β = {momentum:g}</b> (the ringed cell): "
                                                f"{alone.describe(0)}")
    _click_phase_cell(explorer, 0.002, -0.02)  # the lower half of the β = 0 row: below 0 on the axis
    assert (explorer.setting.lr, explorer.setting.momentum) == (pytest.approx(0.002, rel=0.01), 0.0)
    assert explorer.phase.readout.value.startswith("<b>η = 0.002, β = 0</b>")
    explorer.recompute(explorer.setting.changed(surface="quadratic", start=[-4.0, 3.5]))
    _click_phase_cell(explorer, 1.0, 0.5)
    diverged = trajectory.run(surfaces.get("quadratic"), "momentum", lr=1.0, momentum=0.5, steps=150)
    assert explorer.phase.readout.value.endswith(f": diverged at iteration {int(diverged.diverged_at[0])}")


def test_networks_tab_reports_a_missing_data_folder_and_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("LANDSCAPE_CIFAR_URL", "http://127.0.0.1:9/cifar.tar.gz")
    tab = NetworksTab()
    tab.data_dir.value = str(tmp_path / "typo" / "deep")
    tab.run()  # what the Run button starts on a thread
    assert f"the data folder {tmp_path / 'typo' / 'deep'} does not exist" in tab.status.text
    assert not (tmp_path / "typo").exists() and not tab.run_button.disabled
    (tmp_path / "empty").mkdir()
    tab.data_dir.value = str(tmp_path / "empty")
    tab.run()
    assert "CIFAR-10 not found" in tab.status.text


def test_after_a_run_the_networks_tab_draws_the_landscape_slice_and_exports_its_gif(tmp_path, monkeypatch):
    from helpers import official_folder

    folder = official_folder(tmp_path / "data", per_batch=40)
    monkeypatch.chdir(tmp_path)  # the slice GIF goes to the working folder (no gifs/ here)
    tab = NetworksTab()
    panel = tab.slice
    assert panel.button.disabled, "nothing to slice before a run"
    tab.data_dir.value, tab.train_size.value, tab.epochs.value = str(folder.parent), 200, 2
    tab.optimizers.value, tab.lr.value = "sgd, adam", "sgd=0.05, adam=0.001"
    tab.run()
    assert tab.status.text.startswith("finished") and not panel.button.disabled
    panel.grid.value, panel.images.value = 5, 50
    panel.compute()  # what the Landscape slice button starts on a thread
    assert "explained variance ratio (centred PCA): " in panel.status.text
    assert "; largest distance off the plane / path length: sgd@0.05" in panel.status.text
    assert panel.figure.layout.display is None
    train_bytes = panel.figure.value
    train_png = Image.open(io.BytesIO(train_bytes))
    assert train_png.size == (960, 540)
    picture = np.asarray(train_png.convert("RGB")).astype(int)
    assert _pixels_of(picture, "sgd") > 20 and _pixels_of(picture, "adam") > 20, "both paths and real losses"
    panel.loss.value = "validation"
    assert panel.figure.value != train_bytes, "the validation loss's slice replaces the training loss's"
    written = panel.export()
    assert Path(written) == tmp_path / "slice_mlp_sgd_adam_validation.gif"
    assert iio.improps(written, index=None).shape[0] == len(panel.result.paths[0].steps)
    assert f"wrote {written}" in panel.status.text and panel.gif_preview.layout.display is None
    tab.data_dir.value = str(tmp_path / "nowhere")
    tab.run()
    assert panel.button.disabled and panel.figure.layout.display == "none", "a new run hides the old slice"


@pytest.fixture
def sliced_run(tmp_path, monkeypatch):
    """A Real networks tab after a small run of sgd and adam: its slice panel, what it says and
    what it shows (``said``: each status line; ``shown``: the grid points per axis of each picture)."""
    from helpers import official_folder

    folder = official_folder(tmp_path / "data", per_batch=40)
    tab = NetworksTab()
    tab.data_dir.value, tab.train_size.value, tab.epochs.value = str(folder.parent), 200, 2
    tab.optimizers.value, tab.lr.value = "sgd, adam", "sgd=0.05, adam=0.001"
    tab.run()
    panel = tab.slice
    panel.grid.value, panel.images.value = 9, 40  # the 40 validation images there are
    said, shown = [], []
    say = panel.status.say
    monkeypatch.setattr(panel.status, "say", lambda text, kind="info": (said.append(text), say(text, kind)))
    panel.figure.observe(lambda _: shown.append(len(panel.result.alphas)), names="value")
    return panel, said, shown


def test_the_slice_panel_says_how_long_before_it_starts_then_shows_a_coarse_picture_then_the_full_one(
        sliced_run, monkeypatch):
    from landscape.nets import slice_view

    panel, said, shown = sliced_run
    estimate = "about 1 s for 9 x 9 points on 40 images; a coarse 5 x 5 picture first, in about 1 s"
    assert panel.plan().estimate() == estimate
    assert panel.status.text == f"Landscape slice: {estimate}", "said when the run offers its slice"
    losses_at = slice_view.planes.losses_at
    monkeypatch.setattr(slice_view.planes, "losses_at", lambda *a, **k: (said.append("work"), losses_at(*a, **k))[1])
    panel.compute()
    assert said[0] == estimate and said.index("work") > 0, "the estimate is said before any loss is evaluated"
    assert shown == [5, 9], "the coarse picture, then the full one in its place"
    coarse = [text for text in said if text.startswith("coarse 5 x 5 picture; ")]
    assert coarse and coarse[0].startswith("coarse 5 x 5 picture; about 1 s for the rest of the 9 x 9 grid\n")
    assert panel.status.text.startswith("explained variance ratio (centred PCA): ")
    assert panel.stop_button.layout.display == "none" and not panel.gif_button.disabled


def test_stop_keeps_the_coarse_picture_on_screen(sliced_run):
    panel, said, shown = sliced_run
    panel.figure.observe(lambda _: panel.stop_button.click(), names="value")  # Stop, once the coarse one is shown
    panel.compute()
    assert shown == [5] and panel.status.text == "stopped: the coarse 5 x 5 picture stays"
    assert len(panel.result.train_loss) == 5 and panel.figure.layout.display is None
    assert not panel.gif_button.disabled and not panel.button.disabled, "its GIF can be exported; slice again"


def test_the_slice_grid_and_images_follow_the_model_and_the_device():
    from landscape.nets import costs

    tab = NetworksTab()
    tab.device.value = "cpu"
    panel = tab.slice
    assert (panel.grid.value, panel.images.value) == costs.slice_defaults("mlp", "cpu") == (21, 1000)
    tab.model.value = "cnn"
    assert (panel.grid.value, panel.images.value) == costs.slice_defaults("cnn", "cpu") != (21, 1000)
    tab.device.value = "cuda"  # not measured (or not on this machine): the full grid
    assert (panel.grid.value, panel.images.value) == (21, 1000)
    tab.device.value = "cpu"
    tab.dataset.value = "mnist"
    assert (panel.grid.value, panel.images.value) == costs.slice_defaults("mnist-mlp", "cpu")


def test_an_epoch_bar_says_epoch_for_one():
    from landscape.app.networks import _EpochBar

    bar = _EpochBar("adam", 1)
    assert bar.text.value == "0/1 epoch"
    bar.show(1, "diverged")
    assert bar.text.value == "1/1 epoch (diverged)"
    assert _EpochBar("sgd", 3).text.value == "0/3 epochs"


def test_the_networks_tab_sweeps_a_grid_at_once_and_puts_it_under_two_sliders(tmp_path):
    from helpers import mnist_folder

    folder = mnist_folder(tmp_path / "data", train=120, test=40)
    tab = NetworksTab()
    tab.dataset.value = "mnist"
    assert tab.model.options == ("mnist-mlp",) and tab.model.value == "mnist-mlp"
    tab.data_dir.value, tab.epochs.value, tab.train_size.value = str(folder.parent), 2, 0
    panel = tab.sweep
    panel.lrs.value, panel.momenta.value = "0.01:1:3", "0:0.9:2"
    said = []
    panel.progress.observe(lambda _: said.append(panel.status.text), names="value")
    panel.run()  # what Run sweep starts on a thread
    assert said[0] == (f"mnist-mlp with momentum on 120 images from {folder}: about 1 s for 6 cells x 2 epochs on "
                       f"120 training and 40 validation images …"), "the estimate, before the first step"
    assert panel.status.text.startswith("6 cells in one batched run") and "drag lr and momentum" in panel.status.text
    assert panel.lr.layout.display is None and len(panel.lr.options) == 3 and len(panel.momentum.options) == 2
    assert (panel.lr.value, panel.momentum.value) == panel.result.best()
    panel.worker.wait()
    first = panel.picture.value
    assert Image.open(io.BytesIO(first)).size == (1024, 368)
    panel.lr.index = (panel.lr.index + 1) % 3
    panel.worker.wait()
    assert panel.picture.value != first, "another cell, another picture"
    deadline = time.monotonic() + 60
    while len(panel.pictures) < 6 and time.monotonic() < deadline:  # the rest are drawn while idle
        time.sleep(0.1)
    assert len(panel.pictures) == 6
    panel.lrs.value = "1:0.1:3"
    panel.run()
    assert panel.status.text == "⚠ lrs: need 0 < low < high < inf and count >= 2, got 1:0.1:3", "named as the panel names it"


def test_one_job_at_a_time_says_so_when_busy():
    from landscape.app.common import OneAtATime, StatusLine

    status, release = StatusLine("test"), threading.Event()
    jobs = OneAtATime(status, "already running")
    first = jobs.start(release.wait, starting="working …")
    assert first is not None and status.text == "working …"
    assert jobs.start(release.wait) is None and status.text == "already running"
    release.set()
    jobs.join(10)
    assert not first.is_alive() and jobs.start(lambda: None) is not None


def test_the_key_explains_every_mark_an_outcome_can_carry():
    """The legend's '[12 ✖]' and '[40 ★]' are explained under the picture."""
    for is_global, mark in trajectory.MARKS.items():
        assert f"<b>[n {mark}]</b>" in KEY
        assert f"{mark} {'global' if is_global else 'other'} minimum" in KEY
