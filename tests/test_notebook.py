"""notebooks/landscape.ipynb runs top to bottom headless, and is committed without outputs."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

from helpers import data_root
from landscape.lecture import LECTURE_GIFS

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "landscape.ipynb"


def test_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)


def test_notebook_executes_top_to_bottom(tmp_path, monkeypatch):
    monkeypatch.setenv("LANDSCAPE_DATA", str(data_root(tmp_path / "data")))
    monkeypatch.setenv("LANDSCAPE_CIFAR_URL", "http://127.0.0.1:9/offline")  # never download
    monkeypatch.setenv("LANDSCAPE_MNIST_URL", "http://127.0.0.1:9/offline")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    widget_views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widget_views, "the explorer cell shows its widget"
    (slides,) = [c for c in notebook.cells if c.cell_type == "code" and "lecture.LECTURE_GIFS" in c.source]
    pictures = [o for o in slides.outputs if "image/png" in o.get("data", {})]
    assert len(pictures) == len(LECTURE_GIFS), "one figure per slide of the lecture table"
