"""The project's set-up files agree with each other."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"torch": "pytorch"}  # PyPI name → conda-forge name


def _requirement(text: str) -> tuple[str, str]:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", text).groups()
    return name.lower(), spec.replace(" ", "")


def _pyproject_dependencies() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["test"]
    return dict(_requirement(r) for r in requirements)


def _environment_dependencies() -> dict[str, str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("dependencies:") + 1
    entries = [line.strip()[2:] for line in lines[start:] if line.strip().startswith("- ")]
    return dict(_requirement(e) for e in entries if not e.startswith(("python", "pip")))


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    expected = {CONDA_NAMES.get(name, name): spec for name, spec in _pyproject_dependencies().items()}
    assert _environment_dependencies() == expected


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^\s*(make \w+)\s*#\s*tests", readme, flags=re.MULTILINE)
    assert commands == ["make test"]
    ci = [line for line in (ROOT / ".ci/run").read_text().splitlines()
          if line.strip() and not line.startswith(("#", "set ", "cd "))]
    assert ci == ["make test"]


def test_tested_torch_is_pinned_and_inside_the_allowed_range():
    pin = re.search(r"^torch==([\d.]+)$", (ROOT / "constraints.txt").read_text(), re.MULTILINE)
    assert pin, "constraints.txt pins torch"
    low, high = re.match(r">=([\d.]+),<([\d.]+)", _pyproject_dependencies()["torch"]).groups()
    version = tuple(int(x) for x in pin.group(1).split("."))
    assert tuple(int(x) for x in low.split(".")) <= version < tuple(int(x) for x in high.split("."))


def test_binder_builds_the_environment_then_installs_landscape_itself():
    """repo2docker reads environment.yml (its dependencies are pyproject's, above, Voilà included),
    then runs postBuild: landscape must be installed there for the page to import it."""
    post_build = ROOT / "postBuild"
    assert post_build.stat().st_mode & 0o111, "postBuild is executable"
    commands = [line.strip() for line in post_build.read_text().splitlines()
                if line.strip() and not line.startswith(("#", "set "))]
    assert commands == ["pip install --no-deps -e ."]
    assert "voila" in _pyproject_dependencies()


def test_every_file_of_the_package_that_is_not_python_is_packaged():
    """A wheel holds the pages' templates and scripts (package-data), not only the .py files."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    files = [path for path in (ROOT / "landscape").rglob("*")
             if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts]
    assert files, "the page's templates and scripts are files of the package"
    for path in files:
        package = ".".join(path.parent.relative_to(ROOT).parts)
        assert any(path.match(pattern) for pattern in patterns.get(package, [])), path.relative_to(ROOT)
