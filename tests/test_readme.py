"""Every Python snippet of the README runs as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_has_python_snippets():
    assert len(SNIPPETS) >= 2


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_a_readme_snippet_runs_as_written(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gifs").mkdir()  # the snippets run from the repository's root, which has gifs/
    exec(compile(SNIPPETS[index], f"README.md snippet {index + 1}", "exec"), {})
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")], "no temporaries left"
