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
import numpy as np
import pytest

from browser import (CHROMIUM, SLOW, Lab, chromium, click_the_left_of_the_two_well, colour_pixels, drag, drawn,
                     image_source, kernel_idle, open_html_page, open_notebook, pixels, restart_kernel_and_run_all, run_all, save,
                     shown_image, spec_colours, text_input, wait_for_new_image, wait_for_picture, wait_for_status,
                     wait_until, widget)
from helpers import data_root
from landscape.draw import ARROW_STYLES
from landscape.lecture import LECTURE_GIFS
from landscape.schedules import SUMMARIES

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Chromium is not installed (apt-get install chromium)")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "landscape.ipynb"
EXPLORER = ("%matplotlib widget\nfrom landscape.app import explore", "explore()")  # a course's usual backend
SLICED = ("sgd+momentum", "adam", "radamw+lookahead")  # the notebook's network comparison


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
    for index, entry in enumerate(LECTURE_GIFS):  # each slide shows its paths: the first run's colour is there
        first = spec_colours(", ".join(entry.optimizers))[0]
        assert colour_pixels(shown_image(slides.nth(index)), first, 40) > 200, f"slide {index} has paths"
    notebook_width = page.locator(".jp-Notebook").bounding_box()["width"]
    for index in range(images.count()):
        assert images.nth(index).bounding_box()["width"] <= notebook_width, "figures fit the column"
    real = page.locator(".jp-CodeCell").filter(has_text="slice_comparison").locator(".jp-OutputArea-output img")
    assert real.count() == 2, "the real-network cell shows the loss curves and the landscape slice"
    curves, landscape = (real.nth(index) for index in range(2))
    assert abs(curves.bounding_box()["y"] - landscape.bounding_box()["y"]) < 5, "side by side"
    slice_picture = shown_image(landscape)
    for spec, colour in zip(SLICED, spec_colours(", ".join(SLICED))):  # every optimizer's path and real loss
        assert colour_pixels(slice_picture, colour, 40) > 100, f"{spec} is drawn on the slice"
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
    # sgd's crimson path: ~20 such pixels in the legend and the start marker without it, ~400 with it
    assert colour_pixels(contour, spec_colours("sgd")[0], 60) > 150, "sgd's path is drawn"
    # the iteration scrubber reaches the new step count
    assert widget(page, "iteration").locator(".widget-readout").inner_text().strip() == "300"
    # a learning-rate schedule: every run on it, and the title says so
    constant = shown_image(widget(page, "figure"))
    before = image_source(page)
    widget(page, "schedule").locator("select").select_option(label=f"cosine: {SUMMARIES['cosine']}")
    wait_for_new_image(page, before)
    wait_for_status(page, "computed 2 optimizers")
    kernel_idle(page)
    cosine = shown_image(widget(page, "figure"))
    title = slice(0, constant.shape[0] // 5)  # the figure's top strip: above the contour panel, its title
    assert (abs(cosine[title] - constant[title]).max(-1) > 100).sum() > 50, "the title names the schedule"
    drawn(page, 2)
    # a lecturer's projector: the figure drawn anew with larger text, every run still drawn
    text = {}
    for size in ("normal", "projector"):
        if size == "projector":
            before = image_source(page)
            widget(page, "text-size").locator("button", has_text=size).click()
            wait_for_new_image(page, before)
            kernel_idle(page)
        _, loss = drawn(page, 2)
        dark = (loss < 90).all(-1)
        spine = np.flatnonzero(dark.sum(1) > 0.5 * dark.shape[1]).max()  # the loss panel's lower edge
        text[size] = int(dark[spine + 3:].sum())  # its tick labels and "iteration k", below it
    assert text["projector"] > 1.6 * text["normal"], text


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
    assert colour_pixels(last[:, 600:], spec_colours("sgd")[0]) > 40, "the GIF shows the loss curves"
    preview = widget(page, "gif-preview")
    assert preview.is_visible() and pixels(preview).std() > 10, "the GIF is shown in the tab"
    widget(page, "export-page").click()
    message = wait_for_status(page, r"wrote .*\.html", timeout=120_000)
    path = Path(re.search(r"wrote (/.*?\.html)", message).group(1))
    assert path.parent == lab.root.resolve()
    described, outside = open_html_page(page, path)
    assert re.fullmatch(r"iteration 150, lr 0\.0\d+, momentum 0\.9: sgd .* · adam .*", described), described
    assert outside == []


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


def _inside_cells(image: np.ndarray, family) -> np.ndarray:
    """(N, 2) pixels (x, y) of the phase picture's plot area (left of its colour bars) inside a
    cell of one colour family (``family(r, g, b)``: a boolean mask), 4 pixels from its edges."""
    r, g, b = image[..., 0], image[..., 1], image[..., 2]
    mask = family(r, g, b)
    mask[:, int(0.68 * image.shape[1]):] = False  # the colour bars
    inside = mask.copy()
    for dy in range(-4, 5):
        for dx in range(-4, 5):
            inside &= np.roll(mask, (dy, dx), axis=(0, 1))
    return np.argwhere(inside)[:, ::-1]


def test_a_click_on_a_phase_cell_moves_the_sliders_and_says_what_its_run_did(lab, page):
    """The student clicks an orange cell and a blue one of the momentum phase diagram: the
    sliders move to that cell, the ring is drawn there, and under the picture the cell's η, β
    and outcome are read out: orange is '✖' (another minimum), blue '★' (the global one)."""
    _explorer(page, lab, "phase-click.ipynb")
    page.locator(".lm-TabBar-tab", has_text="Phase diagram").first.click()
    figure = widget(page, "phase-figure")
    wait_for_picture(page, "phase-figure")
    readout = widget(page, "phase-readout")
    wait_for_status(page, r"^η = 0\.02, β = 0\.9 \(the ringed cell\): reached ★ ", "phase-readout", timeout=30_000)
    families = {"✖": lambda r, g, b: (r > 200) & (r - b > 60), "★": lambda r, g, b: (b - r > 60) & (b > 120)}
    for mark in ("✖", "★"):
        image = shown_image(figure)
        cells = _inside_cells(image, families[mark])
        assert len(cells) > 50, f"the picture shows {mark} cells"
        x, y = cells[len(cells) // 2]
        window = lambda picture: picture[y - 15:y + 16, x - 15:x + 16]
        assert (window(image).max(-1) < 60).sum() < 5, "no ring there yet"
        sliders = [widget(page, name).locator(".widget-readout") for name in ("lr", "momentum")]
        before, set_before = image_source(page, "phase-figure"), [float(s.inner_text()) for s in sliders]
        said_before = readout.text_content()
        box = figure.bounding_box()
        page.mouse.click(box["x"] + (x + 0.5) * box["width"] / image.shape[1],
                         box["y"] + (y + 0.5) * box["height"] / image.shape[0])
        wait_for_new_image(page, before, "phase-figure")
        wait_until(page, ".lsc-phase-readout", "(element, old) => element.textContent !== old", said_before)
        said = re.match(r"η = (\S+), β = (\S+) \(the ringed cell\): reached (\S) at \(", readout.text_content())
        assert said and said.group(3) == mark, readout.text_content()
        now = [float(s.inner_text()) for s in sliders]
        assert now == [float(said.group(1)), float(said.group(2))] and now != set_before, "the sliders moved there"
        assert (window(shown_image(figure)).max(-1) < 60).sum() > 30, "the ring is drawn on the clicked cell"


def _arrow_pixels(picture):
    """Where the contour panel shows heavy ball's momentum term: a (H, W) mask (its pink is in
    no path's colour and not in viridis; the gradient step's yellow is near viridis's top)."""
    contour = picture[:, : int(0.55 * picture.shape[1])]
    rgb = [int(ARROW_STYLES["momentum"]["color"][i:i + 2], 16) for i in (1, 3, 5)]
    return (np.abs(contour - rgb) < 40).all(-1)


def _readout(page) -> int:
    return int(widget(page, "iteration").locator(".widget-readout").inner_text().strip())


def test_a_steps_arrows_at_a_scrubbed_iteration_and_the_step_buttons(lab, page):
    """Heavy ball's arrows: chosen, scrubbed to an iteration, ▶ moves one iteration on and the
    arrows with it, ◀ brings back the very picture of the iteration before (the frame kept)."""
    _explorer(page, lab, "arrows.ipynb")
    assert not page.locator(".lsc-arrows-key").count(), "no arrows at first"
    before = image_source(page)
    widget(page, "vectors").locator("select").select_option("momentum")
    wait_for_new_image(page, before)
    key = page.locator(".lsc-arrows-key").first
    key.wait_for()
    assert "arrows of momentum" in key.inner_text() and "−ηβuₖ₋₁: momentum term" in key.inner_text()
    assert _readout(page) == 149, "arrows chosen at the last iteration show the last step taken"
    before = image_source(page)
    track = widget(page, "iteration").locator(".noUi-target").bounding_box()["width"]
    drag(page, widget(page, "iteration").locator(".noUi-handle"), -0.6 * track)  # scrub back
    wait_for_new_image(page, before)
    page.wait_for_timeout(1500)  # the frame of the drag's last value
    kernel_idle(page)
    k = _readout(page)
    assert 5 < k < 140, k
    wait_until(page, ".lsc-iteration .widget-readout", "(element, k) => element.textContent.trim() == k", k)
    scrubbed_source = image_source(page)
    scrubbed = shown_image(widget(page, "figure"))
    at_k = _arrow_pixels(scrubbed)
    assert at_k.sum() > 40, "the momentum term is drawn"
    widget(page, "step-forward").click()
    wait_for_new_image(page, scrubbed_source)
    wait_until(page, ".lsc-iteration .widget-readout", "(element, k) => element.textContent.trim() == k", k + 1)
    page.wait_for_timeout(500)
    after = shown_image(widget(page, "figure"))
    at_next = _arrow_pixels(after)
    assert at_next.sum() > 40 and (at_k != at_next).sum() > 20, "the arrows moved with the iteration"
    changed = (np.abs(after - scrubbed).max(-1) > 60)[:, : at_k.shape[1]]
    near_arrows = at_k | at_next
    for _ in range(6):  # within a few pixels of an arrow: their outlines and heads
        near_arrows = near_arrows | np.roll(near_arrows, 1, 0) | np.roll(near_arrows, -1, 0) \
            | np.roll(near_arrows, 1, 1) | np.roll(near_arrows, -1, 1)
    assert (changed & near_arrows).sum() > 0.5 * (changed & ~near_arrows).sum(), \
        "the picture changed where the arrows are (elsewhere: the new path segment, the counter)"
    forward_source = image_source(page)
    widget(page, "step-back").click()
    wait_until(page, ".lsc-iteration .widget-readout", "(element, k) => element.textContent.trim() == k", k)
    wait_for_new_image(page, forward_source)
    page.wait_for_timeout(500)
    assert np.array_equal(shown_image(widget(page, "figure")), scrubbed), "◀: the picture of iteration k again"
    widget(page, "vectors").locator("select").select_option(label="none")
    wait_until(page, ".lsc-key", "element => !element.querySelector('.lsc-arrows-key')")
    wait_for_picture(page)
    assert _arrow_pixels(shown_image(widget(page, "figure"))).sum() < 10, "no arrows once none is chosen (JPEG: a few)"


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
    assert all(colour_pixels(curves, colour) > 100 for colour in spec_colours("sgd, adam")), "each in its colour"
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
    sgd, adam = spec_colours("sgd, adam")
    assert colour_pixels(contour, sgd) > 30, "sgd's path on the contour"
    assert colour_pixels(loss, sgd) > 100 and colour_pixels(loss, adam) > 100, "both real losses"
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
    curves = picture[:, int(0.6 * width):]
    assert colour_pixels(curves, spec_colours("momentum")[0]) > 50, "its loss curves, in the optimizer's colour"
    before = image_source(page, "sweep-figure")
    drag(page, widget(page, "sweep-lr").locator(".noUi-handle"), -200)
    wait_for_new_image(page, before, "sweep-figure")
    other = shown_image(figure)
    assert other.shape == picture.shape
    moved = (abs(other[:, : width // 2] - picture[:, : width // 2]).max(-1) > 100).sum()
    assert moved > 30, "the ring marking the sliders' cell moved to the other cell"


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
        for name in ("surface", "lr", "momentum", "figure", "play", "step-back", "step-forward", "iteration", "vectors",
                     "export", "export-page", "save", "load", "key"):
            element = widget(page, name).bounding_box()
            assert column["y"] <= element["y"] and element["y"] + element["height"] <= column["y"] + column["height"] + 1, \
                f"{name} is visible together with the others"
        for tab in ("Landscape", "Phase diagram", "Real networks"):
            page.locator(".lm-TabBar-tabLabel", has_text=tab).first.click()
            page.wait_for_timeout(500)
            assert page.evaluate(OVERFLOWING) == [], f"{tab}: no box wider than its place (a scroll bar)"
            assert page.evaluate(CUT_INPUTS) == [], f"{tab}: every text box shows its right border"


# boxes shown whose content is wider than they are (a horizontal scroll bar), and text boxes whose
# right edge lies beyond their container's
OVERFLOWING = """() => [...document.querySelectorAll('.lsc-explorer .widget-box')]
    .filter(box => box.offsetParent && box.scrollWidth > box.clientWidth + 1)
    .map(box => `${box.className} ${box.scrollWidth} > ${box.clientWidth}`)"""
CUT_INPUTS = """() => [...document.querySelectorAll('.lsc-explorer input[type=text], .lsc-explorer input[type=number]')]
    .filter(input => input.offsetParent)
    .filter(input => input.getBoundingClientRect().right > input.closest('.widget-box').getBoundingClientRect().right + 0.5)
    .map(input => input.closest('[class*=lsc-]')?.className || input.outerHTML)"""
