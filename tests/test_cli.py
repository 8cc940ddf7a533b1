"""python -m landscape: commands and one-line errors with exit status 2."""

import io
import re
import subprocess
import sys
import textwrap

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image

from landscape import animate, optim, surfaces, trajectory
from landscape.cli import main


# the commands README.md documents, by their exact names
COMMANDS = ("list-surfaces", "list-optimizers", "show-rule", "gif", "page", "phase", "sweep", "compare", "slice", "app",
            "lecture")


def test_entry_point_help_lists_exactly_the_subcommands_and_each_has_its_own_help(capsys):
    result = subprocess.run([sys.executable, "-m", "landscape", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    listed = re.search(r"^  \{(.*)\}$", result.stdout, re.MULTILINE)  # argparse's choices line
    assert listed, result.stdout
    names = listed[1].split(",")
    assert set(names) == set(COMMANDS) and len(names) == len(COMMANDS), "every command, by its exact name"
    described = re.findall(r"^    (\S+(?: \(\S+\))?)", result.stdout, re.MULTILINE)  # a help row per command
    assert sorted(described) == sorted({*COMMANDS, "phase (sweep)"} - {"phase", "sweep"}), "sweep: phase's alias"
    for command in COMMANDS:
        with pytest.raises(SystemExit) as exit:
            main([command, "--help"])
        assert exit.value.code == 0, command
        shown = "phase" if command == "sweep" else command  # one command, two names
        assert capsys.readouterr().out.startswith(f"usage: python -m landscape {shown} "), command


def test_lists_have_a_row_for_every_surface_and_every_rule(capsys):
    assert main(["list-surfaces"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(surfaces.SURFACES)
    for line, name in zip(lines, surfaces.SURFACES):
        assert line.endswith(surfaces.get(name).formula), line
    assert main(["list-optimizers"]) == 0
    header, *rows, extensions, example = capsys.readouterr().out.splitlines()
    assert header.split()[:2] == ["rule", "class"]
    assert [row.split()[0] for row in rows] == list(optim.BASE_RULES), "one row per word, each once"
    for row, info in zip(rows, optim.BASE_RULES.values()):
        assert row.split()[1] == info.rule.__name__ and row.endswith(info.paper), row
    assert extensions == "extensions, for every rule: " + ", ".join(f"+{word}" for word in optim.EXTENSIONS)
    assert example.startswith("example: ")


def test_show_rule_prints_the_lecture_version_of_a_spec(capsys):
    assert main(["show-rule", "adamw+lookahead"]) == 0
    out = capsys.readouterr().out
    assert "def adam(θ" in out and "m_k = β1 m_{k−1} + (1 − β1) g_k" in out  # the rule, in the notation
    assert "θ_k ← (1 − ηλ) θ_k" in out and "weight_decay=0.01" in out  # AdamW's decay and defaults
    assert "decoupled_weight_decay=True" in out, "the group's values, the option AdamW fixes included"
    assert "+lookahead: Lookahead(k=5, alpha=0.5)" in out and "φ ← φ + α (θ − φ)" in out
    assert main(["show-rule", "amsgrad@0.1"]) == 0
    assert "lr=0.1" in (out := capsys.readouterr().out) and "amsgrad=True" in out
    assert main(["show-rule", "sgd+nesterov"]) == 0
    assert "def sgd(θ" in capsys.readouterr().out
    assert main(["show-rule", "radam+nesterov"]) == 0  # what it calls, also where imported in place
    out = capsys.readouterr().out
    assert "def radam(θ" in out and "def look_ahead(" in out and "def momentum_schedule(" in out
    assert main(["show-rule", "adamm"]) == 2
    assert "unknown base rule 'adamm'" in capsys.readouterr().err


def test_show_rule_into_a_pipe_that_closes_early_is_not_an_error():
    reader = subprocess.Popen([sys.executable, "-m", "landscape", "show-rule", "adam+nesterov"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader.stdout.close()  # the reader is gone before the command writes (it takes a second to start)
    assert reader.wait(timeout=60) == 0
    assert reader.stderr.read() == b""


def test_gif_command_writes_a_gif(tmp_path, capsys):
    out = tmp_path / "w.gif"
    code = main(["gif", "--surface", "two-well", "--optimizers", "sgd,momentum", "--lr", "sgd=0.01,momentum=0.02",
                 "--steps", "12", "--size", "320x180", "--out", str(out)])
    assert code == 0 and f"wrote {out}" in capsys.readouterr().out
    assert iio.imread(out, index=None).shape[:3] == (13, 180, 320)


def test_gif_command_draws_the_arrows_of_one_optimizers_step(tmp_path, capsys, runs_made):
    out, plain = tmp_path / "v.gif", tmp_path / "p.gif"
    arguments = ["gif", "--surface", "quadratic", "--optimizers", "gd,momentum", "--steps", "12", "--size",
                 "480x270"]
    assert main(arguments + ["--vectors", "momentum", "--out", str(out)]) == 0
    assert [run.recorded is not None for run in runs_made] == [True, True]
    assert main(arguments + ["--out", str(plain)]) == 0
    frames, without = iio.imread(out, index=None)[..., :3].astype(int), iio.imread(plain, index=None)[..., :3].astype(int)
    pink = [int(c, 16) for c in ("ff", "9e", "cf")]  # the momentum term's colour (the magenta momentum
    pinks = [int((np.abs(frame[5] - pink) < 30).all(-1).sum()) for frame in (frames, without)]  # path's legend
    assert pinks[0] > 5 * pinks[1] + 20, pinks  # line, antialiased on white, has a few pixels near it)
    assert main(arguments + ["--vectors", "adam", "--out", str(tmp_path / "x.gif")]) == 2
    assert capsys.readouterr().err.endswith("error: Invalid --vectors: 'adam' is none of --optimizers gd, momentum\n")
    assert not (tmp_path / "x.gif").exists() and len(runs_made) == 4, "refused before any run"


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
    (["gif", "--surface", "two-well", "--optimizers", "sgd", "--lr", "inf"], "Invalid lr: inf"),
    (["gif", "--surface", "two-well", "--optimizers", "sgd", "--lr", "0"], "Invalid lr: 0.0"),
    (["gif", "--surface", "two-well", "--optimizers", "sgd,adam", "--lr", "sgd=0.01,adam=nan"],
     "Invalid lr: nan for adam"),
    (["gif", "--surface", "two-well", "--optimizers", "sgd,adam", "--lr", "sgd=0.01,adam=0.1,adma=0.1"],
     "Invalid lr: 'adma' is none of the optimizers"),
    (["gif", "--surface", "two-well", "--optimizers", "sgd", "--start", "1e300,0"],
     "Invalid start: 1e+300,0 is outside the view of two-well: x in [-2, 2], y in [-1.5, 1.5]"),
    (["gif", "--surface", "two-well", "--optimizers", "sgd", "--steps", "1000000"],
     "Invalid stride: 1,000,000 steps at stride 1 make 1,000,001 frames (at most 10,000: a stride of 101 or more)"),
    (["gif", "--surface", "two-well", "--optimizers", "sgd", "--steps", "50000"],
     "50,000 steps at stride 1 make 50,001 frames (at most 10,000: a stride of 6 or more"),
    (["phase", "--surface", "quadratic", "--lrs", "0.001:1:100000", "--momenta", "0:0.9:1000"],
     "Invalid run: 100,000,000 rows x 301 points would keep 722.4 GB (at most 2 GB)"),  # 1e8 rows x 301 x 24 B
    (["phase", "--surface", "quadratic", "--start", "1e300,0"], "outside the view of quadratic"),
    (["phase", "--surface", "quadratic", "--lrs", "-1:1:3"], "Invalid --lrs: need 0 < low < high < inf and count "
                                                               ">= 2, got -1:1:3"),
    (["phase", "--surface", "quadratic", "--momenta", "-0.5:0.5:3"], "Invalid --momenta: need 0 <= low <= high < 1"),
    (["phase", "--surface", "quadratic", "--epochs", "3"], "--epochs applies to a network's sweep (--model)"),
    (["sweep", "--model", "mnist-mlp", "--steps", "3"], "--steps applies to a surface's sweep (--surface)"),
    (["gif", "--surface", "quadratic", "--optimizers", "sgd@0.1", "--lr", "sgd=0.5"],
     "Invalid lr: sgd=0.5 would be ignored: sgd@0.1 keep their own learning rate"),
    (["gif", "--surface", "quadratic", "--optimizers", ",".join(f"sgd@{(k + 1) / 1000}" for k in range(13))],
     "Invalid optimizers: 13 in one figure (at most 12, so that each keeps a legend line a class can read"),
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


@pytest.mark.parametrize("option", [["--fps", "0"], ["--loop", "-1"], ["--stride", "0"],
                                    ["--size", "10x10"], ["--out", "anim.gif", "--fps", "inf"]])
def test_gif_options_are_refused_before_any_run(tmp_path, monkeypatch, capsys, runs_made, option):
    monkeypatch.chdir(tmp_path)
    assert main(["gif", "--surface", "two-well", "--optimizers", "sgd", "--steps", "5",
                 "--out", "anim.gif", *option]) == 2
    assert capsys.readouterr().err.startswith("error: Invalid ")
    assert runs_made == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["anim.png", "anim.mp4", "anim", "anim.gif.tmp"])
def test_gif_refuses_output_names_that_are_not_gif(tmp_path, capsys, runs_made, name):
    assert main(["gif", "--surface", "two-well", "--optimizers", "sgd", "--steps", "5",
                 "--out", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert err == f"error: Invalid path: {str(tmp_path / name)!r} (a GIF is written to a name ending in .gif)\n"
    assert runs_made == [] and list(tmp_path.iterdir()) == []


def gif_delays(path) -> list[int]:
    """Each frame's delay in milliseconds, as stored in the file."""
    image, delays = Image.open(path), []
    for index in range(image.n_frames):
        image.seek(index)
        delays.append(image.info["duration"])
    return delays


@pytest.mark.parametrize("fps,centiseconds,said", [
    ("15", 7, "at 14.3 fps (asked 15; GIF delays are whole 1/100 s"),  # 100/15 = 6.67 cs
    ("60", 2, "at 50 fps (asked 60;"),  # 1 cs would play slowly in browsers
    ("20", 5, "at 20 fps\n"),
])
def test_gif_frame_rate_is_what_gif_can_store_and_is_said(tmp_path, capsys, fps, centiseconds, said):
    out = tmp_path / "f.gif"
    assert main(["gif", "--surface", "quadratic", "--optimizers", "gd", "--steps", "4", "--fps", fps,
                 "--size", "320x180", "--out", str(out)]) == 0
    assert f"wrote {out}: 5 frames {said}" in capsys.readouterr().out
    assert gif_delays(out) == [10 * centiseconds] * 4 + [10 * centiseconds + 1500]  # the last is held 1.5 s


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_gif_shows_a_progress_bar_on_a_terminal_only(tmp_path, capsys, monkeypatch):
    argv = ["gif", "--surface", "quadratic", "--optimizers", "gd", "--steps", "12", "--size", "320x180"]
    assert main(argv + ["--out", str(tmp_path / "a.gif")]) == 0
    assert capsys.readouterr().err == "", "no bar in logs and pipes"
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(argv + ["--out", str(tmp_path / "b.gif")]) == 0
    assert "/13 [" in terminal.getvalue() and "frame" in terminal.getvalue()


def test_ctrl_c_in_gif_is_one_line_exit_130_and_leaves_the_old_file(tmp_path, capsys, monkeypatch):
    out = tmp_path / "a.gif"
    out.write_bytes(b"the earlier GIF")
    drawn = []

    def interrupted_at_frame_5(self, step):
        if len(drawn) == 5:
            raise KeyboardInterrupt
        drawn.append(step)
        return original(self, step)

    original = animate.TrajectoryAnimation.frame_image
    monkeypatch.setattr(animate.TrajectoryAnimation, "frame_image", interrupted_at_frame_5)
    try:
        code = main(["gif", "--surface", "quadratic", "--optimizers", "gd", "--steps", "20",
                     "--size", "320x180", "--out", str(out)])
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped main() as a traceback")
    assert code == 130
    err = capsys.readouterr().err
    assert err.startswith("interrupted (Ctrl-C)") and err.count("\n") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["a.gif"] and out.read_bytes() == b"the earlier GIF"


def test_sigterm_in_gif_mid_write_leaves_no_temporary(tmp_path):
    """``kill`` while the GIF is being written (frames are written as they are drawn)."""
    out = tmp_path / "a.gif"
    out.write_bytes(b"the earlier GIF")
    script = textwrap.dedent(f"""
        import os, pathlib, signal, sys
        from landscape import animate, cli
        original, drawn = animate.TrajectoryAnimation.frame_image, []
        def killed_at_frame_5(self, step):
            if len(drawn) == 5:
                assert len(list(pathlib.Path({str(tmp_path)!r}).iterdir())) == 2, "mid-write"
                os.kill(os.getpid(), signal.SIGTERM)
            drawn.append(step)
            return original(self, step)
        animate.TrajectoryAnimation.frame_image = killed_at_frame_5
        sys.exit(cli.main(["gif", "--surface", "quadratic", "--optimizers", "gd", "--steps", "20",
                           "--size", "320x180", "--out", {str(out)!r}]))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 143, result.stderr
    assert result.stderr.startswith("interrupted (SIGTERM)") and result.stderr.count("\n") == 1
    assert [p.name for p in tmp_path.iterdir()] == ["a.gif"] and out.read_bytes() == b"the earlier GIF"


@pytest.mark.parametrize("argv, message", [
    (["gif", "--surface", "quadratic", "--optimizers", "sgd"], "Invalid path: '' (a GIF is written to a name"),
    (["phase", "--surface", "quadratic", "--lrs", "0.1:1:3", "--momenta", "0:0.5:2"], "cannot write to '': give a"),
    (["compare"], "cannot write the comparison to '': give a folder"),
    (["slice"], "cannot write the slice to '': give a folder"),
    (["sweep", "--model", "mnist-mlp", "--dataset", "mnist", "--lrs", "0.1:1:2"],
     "cannot write the sweep to '': give a folder"),
])
def test_an_empty_out_is_refused_before_any_work(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv + ["--out", ""]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}") and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == [], "nothing written into the current folder"


def test_gif_command_draws_projector_text(tmp_path):
    """``--text-size projector``: the GIF's frames are the projector figure's, not the normal one's."""
    out = tmp_path / "p.gif"
    assert main(["gif", "--surface", "quadratic", "--optimizers", "gd,adam", "--steps", "6", "--size", "480x270",
                 "--text-size", "projector", "--out", str(out)]) == 0
    surface = surfaces.get("quadratic")
    runs = trajectory.compare(surface, "gd, adam", lr=surface.default_lr, steps=6)
    written = iio.imread(out, index=6)[..., :3].astype(int)
    for text_size, close in (("projector", True), ("normal", False)):
        drawn = np.asarray(animate.TrajectoryAnimation(surface, runs, size=(480, 270), text_size=text_size)
                           .frame_image(6)).astype(int)
        assert bool(np.abs(written - drawn).mean() < 4) == close, text_size  # palette quantization only
