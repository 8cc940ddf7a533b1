"""A network sweep's HTML page (``landscape.page.network``): built from a tiny real sweep, holding
the sweep's own numbers, refused when too large, written whole or not at all; ``sweep --model ...
--page`` and the sweep panel's *Export page*. In Chromium: test_browser_page_network.py."""

import base64
import html
import io
import json
import re
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import float32_default, mnist_folder  # noqa: F401 - an autouse fixture
from landscape import cli
from landscape.page import network, numbers
from landscape.nets import mnist, sweep


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return mnist.load(mnist_folder(tmp_path_factory.mktemp("mnist"), train=60, test=20), val_size=20)


@pytest.fixture(scope="module")
def result(tiny):
    """3 lrs (the last one diverges) x 2 momenta, 2 epochs of 4 batches."""
    return sweep.sweep_network("mnist-mlp", "momentum", [0.01, 0.1, 1e30], [0.0, 0.9], data=tiny, epochs=2,
                               batch_size=16)


def block(page: str) -> tuple[dict, dict]:
    """The page's numbers as its script unpacks them: its tables and arrays (numbers.py's layout)."""
    text = re.search(r'<script type="text/plain" id="landscape-numbers">(.*?)</script>', page, re.S).group(1)
    packed = zlib.decompress(base64.b64decode(text.strip()))
    length = int.from_bytes(packed[:4], "little")
    tables = json.loads(packed[4:4 + length])
    kinds = {"u8": np.uint8, "u16": np.uint16, "i16": np.int16, "f32": np.float32}
    arrays = {}
    for name, entry in tables["arrays"].items():
        kind = np.dtype(kinds[entry["type"]])
        size = int(np.prod(entry["shape"]))
        start = 4 + length + entry["offset"]
        planes = np.frombuffer(packed[start:start + size * kind.itemsize], np.uint8).reshape(kind.itemsize, size)
        values = planes.T.copy().view(kind).reshape(entry["shape"])
        if entry["differences"]:
            values = np.cumsum(values, axis=-1, dtype=kind)
        arrays[name] = values
    return tables, arrays


def test_the_page_holds_the_sweeps_own_numbers_and_asks_for_nothing_outside_itself(result):
    page = network.network_page_html(result, options={"batch_size": 16, "seed": 0})
    tables, arrays = block(page)
    steps, epochs = result.run.step_losses.shape[0], len(result.run.epochs)
    assert arrays["batch"].shape == (6, steps) and arrays["val"].shape == (6, epochs)
    assert (tables["start"]["lr"], tables["start"]["momentum"]) == result.best(), "opened at the best cell"
    axes, (low, high) = tables["axes"], tables["range"]
    for i in range(3):
        for j in range(2):
            cell = result.grid.row(i, j)
            assert tables["readouts"][cell] == network.readout(result, i, j)
            assert tables["heading"]["texts"][cell] == result.cell_title(i, j)
            recorded = {"batch": result.run.step_losses[:, cell],
                        "train": torch.stack([epoch.train_loss[cell] for epoch in result.run.epochs]),
                        "val": torch.stack([epoch.val_loss[cell] for epoch in result.run.epochs])}
            for name, values in recorded.items():  # each loss as the sweep recorded it, or not drawn
                values = values.double().numpy()
                shown = np.isfinite(values) & (values > 0)
                assert ((arrays[name][cell] != numbers.NONE) == shown).all()
                read = numbers.dequantise(arrays[name][cell], low, high)
                np.testing.assert_allclose(read[shown], np.log10(values[shown]), atol=(high - low) / numbers.LEVELS)
                if shown.any():  # on an axis that holds it
                    bottom, top = axes[arrays["axis"][cell]]["decades"]
                    assert bottom <= np.log10(values[shown]).min() and np.log10(values[shown]).max() <= top
    x, y, width, height = tables["box"]
    for axis in axes:  # the loss axis's decades at the bottom and top of the curves' box
        a, b = axis["y"]
        ends = [a + b * (decade - low) / (high - low) * numbers.LEVELS for decade in axis["decades"]]
        np.testing.assert_allclose(ends, [y + height, y], atol=0.01)
    assert "diverged at step" in tables["readouts"][result.grid.row(2, 0)], "the huge lr diverged"
    assert 'http-equiv="Content-Security-Policy" content="default-src \'none\';' in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)|url\((https?:|//)|@import""", page), \
        "nothing is fetched: pictures, font and script are in the file"
    setting = json.loads(re.search(r'id="landscape-network-sweep">(.*?)</script>', page, re.S).group(1))
    assert setting == {"model": "mnist-mlp", "dataset": "mnist", "optimizer": "momentum", "schedule": "none",
                       "lrs": result.grid.lrs.tolist(), "momenta": [0.0, 0.9], "epochs": 2, "batch_size": 16,
                       "seed": 0}
    assert 'id="landscape-setting"' not in page, "not a setting the explorer's Load would take"
    footer = html.unescape(re.search(r"<footer>(.*?)</footer>", page, re.S).group(1))
    assert "Made with landscape" in footer and "sweep_network('mnist-mlp', 'momentum'" in footer


def test_the_command_makes_the_same_grid_again(tiny):
    made = sweep.sweep_network("mnist-mlp", "momentum", np.logspace(-2, 0, 3), np.linspace(0, 0.9, 2), data=tiny,
                               epochs=1, batch_size=16)
    said = network.command(made, out="o", page="p.html", batch_size=16, train_size=None, seed=3)
    assert said == ("python -m landscape sweep --model mnist-mlp --dataset mnist --optimizer momentum "
                    "--lrs 0.01:1:3 --momenta 0:0.9:2 --epochs 1 --batch-size 16 --seed 3 --out o --page p.html")


def test_a_page_that_would_be_too_large_is_refused_before_it_is_drawn(result, tmp_path, monkeypatch):
    size = numbers.number_bytes(network.shapes(6, result.run.step_losses.shape[0], 2))
    assert network.check_size(6, result.run.step_losses.shape[0], 2) == size
    monkeypatch.setattr(numbers, "MAX_NUMBER_BYTES", size - 1)
    drawn = []
    monkeypatch.setattr(network, "picture", lambda *args: drawn.append(args))
    with pytest.raises(ValueError, match=r"a page of 6 cells x 8 steps would hold .* MB of numbers .*: sweep fewer"):
        network.write_network_page(tmp_path / "big.html", result)
    assert not drawn and list(tmp_path.iterdir()) == []


def test_a_failed_export_leaves_no_file_and_an_earlier_page_as_it_was(result, tmp_path, monkeypatch):
    path = tmp_path / "sweep.html"
    with pytest.raises(ValueError, match="ending in .html"):
        network.write_network_page(tmp_path / "sweep.png", result)
    real = Path.write_bytes

    def half_then_fail(self, data):
        real(self, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", half_then_fail)
    with pytest.raises(OSError):
        network.write_network_page(path, result)
    assert list(tmp_path.iterdir()) == [], "no partial file, no temporary"
    monkeypatch.undo()
    size = network.write_network_page(path, result)
    earlier = path.read_bytes()
    assert len(earlier) == size and earlier.endswith(b"</html>\n")
    monkeypatch.setattr(Path, "write_bytes", half_then_fail)
    with pytest.raises(OSError):
        network.write_network_page(path, result, cell=(0, 1))
    assert path.read_bytes() == earlier and list(tmp_path.iterdir()) == [path]


def test_the_sweep_command_writes_the_page_beside_its_results(tmp_path, capsys):
    folder = mnist_folder(tmp_path / "data", train=60, test=20)
    out, page = tmp_path / "sweep", tmp_path / "sweep.html"
    code = cli.main(["sweep", "--model", "mnist-mlp", "--dataset", "mnist", "--lrs", "0.01:0.1:2", "--momenta",
                     "0:0.9:2", "--epochs", "1", "--batch-size", "16", "--train-size", "60", "--val-size", "20",
                     "--data-dir", str(folder.parent), "--out", str(out), "--page", str(page)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert f"wrote {page}" in printed.out and (out / "sweep.json").is_file()
    text = page.read_text()
    setting = json.loads(re.search(r'id="landscape-network-sweep">(.*?)</script>', text, re.S).group(1))
    assert setting["train_size"] == 60 and setting["batch_size"] == 16 and setting["lrs"] == [0.01, 0.1]
    made_by = html.unescape(re.search(r"<code>(.*?)</code>", text, re.S).group(1))
    assert made_by == (f"python -m landscape sweep --model mnist-mlp --dataset mnist --optimizer momentum "
                       f"--lrs 0.01:0.1:2 --momenta 0:0.9:2 --epochs 1 --batch-size 16 --train-size 60 "
                       f"--val-size 20 --seed 0 --out {out} --page {page}")
    saved = json.loads((out / "sweep.json").read_text())
    tables, _ = block(text)
    assert tables["readouts"][0].endswith(f"final validation loss {saved['final_val_loss'][0][0]:.6g}")


@pytest.mark.parametrize("arguments, message", [
    (["--surface", "quadratic", "--page", "{tmp}/p.html", "--out", "{tmp}/p.png"],
     "--page applies to a network's sweep (--model), not a surface's (--surface)"),
    (["--model", "mnist-mlp", "--dataset", "mnist", "--page", "{tmp}/p.txt", "--out", "{tmp}/o"],
     "Invalid path: '{tmp}/p.txt' (a page is written to a name ending in .html)"),
    (["--model", "mnist-mlp", "--dataset", "mnist", "--page", "{tmp}/nowhere/p.html", "--out", "{tmp}/o"],
     "the folder {tmp}/nowhere does not exist"),
])
def test_the_sweep_command_refuses_a_page_it_cannot_write_before_anything(tmp_path, capsys, arguments, message):
    arguments = [word.replace("{tmp}", str(tmp_path)) for word in arguments]
    code = cli.main(["sweep", *arguments, "--data-dir", str(tmp_path / "no-data")] if "--model" in arguments
                    else ["phase", *arguments])
    error = capsys.readouterr().err
    assert code == 2 and message.replace("{tmp}", str(tmp_path)) in error, error
    assert list(tmp_path.iterdir()) == [], "nothing written, no data looked for"


def test_the_sweep_command_refuses_a_page_too_large_before_training(tmp_path, capsys, monkeypatch):
    folder = mnist_folder(tmp_path / "data", train=60, test=20)
    monkeypatch.setattr(numbers, "MAX_NUMBER_BYTES", 100)
    steps = []
    real = sweep.copies.train_copies

    def counted(*args, progress=None, **options):
        return real(*args, progress=lambda done, total: (steps.append(done), progress(done, total)), **options)

    monkeypatch.setattr(sweep.copies, "train_copies", counted)
    code = cli.main(["sweep", "--model", "mnist-mlp", "--dataset", "mnist", "--lrs", "0.01:0.1:2",
                     "--momenta", "0:0.9:2", "--epochs", "3",
                     "--batch-size", "16", "--train-size", "60", "--val-size", "20", "--data-dir", str(folder.parent),
                     "--out", str(tmp_path / "o"), "--page", str(tmp_path / "p.html")])
    error = capsys.readouterr().err
    assert code == 2 and "a page of 4 cells x 12 steps would hold" in error, error
    assert steps == [1], "refused at the first step, once the steps are known"
    assert not (tmp_path / "o").exists() and not (tmp_path / "p.html").exists()


def test_the_sweep_panels_export_page_writes_a_file_and_offers_a_download(tmp_path, monkeypatch):
    from landscape.app import sweep_panel
    from landscape.app.networks import NetworksTab

    folder = mnist_folder(tmp_path / "data", train=60, test=20)
    exports = tmp_path / "gifs"
    exports.mkdir()
    monkeypatch.setattr(sweep_panel, "default_gif_folder", lambda: exports)
    tab = NetworksTab()
    tab.dataset.value = "mnist"
    tab.data_dir.value, tab.epochs.value, tab.train_size.value = str(folder.parent), 1, 0
    panel = tab.sweep
    assert panel.page_button.disabled, "nothing to export before a sweep"
    panel.export_page()
    assert panel.status.text == "⚠ run a sweep first"
    panel.lrs.value, panel.momenta.value = "0.01:1:3", "0:0.9:2"
    panel.run()
    assert not panel.page_button.disabled
    panel.lr.index, panel.momentum.index = 2, 1
    written = panel.export_page()
    assert written == exports / "sweep_mnist-mlp_momentum.html" and written.is_file()
    assert f"wrote {written}" in panel.status.text
    link = panel.page_download.widget.value
    assert panel.page_download.widget.layout.display is None and 'download="sweep_mnist-mlp_momentum.html"' in link
    offered = base64.b64decode(re.search(r'href="data:text/html;base64,([^"]+)"', link).group(1))
    assert offered == written.read_bytes()
    tables, _ = block(offered.decode())
    assert (tables["start"]["lr"], tables["start"]["momentum"]) == (2, 1), "opened at the sliders' cell"
    assert "--train-size" not in offered.decode() and "--page sweep_mnist-mlp_momentum.html" in offered.decode()

    panel.in_page = True  # the students' page: a download, no file
    written.unlink()
    panel.page_download.hide()
    assert panel.export_page() is None
    assert list(exports.iterdir()) == [] and "download it" in panel.status.text
    assert 'download="sweep_mnist-mlp_momentum.html"' in panel.page_download.widget.value
    assert panel.page_download.widget.layout.display is None


def test_the_page_is_the_panels_cell_figure_without_its_moving_parts(result):
    """The page's picture is what the panel shows (``cell_figure``) at twice its pixels: the same
    size, the same phase diagram (without the ring, which the page draws where the sliders say)."""
    page = network.network_page_html(result, cell=(0, 0))
    images = json.loads(re.search(r'id="landscape-images">(.*?)</script>', page, re.S).group(1))
    tables, _ = block(page)
    figure = result.cell_figure(0, 0)
    width, height = figure.canvas.get_width_height()
    assert (tables["width"], tables["height"]) == (width, height)
    shown = np.asarray(Image.open(io.BytesIO(base64.b64decode(images["figure"]["src"].split(",", 1)[1])))
                       .convert("RGB")).astype(int)
    assert shown.shape == (2 * height, 2 * width, 3)
    figure.set_dpi(2 * figure.get_dpi())
    next(line for line in figure.axes[0].lines if line.get_label() == "current").set_visible(False)
    figure.canvas.draw()
    panel = np.asarray(figure.canvas.buffer_rgba())[..., :3].astype(int)
    left = shown.shape[1] * 45 // 100  # the phase diagram and its colour bar
    assert np.abs(shown[:, :left] - panel[:, :left]).mean() < 1.0, "the same phase diagram (a 256-colour palette)"
