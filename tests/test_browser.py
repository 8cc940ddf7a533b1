"""User journeys in a real browser: JupyterLab serves notebooks, Chromium (Playwright) clicks
through the explorer, and each test asserts what the user gets: the pixels of the displayed
images, the files written, the text on screen. One JupyterLab server for all journeys; each
shuts its kernels down when it ends.

Needs Chromium (`make test` installs Debian's package when run as root); without it these
tests skip and say why."""

import re
import shutil
from pathlib import Path

import imageio.v3 as iio
import pytest

from browser import (CHROMIUM, SLOW, Lab, chromium, click_the_left_of_the_two_well, colour_pixels, drag, drawn,
                     image_source, kernel_idle, open_notebook, pixels, restart_kernel_and_run_all, run_all, save,
                     shown_image, text_input, wait_for_new_image, wait_for_picture, wait_for_status, widget)
from helpers import data_root
from landscape.draw import colour
from landscape.lecture import LECTURE_GIFS

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Chromium is not installed (apt-get install chromium)")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "landscape.ipynb"
EXPLORER = ("%matplotlib widget\nfrom landscape.app import explore", "explore()")  # a course's usual backend


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The folder LANDSCAPE_DATA names: real CIFAR-10 and MNIST images (the shared subsets), else
    small folders in the official formats."""
    return data_root(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def mnist_data(data):
    return data / "mnist"


@pytest.fixture(scope="module")
def lab(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("lab") / "root"
    root.mkdir()
    server = Lab(root, env={"LANDSCAPE_DATA": str(data), "LANDSCAPE_CIFAR_URL": "http://127.0.0.1:9/offline",
                            "LANDSCAPE_MNIST_URL": "http://127.0.0.1:9/offline"})
    yield server
    server.close()


@pytest.fixture(autouse=True)
def no_kernel_left(lab):
    """When a journey ends, passed or failed (and its browser closed), its notebooks' kernels are
    shut down: each holds ~500 MB and would otherwise run until the server stops, beside the next
    journeys'. Then the server runs no kernel."""
    yield
    lab.shut_down_kernels()
    assert lab.api("kernels") == [], "no kernel is left running, with a notebook or without"
    assert lab.wait_for_kernels(0) == 0, "every kernel process has ended"


def _explorer(page, lab, name: str) -> None:
    """A notebook with the explorer, run; waits for its first picture."""
    open_notebook(page, lab.notebook(name, *EXPLORER))
    run_all(page)
    widget(page, "figure").wait_for(timeout=SLOW)
    wait_for_status(page, "computed")
    wait_for_picture(page)


def test_the_notebook_runs_in_a_fresh_kernel_without_errors_or_stray_output(lab, page):
    shutil.copy(NOTEBOOK, lab.root / NOTEBOOK.name)
    open_notebook(page, lab.tree(NOTEBOOK.name))
    restart_kernel_and_run_all(page, timeout=600_000)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'], "
                          ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
    assert errors.count() == 0, errors.all_inner_texts()
    text = page.locator(".jp-Notebook").inner_text()
    assert "FigureCanvas" not in text and "<Figure" not in text, "no stray repr under the cells"
    images = page.locator(".jp-OutputArea-output img:visible")
    assert images.count() >= 5, "the explorer and the lecture figures are shown"
    slides = page.locator(".jp-CodeCell").filter(has_text="lecture.LECTURE_GIFS").locator(".jp-OutputArea-output img")
    assert slides.count() == len(LECTURE_GIFS), "one figure per slide of the lecture table"
    for index in range(slides.count()):  # each slide shows its paths: the first run's colour is there
        assert colour_pixels(shown_image(slides.nth(index)), colour(0), 40) > 200, f"slide {index} has paths"
    notebook_width = page.locator(".jp-Notebook").bounding_box()["width"]
    for index in range(images.count()):
        assert images.nth(index).bounding_box()["width"] <= notebook_width, "figures fit the column"
    real = page.locator(".jp-CodeCell").filter(has_text="slice_comparison").locator(".jp-OutputArea-output img")
    assert real.count() == 2, "the real-network cell shows the loss curves and the landscape slice"
    curves, landscape = (real.nth(index) for index in range(2))
    assert abs(curves.bounding_box()["y"] - landscape.bounding_box()["y"]) < 5, "side by side"
    slice_picture = shown_image(landscape)
    for index in range(3):  # every optimizer's path and real loss
        assert colour_pixels(slice_picture, colour(index), 40) > 100, f"optimizer {index} is drawn on the slice"
    wait_for_status(page, "computed")
    drawn(page, 4)


def test_new_specs_twice_and_new_steps_still_draw_paths_and_loss_curves(lab, page):
    _explorer(page, lab, "specs.ipynb")
    for specs, runs in (("radamw+nesterov+gradnoise+lrdropout+lookahead, adam", 2), ("sgd, adam", 2)):
        before = image_source(page)
        text_input(page, "optimizers", specs)
        wait_for_new_image(page, before)
        wait_for_status(page, "computed 2 optimizers")
        drawn(page, runs)
    before = image_source(page)
    text_input(page, "steps", "300")
    wait_for_new_image(page, before)
    kernel_idle(page)
    contour, _ = drawn(page, 2)
    # sgd's red path (green would match the contours' colours): ~20 red pixels in the legend and
    # the start marker without it, ~400 with it
    assert colour_pixels(contour, colour(0), 60) > 150, "sgd's path is drawn"
    # the iteration scrubber reaches the new step count
    assert widget(page, "iteration").locator(".widget-readout").inner_text().strip() == "300"


def test_after_a_page_reload_a_slider_move_still_redraws_the_paths(lab, page):
    _explorer(page, lab, "reload.ipynb")
    save(page)
    page.reload()
    widget(page, "figure").wait_for(timeout=SLOW)
    wait_for_picture(page)
    drawn(page, 4)
    before = image_source(page)
    drag(page, widget(page, "lr").locator(".noUi-handle"), 15)  # a few values up: every run still draws
    wait_for_new_image(page, before)
    page.wait_for_timeout(1500)  # the last frame of the drag
    drawn(page, 4)


def test_a_click_on_the_landscape_moves_the_start(lab, page):
    _explorer(page, lab, "click.ipynb")
    click_the_left_of_the_two_well(page)


def test_export_gif_writes_many_distinct_frames_where_the_message_says(lab, page):
    _explorer(page, lab, "export.ipynb")
    widget(page, "export").click()
    message = wait_for_status(page, r"wrote .*\.gif", timeout=120_000)
    path = Path(re.search(r"wrote (/.*?\.gif)", message).group(1))
    assert path.parent == lab.root.resolve(), "outside a checkout: the notebook's folder"
    frames = iio.imread(path, index=None)
    assert frames.shape[0] == 151 and frames.shape[1:3] == (540, 960)
    assert len({frame.tobytes() for frame in frames}) > 100, "the paths grow from frame to frame"
    last = frames[-1][..., :3].astype(int)
    assert colour_pixels(last[:, 600:], colour(0)) > 40, "the GIF shows the loss curves"
    preview = widget(page, "gif-preview")
    assert preview.is_visible() and pixels(preview).std() > 10, "the GIF is shown in the tab"


def test_the_phase_dropdown_replaces_its_figure(lab, page):
    _explorer(page, lab, "phase.ipynb")
    page.locator(".lm-TabBar-tab", has_text="Phase diagram").first.click()
    figure = widget(page, "phase-figure")
    wait_for_picture(page, "phase-figure")
    dropdown = widget(page, "phase-optimizer").locator("select")
    for spec in ("nesterov", "adam", "momentum"):
        before = image_source(page, "phase-figure")
        dropdown.select_option(spec)
        wait_for_new_image(page, before, "phase-figure")
    panel = page.locator(".lm-TabPanel-stackedPanel:visible, .widget-tab-contents > div:visible").first
    assert page.locator(".lsc-phase-figure:visible").count() == 1
    assert panel.locator("img:visible").count() == 1, "one figure, redrawn"
    box, viewport = figure.bounding_box(), page.viewport_size
    assert box["x"] + box["width"] <= viewport["width"], "on screen"


def _small_run(page, train_size: int, epochs: int) -> str:
    """In the Real networks tab: sgd and adam on a few images; the status line once it ends."""
    page.locator(".lm-TabBar-tab", has_text="Real networks").first.click()
    text_input(page, "net-optimizers", "sgd, adam")
    text_input(page, "net-lr", "sgd=0.05, adam=0.001")
    text_input(page, "net-train-size", str(train_size))
    text_input(page, "net-epochs", str(epochs))
    widget(page, "net-run").click()
    return wait_for_status(page, "finished|⚠", name="net-status", timeout=300_000)


def test_a_small_real_network_run_shows_curves_and_the_final_status(lab, page, data):
    _explorer(page, lab, "networks.ipynb")
    message = _small_run(page, train_size=300, epochs=2)
    assert message.startswith("finished") and "sgd finished" in message and "adam finished" in message
    curves = shown_image(widget(page, "net-curves"))
    assert colour_pixels(curves, colour(0)) > 100 and colour_pixels(curves, colour(1)) > 100
    table = widget(page, "net-table").inner_text()
    assert table.count("finished") == 2
    assert "2/2 epochs" in widget(page, "net-progress").inner_text()


def _reload_in_a_fresh_kernel(page) -> None:
    """Save, reload the page, restart the kernel and run all: the explorer as a new session finds it."""
    save(page)
    page.reload()
    page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=SLOW)
    kernel_idle(page)
    restart_kernel_and_run_all(page)
    widget(page, "figure").wait_for(timeout=SLOW)
    wait_for_status(page, "computed")


def _slice_of_a_small_run(page) -> None:
    """In the Real networks tab: a small run of sgd and adam, then its landscape slice; checks
    the slice's picture (paths in the contour, both real-loss curves) and its exported GIF."""
    # 24 steps: 5 recorded points, every 6th step
    assert _small_run(page, train_size=1000, epochs=3).startswith("finished")
    text_input(page, "slice-grid", "9")
    text_input(page, "slice-images", "200")
    widget(page, "slice-run").click()
    message = wait_for_status(page, "off the plane|⚠", name="slice-status", timeout=300_000)
    assert message.startswith("explained variance ratio (centred PCA): ") and "sgd@0.05" in message and "adam@0.001" in message
    picture = shown_image(widget(page, "slice-figure"))
    width = picture.shape[1]
    contour, loss = picture[:, : int(0.55 * width)], picture[:, int(0.62 * width):]
    assert colour_pixels(contour, colour(0)) > 30, "sgd's path on the contour"
    assert colour_pixels(loss, colour(0)) > 100 and colour_pixels(loss, colour(1)) > 100, "both real losses"
    before = image_source(page, "slice-figure")
    widget(page, "slice-loss").locator("button", has_text="validation").click()
    wait_for_new_image(page, before, "slice-figure")
    widget(page, "slice-gif").click()
    message = wait_for_status(page, r"wrote .*\.gif|⚠", name="slice-status", timeout=120_000)
    frames = iio.imread(Path(re.search(r"wrote (/.*?\.gif)", message).group(1)), index=None)
    assert frames.shape[0] >= 5 and frames.shape[1:3] == (540, 960)
    assert len({frame.tobytes() for frame in frames}) == frames.shape[0], "the paths grow frame by frame"
    assert pixels(widget(page, "slice-gif-preview")).std() > 10, "the GIF is shown in the tab"


def test_the_landscape_slice_of_a_run_after_a_reload_and_in_a_fresh_kernel(lab, page):
    _explorer(page, lab, "slice.ipynb")
    _slice_of_a_small_run(page)
    _reload_in_a_fresh_kernel(page)
    assert widget(page, "slice-run").is_disabled(), "a fresh kernel: no run, nothing to slice yet"
    _slice_of_a_small_run(page)


TIMELINE = """() => {
    const figure = document.querySelector(".lsc-slice-figure"), status = document.querySelector(".lsc-slice-status");
    window.sliceTimeline = [];
    new MutationObserver(() => window.sliceTimeline.push(["picture", figure.getAttribute("src")]))
        .observe(figure, {attributes: true, attributeFilter: ["src"]});
    new MutationObserver(() => window.sliceTimeline.push(["status", status.textContent]))
        .observe(status, {childList: true, subtree: true, characterData: true}); }"""


def test_the_slice_says_how_long_before_it_starts_and_shows_a_coarse_picture_before_the_full_one(lab, page):
    _explorer(page, lab, "coarse.ipynb")
    assert _small_run(page, train_size=1000, epochs=3).startswith("finished")
    text_input(page, "slice-grid", "31")  # a second or more per grid on two cores: long enough to see both pictures
    estimate = r"about \d+ s for 31 x 31 points on [\d,]+ (training and [\d,]+ validation )?images; " \
               r"a coarse 11 x 11 picture first, in about \d+ s"
    offered = wait_for_status(page, "31 x 31", name="slice-status", timeout=60_000)
    assert re.fullmatch(f"Landscape slice: {estimate}", offered), "said before anything starts"
    page.evaluate(TIMELINE)  # every picture and status line the page shows from now on, in order
    widget(page, "slice-run").click()
    message = wait_for_status(page, "off the plane|⚠", name="slice-status", timeout=300_000)
    assert message.startswith("explained variance ratio (centred PCA): "), message
    timeline = page.evaluate("window.sliceTimeline")
    kinds = [kind for kind, _ in timeline]
    assert kinds[0] == "status" and re.fullmatch(estimate, timeline[0][1]), "the estimate comes first"
    pictures = [index for index, kind in enumerate(kinds) if kind == "picture"]
    assert len(pictures) == 2 and timeline[pictures[0]][1] != timeline[pictures[1]][1], "coarse, then full"
    between = [text for kind, text in timeline[pictures[0]:pictures[1]] if kind == "status"]
    assert any(text.startswith("coarse 11 x 11 picture; about ") for text in between), "said while it refines"
    assert shown_image(widget(page, "slice-figure")).shape == (540, 960, 3)


def _sweep_in_the_tab(page, mnist_data) -> None:
    """In the Real networks tab: a 3 x 2 sweep of the MNIST MLP; checks the cell the sliders show
    (marked on the phase diagram, its loss curves beside it) and that a drag shows another."""
    page.locator(".lm-TabBar-tab", has_text="Real networks").first.click()
    widget(page, "net-dataset").locator("select").select_option(label="MNIST")
    text_input(page, "net-data-dir", str(mnist_data))
    text_input(page, "net-train-size", "500")
    text_input(page, "net-epochs", "2")
    text_input(page, "sweep-lrs", "0.01:1:3")
    text_input(page, "sweep-momenta", "0:0.9:2")
    widget(page, "sweep-run").click()
    message = wait_for_status(page, "cells in one batched run|⚠", name="sweep-status", timeout=300_000)
    assert message.startswith("6 cells in one batched run"), message
    figure = widget(page, "sweep-figure")
    wait_for_picture(page, "sweep-figure")
    picture = shown_image(figure)
    width = picture.shape[1]
    assert colour_pixels(picture[:, : width // 2], "#ff0000", 40) > 30, "the sliders' cell is marked"
    curves = picture[:, int(0.6 * width):]
    assert colour_pixels(curves, colour(0)) > 50 and colour_pixels(curves, colour(2)) > 50, "its loss curves"
    before = image_source(page, "sweep-figure")
    drag(page, widget(page, "sweep-lr").locator(".noUi-handle"), -200)
    wait_for_new_image(page, before, "sweep-figure")
    assert shown_image(figure).shape == picture.shape


def test_a_sweep_in_the_real_networks_tab_after_a_reload_and_in_a_fresh_kernel(lab, page, mnist_data):
    _explorer(page, lab, "sweep.ipynb")
    _sweep_in_the_tab(page, mnist_data)
    _reload_in_a_fresh_kernel(page)
    _sweep_in_the_tab(page, mnist_data)


def test_a_wrong_data_folder_is_an_error_and_creates_nothing(lab, page, tmp_path):
    _explorer(page, lab, "typo.ipynb")
    page.locator(".lm-TabBar-tab", has_text="Real networks").first.click()
    typo = tmp_path / "typo" / "deep"
    text_input(page, "net-data-dir", str(typo))
    widget(page, "net-run").click()
    message = wait_for_status(page, "⚠", name="net-status", timeout=120_000)
    assert f"the data folder {typo} does not exist" in message
    assert not (tmp_path / "typo").exists()
    assert not widget(page, "net-curves").is_visible() and widget(page, "net-table").inner_text() == ""


def test_the_explorer_fits_a_laptop_screen_with_the_file_browser_open(lab):
    with chromium(viewport=(1366, 680)) as page:  # a 1366x768 screen less the browser's bars
        _explorer(page, lab, "laptop.ipynb")
        assert page.locator(".jp-FileBrowser").first.is_visible(), "the sidebar is open"
        explorer = widget(page, "explorer")
        explorer.scroll_into_view_if_needed()
        page.evaluate("element => element.scrollIntoView({block: 'start'})", explorer.element_handle())
        box = explorer.bounding_box()
        column = page.locator(".jp-NotebookPanel-notebook").first.bounding_box()
        assert box["x"] + box["width"] <= column["x"] + column["width"] + 1, "no horizontal overflow"
        assert box["height"] <= column["height"], f"{box['height']:.0f} px tall for {column['height']:.0f} px"
        for name in ("surface", "lr", "momentum", "figure", "play", "iteration", "export", "save", "load", "key"):
            element = widget(page, name).bounding_box()
            assert column["y"] <= element["y"] and element["y"] + element["height"] <= column["y"] + column["height"] + 1, \
                f"{name} is visible together with the others"
