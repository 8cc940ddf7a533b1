"""The explorer as one HTML file: what ``page`` writes (its setting, version and command, its packed
numbers read back as the format says), what it refuses before computing, and that a failed
export leaves nothing. The page's drawing is judged in Chromium (test_browser_html_page.py)."""

from __future__ import annotations

import base64
import json
import re
import zlib
from pathlib import Path

import numpy as np
import pytest

from landscape import page as html_page
from landscape.app import Explorer
from landscape.cli import main
from landscape.lecture import LECTURE_GIFS, write_pages
from landscape.page import numbers
from landscape.setting import LEARNING_RATES, MOMENTA, Setting, Sweep

SMALL = Setting.checked({"surface": "quadratic", "optimizers": "sgd, adam", "steps": 20, "lr": 0.05})


@pytest.fixture(scope="module")
def small_page(tmp_path_factory) -> tuple[Path, Sweep]:
    sweep = Sweep(SMALL)
    path = tmp_path_factory.mktemp("page") / "small.html"
    html_page.write_page(path, sweep)
    return path, sweep


def unpacked(text: str) -> tuple[dict, dict]:
    """The block of a page, read as numbers.py's docstring says (not with its code): zlib data in
    base64; a 4-byte length, the JSON, then each array plane by plane, maybe as differences."""
    packed = zlib.decompress(base64.b64decode(text))
    length = int.from_bytes(packed[:4], "little")
    tables = json.loads(packed[4:4 + length])
    arrays, start = {}, 4 + length
    kinds = {"u8": np.uint8, "u16": np.uint16, "i16": np.int16, "f32": np.float32}
    for name, entry in tables["arrays"].items():
        kind = np.dtype(kinds[entry["type"]])
        size = int(np.prod(entry["shape"]))
        planes = np.frombuffer(packed, np.uint8, size * kind.itemsize, start + entry["offset"])
        values = planes.reshape(kind.itemsize, size).T.copy().view(kind).reshape(entry["shape"])
        if entry["differences"]:
            values = np.cumsum(values, axis=-1, dtype=kind)  # wraps around as the page's sums do
        arrays[name] = values
    return tables, arrays


def test_a_page_holds_its_setting_version_command_and_no_outside_reference(small_page):
    path, _ = small_page
    text = path.read_text(encoding="utf-8")
    assert Setting.read(path)[0] == SMALL, "the explorer's Load opens the same setting"
    assert re.search(r'<meta name="generator" content="landscape \S+">', text)
    assert "python -m landscape page --surface quadratic --optimizers &#x27;sgd, adam&#x27;" in text
    assert "default-src 'none'" in text, "the browser is told to make no request"
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", text), "nothing is fetched from elsewhere"


def test_the_packed_paths_are_the_sweeps_runs_within_a_quantum(small_page):
    path, sweep = small_page
    block = re.search(r'<script type="text/plain" id="landscape-numbers">(.*?)</script>', path.read_text(), re.S)[1]
    tables, arrays = unpacked(block.strip())
    assert tables["steps"] == SMALL.steps and [run["text"] for run in tables["runs"]] == list(sweep.runs)
    i, j = len(LEARNING_RATES) // 2, len(MOMENTA) - 1
    cell = i * len(MOMENTA) + j
    for k, runs in enumerate(sweep.runs.values()):
        row = arrays["row"][cell, k]
        assert row == runs.grid.row(i, j)
        (x0, x1), (y0, y1) = html_page.build.escape_bounds(sweep.surface)
        points = runs.points[:, row].numpy()
        inside = np.isfinite(points).all(-1) & (points[:, 0] >= x0) & (points[:, 0] <= x1)
        read = np.stack([numbers.dequantise(arrays[f"points{k}"][row, 0], x0, x1),
                         numbers.dequantise(arrays[f"points{k}"][row, 1], y0, y1)], -1)
        quantum = max(x1 - x0, y1 - y0) / numbers.LEVELS
        assert np.abs(read[inside] - points[inside]).max() <= quantum, runs.spec.text


def test_quantise_keeps_values_within_half_a_level_and_marks_what_is_missing():
    values = np.array([-1.0, 0.0, 0.3, 2.0, np.nan, np.inf])
    quantised = numbers.quantise(values, -1.0, 2.0)
    assert quantised[4] == quantised[5] == numbers.NONE
    back = numbers.dequantise(quantised, -1.0, 2.0)
    assert np.abs(back[:4] - values[:4]).max() <= 0.5 * 3.0 / numbers.LEVELS + 1e-12
    assert np.isnan(back[4:]).all()


def test_a_page_too_large_is_refused_before_its_sweep_with_its_size_and_what_to_lower(monkeypatch, tmp_path,
                                                                                      capsys):
    looked = []  # the sweeps computed: only one of a single step, which says the sizes

    def sweep(setting, steps=None):
        looked.append(steps)
        return Sweep(setting, steps=steps)

    monkeypatch.setattr(html_page.build, "Sweep", sweep)
    setting = Setting.checked({"surface": "quadratic", "steps": 1000,
                               "optimizers": "sgd, momentum, nesterov, adam, rmsprop, adagrad, nadam, radam"})
    with pytest.raises(ValueError, match=r"8 optimizers x 1000 steps would hold \d+\.\d MB .*lower the steps"):
        html_page.check_page(setting)
    assert looked == [1]
    out = tmp_path / "big.html"
    assert main(["page", "--surface", "quadratic", "--optimizers", setting.optimizers, "--steps", "1000",
                 "--out", str(out)]) == 2
    assert "lower the steps or the number of optimizers" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("arguments, message", [
    (["--out", "x.gif"], r"ending in \.html"),
    (["--steps", "5", "--out", "x.html"], r"steps is 5"),
    (["--start", "9,9", "--out", "x.html"], r"start is \(9, 9\)"),
    (["--vectors", "rmsprop", "--out", "x.html"], r"Invalid --vectors: 'rmsprop'"),
    (["--lr", "0", "--out", "x.html"], r"lr is 0"),
    (["--optimizers", "sgd, sgd", "--out", "x.html"], r"sgd"),
    (["--out", "no/such/folder/x.html"], r"does not exist"),
])
def test_the_page_command_refuses_bad_input_in_one_line(arguments, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    if "--optimizers" not in arguments:
        arguments = ["--optimizers", "sgd, adam", *arguments]
    assert main(["page", "--surface", "quadratic", *arguments]) == 2
    error = capsys.readouterr().err
    assert re.search(message, error) and error.count("\n") == 1, error
    assert list(tmp_path.iterdir()) == []


def test_the_page_command_writes_a_page_at_the_sliders_nearest_values(tmp_path, capsys):
    out = tmp_path / "q.html"
    assert main(["page", "--surface", "quadratic", "--optimizers", "sgd, adam", "--steps", "20", "--momentum", "0.93",
                 "--out", str(out)]) == 0
    assert "--momentum 0.95" in capsys.readouterr().out
    setting, _ = Setting.read(out)
    assert setting.momentum == 0.95 and setting.optimizers == "sgd, adam" and setting.steps == 20


def test_a_failed_export_leaves_the_earlier_page_as_it_was(monkeypatch, tmp_path, small_page):
    _, sweep = small_page
    out = tmp_path / "page.html"
    out.write_text("an earlier page")

    def fails(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(html_page.build, "page_html", fails)
    with pytest.raises(RuntimeError):
        html_page.write_page(out, sweep)
    assert out.read_text() == "an earlier page" and [p.name for p in tmp_path.iterdir()] == ["page.html"]


def test_the_explorers_export_page_writes_a_file_offers_it_and_load_opens_it(tmp_path):
    explorer = Explorer(surface="quadratic", optimizers="sgd, adam", steps=20, lr=0.05)
    explorer.gif_folder.value = str(tmp_path)
    written = Path(explorer.export_page())
    assert written.parent == tmp_path and written.name == "quadratic_sgd_adam_lr0.0501_m0.9.html"
    assert f"wrote {written}" in explorer.status.widget.value
    assert 'download="quadratic_sgd_adam_lr0.0501_m0.9.html"' in explorer.page_download.widget.value
    other = Explorer(surface="two-well", steps=30)
    other.load_state(str(written))
    assert other.setting == explorer.setting
    assert "loaded the setting" in other.status.widget.value


def test_make_pages_writes_each_slide_a_setting_holds_and_says_which_it_leaves_out(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(html_page.build, "page_html", lambda sweep, **options: sweep.setting.to_json())
    written = write_pages(tmp_path / "pages")
    said = capsys.readouterr().out
    holdable = [entry for entry in LECTURE_GIFS if entry.setting() is not None]
    assert [Path(path).name for path in written] == [Path(entry.file).with_suffix(".html").name for entry in holdable]
    assert "left out gd_vs_sgd.gif: its runs need batch_size" in said
    two_well = Setting.from_json((tmp_path / "pages" / "two_well.html").read_text())
    assert two_well.optimizers == "sgd, momentum, nesterov, adam@0.05" and two_well.lr == 0.01


def test_load_refuses_an_html_file_without_a_setting(tmp_path):
    deck = tmp_path / "deck.html"
    deck.write_text("<!DOCTYPE html><html><body><h1>Lecture 4</h1></body></html>")
    with pytest.raises(ValueError, match=r"deck\.html is an HTML page without a landscape setting"):
        Setting.parsed(deck.read_bytes(), "deck.html")
    explorer = Explorer(surface="quadratic", steps=20)
    before = explorer.setting
    explorer.load_state(str(deck))
    assert "without a landscape setting" in explorer.status.widget.value and explorer.setting == before
