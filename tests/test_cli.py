"""python -m landscape: commands and one-line errors with exit status 2."""

import subprocess
import sys

import imageio.v3 as iio
import pytest

from landscape import surfaces, trajectory
from landscape.cli import main


def test_entry_point_help_lists_subcommands():
    result = subprocess.run([sys.executable, "-m", "landscape", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for command in ("gif", "phase", "sweep", "lecture", "list-surfaces", "list-optimizers"):
        assert command in result.stdout


def test_lists(capsys):
    assert main(["list-surfaces"]) == 0
    assert "two-well" in capsys.readouterr().out
    assert main(["list-optimizers"]) == 0
    assert "lookahead" in capsys.readouterr().out


def test_gif_command_writes_a_gif(tmp_path, capsys):
    out = tmp_path / "w.gif"
    code = main(["gif", "--surface", "two-well", "--optimizers", "sgd,momentum", "--lr", "sgd=0.01,momentum=0.02",
                 "--steps", "12", "--size", "320x180", "--out", str(out)])
    assert code == 0 and f"wrote {out}" in capsys.readouterr().out
    assert iio.imread(out, index=None).shape[:3] == (13, 180, 320)


@pytest.fixture
def runs_made(monkeypatch):
    """The trajectories the command computes (``trajectory.run``, which ``compare`` calls)."""
    made = []

    def run(*args, **kwargs):
        made.append(original(*args, **kwargs))
        return made[-1]

    original = trajectory.run
    monkeypatch.setattr(trajectory, "run", run)
    return made


def test_gif_command_shows_one_optimizer_at_several_learning_rates(tmp_path, runs_made):
    out = tmp_path / "lr.gif"
    assert main(["gif", "--surface", "quadratic", "--optimizers", "gd@0.01,gd@0.1,gd@0.5",
                 "--steps", "10", "--size", "320x180", "--out", str(out)]) == 0
    assert [run.settings["lr"].item() for run in runs_made] == [0.01, 0.1, 0.5]
    assert [run.name for run in runs_made] == ["gd η=0.01", "gd η=0.1", "gd η=0.5"]
    assert iio.imread(out, index=None).shape[:3] == (11, 180, 320)


def test_gif_command_starts_from_the_surfaces_learning_rate(tmp_path, runs_made):
    assert main(["gif", "--surface", "rosenbrock", "--optimizers", "sgd,adam", "--steps", "5",
                 "--size", "320x180", "--out", str(tmp_path / "r.gif")]) == 0
    expected = surfaces.get("rosenbrock").default_lr
    assert [run.settings["lr"].item() for run in runs_made] == [expected, expected]


def test_phase_command_writes_a_png(tmp_path):
    out = tmp_path / "p.png"
    assert main(["phase", "--surface", "quadratic", "--lrs", "0.01:1:6", "--momenta", "0:0.9:4",
                 "--steps", "50", "--out", str(out)]) == 0
    assert iio.imread(out).ndim == 3


@pytest.mark.parametrize("argv,message", [
    (["gif", "--surface", "nope", "--optimizers", "sgd"], "invalid choice: 'nope' (choose from 'quadratic'"),
    (["gif", "--surface", "two-well", "--optimizers", "sgd,adamm"], "unknown base rule 'adamm'; valid: gd, sgd"),
    (["gif", "--surface", "two-well", "--optimizers", "sgd", "--lr", "-1"], "Invalid lr: -1.0"),
    (["gif", "--surface", "two-well", "--optimizers", "sgd", "--lr", "fast"], "not a number: 'fast'"),
    (["gif", "--surface", "two-well", "--optimizers", "sgd@fast"],
     "Invalid learning rate in optimizer spec 'sgd@fast': 'fast' is not a number"),
    (["gif", "--surface", "two-well", "--optimizers", "sgd@0.1,sgd@0.1"], "'sgd@0.1' given twice"),
    (["gif", "--surface", "two-well", "--optimizers", "sgd", "--size", "big"], "expected WIDTHxHEIGHT"),
    (["gif", "--surface", "two-well", "--optimizers", "sgd", "--steps", "0"], "Invalid steps: 0"),
    (["gif", "--surface", "two-well", "--optimizers", "sgd", "--start", "1"], "expected x,y"),
    (["phase", "--surface", "quadratic", "--lrs", "1:0.1:5"], "Invalid --lrs"),
    (["bogus"], "invalid choice: 'bogus'"),
])
def test_errors_are_one_line_with_status_2_and_no_file(tmp_path, capsys, argv, message):
    out = tmp_path / "x.gif"
    assert main(argv + ["--out", str(out)] if argv[0] != "bogus" else argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert "Traceback" not in err and not out.exists()


def test_unwritable_output_is_one_line_error(tmp_path, capsys):
    code = main(["gif", "--surface", "two-well", "--optimizers", "sgd",
                 "--out", str(tmp_path / "no" / "x.gif")])
    err = capsys.readouterr().err
    assert code == 2 and "does not exist" in err and err.count("\n") == 1


def test_entry_point_error_has_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "landscape", "gif", "--surface", "two-well",
                             "--optimizers", "adamm", "--out", str(tmp_path / "x.gif")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("error: Invalid optimizer spec 'adamm'")
