"""Command line: ``python -m landscape <command>``.

    python -m landscape gif --surface two-well --optimizers sgd,momentum,nesterov,adam \\
        --lr 0.05 --out gifs/two_well.gif
    python -m landscape gif --surface quadratic --optimizers gd@0.01,gd@0.1,gd@0.21 --out lr.gif
    python -m landscape gif --surface two-well --optimizers momentum,adam --vectors adam --out adam.gif
    python -m landscape page --surface two-well --optimizers sgd,momentum,nesterov,adam --out two_well.html
    python -m landscape phase --surface quadratic --optimizer momentum --out phase.png
    python -m landscape lecture --out gifs/ [--pages]
    python -m landscape app [--setting exercise1.json] [--port 8866]
    python -m landscape show-rule adam
    python -m landscape list-surfaces | list-optimizers

Mistakes in what the user typed print one line ``error: ...`` and exit with status 2: no
traceback, no partial file.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from contextlib import contextmanager

import matplotlib

from . import optim, surfaces
from .files import Terminated, termination_raises
from .schedules import SCHEDULES, SUMMARIES

SCHEDULE_HELP = ", ".join(f"{name} ({SUMMARIES[name]})" for name in SCHEDULES if name != "none")

DATA_DEFAULTS = {"dataset": "cifar10", "batch_size": 128, "seed": 0, "device": "auto"}
# a network sweep's options that are None unless given (so a surface's sweep can refuse them)
NETWORK_SWEEP_DEFAULTS = {**DATA_DEFAULTS, "epochs": 2, "overwrite": False}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2
        raise _UsageError(f"{self.prog.split()[-1]}: {message}")


class _UsageError(Exception):
    pass


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _learning_rates(text: str):
    """'0.05' or 'sgd=0.1,adam=0.05' (see optim.parse_learning_rates)."""
    try:
        return optim.parse_learning_rates(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT in pixels, e.g. 960x540, "
                                         f"got {text!r}") from None
    return width, height


def _point(text: str) -> tuple[float, float]:
    parts = text.split(",")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected x,y, got {text!r}")
    return _number(parts[0]), _number(parts[1])


# a surface sweep's options (a network's sweep refuses them)
SURFACE_OPTIONS = (("--steps", int, "iterations (300)"), ("--tolerance", _number,
                   "distance from a minimum that counts as arrived (default: the surface's, 1%% of its view)"),
                   ("--start", _point, "start point x,y (default: the surface's)"))


def _range(text: str) -> tuple[float, float, int]:
    """'low:high:count'."""
    from .grid import parse_range

    try:
        return parse_range(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _grid(lr_range: tuple[float, float, int], momentum_range: tuple[float, float, int] | None):
    """The sweep's grid from ``--lrs`` and ``--momenta``, a mistake named by its option."""
    from .grid import Grid

    try:
        return Grid.from_ranges(lr_range, momentum_range)
    except ValueError as error:
        raise ValueError(f"Invalid --{error}") from None


def _check_start(surface, start: tuple[float, float]) -> tuple[float, float]:
    """The start point, if it lies in the surface's view (else the picture would be empty)."""
    if not surface.in_view(start):
        raise ValueError(f"Invalid start: {start[0]:g},{start[1]:g} is outside the view of "
                         f"{surface.name}: {surface.view_ranges}")
    return start


def _check_learning_rates(lr: float | dict[str, float]) -> float | dict[str, float]:
    """``--lr``, if every rate is finite and > 0 (its keys are checked by trajectory.compare:
    any case, none unknown)."""
    for key, rate in lr.items() if isinstance(lr, dict) else [(None, lr)]:
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f"Invalid lr: {rate!r}{f' for {key}' if key else ''} (expected a finite "
                             f"number > 0)")
    return lr


@contextmanager
def _progress_bar():
    """A ``progress(done, total)`` callback that draws a frame counter on a terminal (nothing in
    logs or pipes); a count that starts again starts a new bar (the lecture's GIFs)."""
    from tqdm import tqdm

    bar = None

    def advance(done: int, total: int) -> None:
        nonlocal bar
        if bar is None or bar.total != total or done < bar.n:
            if bar is not None:
                bar.close()
            bar = tqdm(total=total, unit="frame", disable=None, leave=False)
        bar.update(done - bar.n)

    try:
        yield advance
    finally:
        if bar is not None:
            bar.close()


def _list_surfaces(args) -> None:
    for name in surfaces.SURFACES:
        surface = surfaces.get(name)
        print(f"{name:<16} {surface.formula}")


def _list_optimizers(args) -> None:
    print(f"{'rule':<10} {'class':<9} {'modifiers':<27} {'momentum slider':<17} {'net lr':<7} paper")
    for word, info in optim.BASE_RULES.items():
        modifiers = " ".join(f"+{m}" for m in info.modifiers) or "-"
        slider = {"momentum": "β", "beta1": "β1"}.get(optim.parse(word).momentum_parameter) or \
            ("β with +momentum" if info.momentum_parameter else "-")
        print(f"{word:<10} {info.rule.__name__:<9} {modifiers:<27} {slider:<17} {info.network_lr:<7g} {info.paper}")
    print("extensions, for every rule: " + ", ".join(f"+{word}" for word in optim.EXTENSIONS))
    print("example: radamw+nesterov+gradnoise+lrdropout+lookahead;  show-rule SPEC prints its lecture version")


def _show_rule(args) -> None:
    print(optim.parse(args.spec).lecture_source())


def _gif(args) -> None:
    from . import draw
    from .animate import check_gif_options, export_gif, gif_fps

    surface = surfaces.get(args.surface)
    specs = optim.parse_list(args.optimizers)
    if args.vectors is not None and optim.parse(args.vectors) not in specs:
        raise ValueError(f"Invalid --vectors: {args.vectors!r} is none of --optimizers "
                         f"{', '.join(spec.text for spec in specs)}")
    check_gif_options(args.out, fps=args.fps, loop=args.loop, stride=args.stride, size=args.size,
                      text_size=args.text_size, steps=args.steps)
    options = dict(lr=surface.default_lr if args.lr is None else _check_learning_rates(args.lr),
                   steps=args.steps, fps=args.fps, stride=args.stride, size=args.size,
                   loop=args.loop, loss=not args.no_loss, seed=args.seed, vectors=args.vectors,
                   text_size=args.text_size)
    if args.start is not None:
        options["starts"] = [_check_start(surface, args.start)]
    if args.momentum is not None:
        options["momentum"] = args.momentum
    if args.batch_size is not None:
        options["batch_size"] = args.batch_size
    if args.schedule != "none":
        options.update(schedule=args.schedule, title=draw.title(surface, args.schedule))
    frames = []  # what the frame counter counted

    with _progress_bar() as advance:
        path = export_gif(args.out, surface, specs, progress=lambda done, total: (advance(done, total),
                                                                                  frames.append(done)), **options)
    fps = gif_fps(args.fps)
    note = "" if fps == args.fps else f" (asked {args.fps:g}; GIF delays are whole 1/100 s, at least 2)"
    print(f"wrote {path}: {frames[-1]} frames at {fps:.3g} fps{note}")


def _page(args) -> None:
    from .page import check_page, check_path, command, write_page
    from .setting import Setting, Sweep

    values = {"surface": args.surface, "optimizers": args.optimizers, "steps": args.steps, "seed": args.seed,
              "lr": surfaces.get(args.surface).default_lr if args.lr is None else args.lr,
              "schedule": args.schedule}
    for name in ("momentum", "beta2", "noise"):
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    if args.start is not None:
        values["start"] = list(args.start)
    setting = Setting.checked(values, "Invalid option")
    if args.vectors is not None and optim.parse(args.vectors) not in setting.specs:
        raise ValueError(f"Invalid --vectors: {args.vectors!r} is none of --optimizers "
                         f"{', '.join(spec.text for spec in setting.specs)}")
    vectors = None if args.vectors is None else optim.parse(args.vectors).text
    check_path(args.out)
    numbers = check_page(setting)  # before anything is computed
    sweep = Sweep(setting)
    print(f"computed {len(sweep.runs)} optimizer{'s' * (len(sweep.runs) != 1)} at every slider position "
          f"({numbers / 1e6:.1f} MB of numbers); drawing the page …", flush=True)
    size = write_page(args.out, sweep, vectors=vectors, text_size=args.text_size,
                      made_by=command(setting, vectors, args.text_size, out=args.out))
    moved = [f"--{name} {getattr(setting, name):g}" for name in ("lr", "momentum", "beta2")
             if getattr(args, name) is not None and not math.isclose(getattr(args, name), getattr(setting, name))]
    note = f" (opens at the sliders' nearest values: {', '.join(moved)})" if moved else ""
    print(f"wrote {args.out} ({size / 1e6:.1f} MB){note}: open it in a browser; it needs no Python and no network")


def _phase(args) -> None:
    """``phase`` / ``sweep``: a surface's phase diagram, or a network's sweep (``_network_sweep``)."""
    from .draw import phase_diagram
    from .files import atomic_path, check_writable
    from .trajectory import sweep

    if args.model is not None:
        return _network_sweep(args)
    given = [f"--{name.replace('_', '-')}" for name in NETWORK_SWEEP_DEFAULTS if getattr(args, name) is not None]
    given += [f"--{name.replace('_', '-')}" for name in ("train_size", "val_size", "data_dir", "page")
              if getattr(args, name) is not None]
    if given:
        raise ValueError(f"{', '.join(given)} applies to a network's sweep (--model), not a surface's (--surface)")
    steps = 300 if args.steps is None else args.steps
    check_writable(args.out)
    optim.parse(args.optimizer)
    grid = _grid(args.lrs or (1e-3, 1.0, 48), args.momenta or (0.0, 0.98, 40))
    surface = surfaces.get(args.surface)
    if args.start is not None:
        _check_start(surface, args.start)
    runs = sweep(surface, args.optimizer, grid.lrs, grid.momenta, start=args.start, steps=steps,
                 tolerance=args.tolerance, schedule=args.schedule)
    ax = phase_diagram(runs)
    with atomic_path(args.out) as temporary:
        ax.figure.savefig(temporary, format=args.out.rsplit(".", 1)[-1] if "." in args.out else "png")
    print(f"wrote {args.out}")


def _network_sweep(args) -> None:
    from .nets.sweep import sweep_network

    given = [option for option, _, _ in SURFACE_OPTIONS if getattr(args, option[2:]) is not None]
    if given:
        raise ValueError(f"{', '.join(given)} applies to a surface's sweep (--surface), not a network's (--model)")
    for name, value in NETWORK_SWEEP_DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    has_momentum = optim.parse(args.optimizer).momentum_parameter is not None
    grid = _grid(args.lrs or (1e-3, 1.0, 16), args.momenta or ((0.0, 0.95, 8) if has_momentum else None))
    if args.page is not None:
        from .page import check_path, network

        check_path(args.page)
    with _progress_bar() as advance:

        def step(done: int, total: int) -> None:
            if args.page is not None and done == 1:  # the steps are known: the page's size, before training on
                network.check_size(grid.cells, total, args.epochs)
            advance(done, total)

        result = sweep_network(args.model, args.optimizer, grid.lrs, grid.momenta, dataset=args.dataset,
                               epochs=args.epochs, batch_size=args.batch_size, train_size=args.train_size,
                               val_size=args.val_size, seed=args.seed, device=args.device, data_dir=args.data_dir,
                               out=args.out, overwrite=args.overwrite, schedule=args.schedule, progress=step,
                               status=print)
    print(result.summary())
    print(f"wrote {args.out}/sweep.json, .csv, .png")
    if args.page is not None:
        options = {name: getattr(args, name) for name in network.DATA_OPTIONS}
        size = network.write_network_page(args.page, result, options=options,
                                          made_by=network.command(result, out=args.out, page=args.page, **options))
        print(f"wrote {args.page} ({size / 1e6:.2f} MB): open it in a browser, offline")


def _compare(args) -> None:
    from .nets.report import summary_text
    from .nets.train import interrupted_folder, train_and_compare

    specs = optim.parse_list(args.optimizers)
    try:
        result = train_and_compare(args.model, specs, dataset=args.dataset, schedule=args.schedule,
                                   epochs=args.epochs, lr=args.lr,
                                   batch_size=args.batch_size, train_size=args.train_size,
                                   val_size=args.val_size, seed=args.seed, device=args.device, amp=args.amp,
                                   data_dir=args.data_dir, out=args.out, overwrite=args.overwrite)
    except KeyboardInterrupt as interruption:  # before training (loading data) or while saving
        _stopped(interruption, f"nothing written; {args.out} is as it was")
    print(summary_text(result.summary()))
    if result.interrupted:  # the finished runs beside --out, never over an earlier comparison
        kept = (f"wrote the runs that completed ({', '.join(result.completed)}) to {interrupted_folder(args.out)}/"
                f"comparison.json, .csv, .png" if result.completed else "no run completed: nothing written")
        print(f"interrupted ({result.interrupted}): {kept}; {args.out} is as it was", file=sys.stderr)
        raise SystemExit(143 if result.interrupted == "SIGTERM" else 130)
    print(f"wrote {args.out}/comparison.json, .csv, .png")


def _slice(args) -> None:
    from .nets import slice_view
    from .nets import datasets
    from .nets.report import summary_text
    from .nets.devices import resolve_device
    from .nets.train import train_and_compare

    specs = optim.parse_list(args.optimizers)  # before loading the data
    slice_view.check_slice_options(directions=args.directions, grid=args.grid,
                                   evaluation_images=args.evaluation_images, target_loss=args.target_loss)
    slice_view.check_slice_folder(args.out, args.overwrite)
    model = datasets.model_for(args.dataset, args.model)
    device = resolve_device(args.device)
    try:
        data = datasets.check(args.dataset).load(args.data_dir, device=device, train_size=args.train_size,
                                                 val_size=args.val_size, seed=args.seed)
        comparison = train_and_compare(model, specs, epochs=args.epochs, lr=args.lr,
                                       batch_size=args.batch_size, seed=args.seed, device=device, data=data,
                                       record=True, record_every=args.record_every, schedule=args.schedule)
        if comparison.interrupted:  # the trainer kept what completed; a slice needs every run
            raise Terminated() if comparison.interrupted == "SIGTERM" else KeyboardInterrupt()
        print(summary_text(comparison.summary()))
        plan = slice_view.plan_slice(comparison, data, grid=args.grid, evaluation_images=args.evaluation_images)
        print(f"slice: {plan.estimate()}")
        with _progress_bar() as advance:
            result = slice_view.slice_comparison(comparison, data, directions=args.directions, grid=args.grid,
                                                 evaluation_images=args.evaluation_images,
                                                 target_loss=args.target_loss, seed=args.seed,
                                                 status=print, progress=advance)
        print("drawing slice.png and slice.gif …")
        result.save(args.out, overwrite=args.overwrite)
    except KeyboardInterrupt as interruption:
        _stopped(interruption, f"nothing written; {args.out} is as it was")
    for note in result.notes:
        print(f"note: {note}")
    if result.explained_variance is not None:
        print(f"{result.variance_meaning}: " + ", ".join(f"{share:.1%}" for share in result.explained_variance))
    print("largest distance off the plane / path length: "
          + ", ".join(f"{path.name} {path.off_plane_share:.1%}" for path in result.paths))
    print(f"wrote {args.out}/slice.json, .png, .gif")


def _lecture(args) -> None:
    from .lecture import render_all, write_pages

    if args.pages:
        write_pages(args.out, text_size=args.text_size)
        return
    with _progress_bar() as advance:
        render_all(args.out, progress=advance, text_size=args.text_size)


def _training_arguments(command: argparse.ArgumentParser, epochs: int) -> None:
    """The options of a real-network run (``compare``, ``slice``)."""
    from .nets.models import MODELS

    command.add_argument("--model", choices=list(MODELS),
                         help="default: the data set's (cnn for cifar10, mnist-mlp for mnist)")
    command.add_argument("--optimizers", default="sgd+momentum,adam", help="comma-separated specs")
    command.add_argument("--epochs", type=int, default=epochs)
    command.add_argument("--lr", type=_learning_rates, default=None,
                         help="one learning rate, or per optimizer: sgd+momentum=0.01,adam=0.001")
    _data_arguments(command)


def _data_arguments(command, defaults: bool = True) -> None:
    """Which data a network trains on, and how (``compare``, ``slice``, a network's ``sweep``);
    without ``defaults`` an option not given is None (``NETWORK_SWEEP_DEFAULTS`` fills it in)."""
    from .nets.datasets import DATASETS

    def default(name):
        return DATA_DEFAULTS[name] if defaults else None

    command.add_argument("--dataset", default=default("dataset"), choices=list(DATASETS),
                         help=f"default {DATA_DEFAULTS['dataset']}")
    command.add_argument("--batch-size", type=int, default=default("batch_size"),
                         help=f"default {DATA_DEFAULTS['batch_size']}")
    if defaults:
        command.add_argument("--schedule", default="none", choices=SCHEDULES,
                             help=f"the lr from epoch to epoch: {SCHEDULE_HELP} (the validation loss)")
    command.add_argument("--train-size", type=int, help="training images (default: all)")
    command.add_argument("--val-size", type=int, help="validation images from the test batch (default 1000)")
    command.add_argument("--seed", type=int, default=default("seed"), help=f"default {DATA_DEFAULTS['seed']}")
    command.add_argument("--device", default=default("device"), help="auto (CUDA, MPS, else CPU; the default), "
                                                                       "cpu, cuda, …")
    command.add_argument("--data-dir", help="folder with cifar-10-batches-py/ (or the archive), or mnist/")


def _app(arguments) -> None:
    from .app.standalone import serve

    if arguments.port is not None and not 0 < arguments.port < 65536:
        raise ValueError(f"Invalid port: {arguments.port} (expected 1 to 65535)")
    status = serve(arguments.port, arguments.setting, arguments.open, arguments.keep_unconnected, arguments.preheat)
    if status:
        raise ValueError(f"Voilà stopped with status {status} (see its messages above)")


def parser() -> argparse.ArgumentParser:
    from .draw import TEXT_SIZES

    root = _Parser(prog="python -m landscape",
                   description="2-D loss landscapes and the optimizers that walk them.")
    commands = root.add_subparsers(dest="command", required=True, parser_class=_Parser)

    commands.add_parser("list-surfaces", help="the surfaces and their formulas") \
        .set_defaults(run=_list_surfaces)
    commands.add_parser("list-optimizers", help="the words optimizer specs are built from") \
        .set_defaults(run=_list_optimizers)

    show_rule = commands.add_parser("show-rule", help="print a rule's lecture version (Python, in the "
                                                      "course's notation), e.g. show-rule adam")
    show_rule.add_argument("spec", help="an optimizer spec: adam, sgd+nesterov, radamw+lookahead, …")
    show_rule.set_defaults(run=_show_rule)

    gif = commands.add_parser("gif", help="animate optimizers on a surface, write a GIF")
    gif.add_argument("--surface", required=True, choices=list(surfaces.SURFACES))
    gif.add_argument("--optimizers", required=True,
                     help="comma-separated specs, e.g. sgd,adam; spec@lr gives a spec its own "
                          "learning rate: sgd@0.01,sgd@0.1,sgd@0.5")
    gif.add_argument("--lr", type=_learning_rates,
                     help="one learning rate, or per optimizer: sgd=0.1,adam=0.05 "
                          "(default: the surface's default_lr)")
    gif.add_argument("--momentum", type=_number, help="momentum (β1 for the Adam family)")
    gif.add_argument("--steps", type=int, default=150)
    gif.add_argument("--start", type=_point, help="start point x,y (default: the surface's)")
    gif.add_argument("--batch-size", type=int, help="minibatch size on the stochastic surface "
                                                   "(every optimizer but gd)")
    gif.add_argument("--schedule", default="none", choices=SCHEDULES,
                     help=f"the lr from iteration to iteration: {SCHEDULE_HELP}")
    gif.add_argument("--fps", type=_number, default=15.0)
    gif.add_argument("--stride", type=int, default=1, help="iterations per frame")
    gif.add_argument("--size", type=_size, default=(960, 540), help="WIDTHxHEIGHT, 16:9 for slides")
    gif.add_argument("--loop", type=int, default=0, help="0 loops forever")
    gif.add_argument("--no-loss", action="store_true", help="leave out the loss panel")
    gif.add_argument("--vectors", metavar="SPEC",
                     help="draw the arrows of this optimizer's step at each frame (its gradient step, "
                          "momentum term, …, and the step taken), with their key; one of --optimizers")
    text_size = dict(default="normal", choices=list(TEXT_SIZES),
                     help="projector: every text of the figure larger, for slides read from the back of a hall")
    gif.add_argument("--text-size", **text_size)
    gif.add_argument("--seed", type=int, default=0)
    gif.add_argument("--out", required=True)
    gif.set_defaults(run=_gif)

    page = commands.add_parser("page", help="write the explorer's Landscape view as one HTML file: sliders, "
                                             "play, phase diagram, with no Python running")
    page.add_argument("--surface", required=True, choices=list(surfaces.SURFACES))
    page.add_argument("--optimizers", required=True,
                      help="comma-separated specs, e.g. sgd,adam; spec@lr gives a spec its own learning rate")
    page.add_argument("--lr", type=_number, help="where the lr slider opens (default: the surface's default_lr)")
    page.add_argument("--momentum", type=_number, help="where the momentum slider opens (β1 for the Adam family)")
    page.add_argument("--beta2", type=_number, help="β2 of the Adam family (default 0.999)")
    page.add_argument("--steps", type=int, default=150)
    page.add_argument("--start", type=_point, help="start point x,y (default: the surface's)")
    page.add_argument("--noise", type=_number, help="η of annealed gradient noise added to every optimizer")
    page.add_argument("--schedule", default="none", choices=SCHEDULES,
                      help=f"the lr from iteration to iteration: {SCHEDULE_HELP}")
    page.add_argument("--vectors", metavar="SPEC", help="show this optimizer's step arrows first (the page "
                                                        "offers every optimizer's)")
    page.add_argument("--text-size", **text_size)
    page.add_argument("--seed", type=int, default=0)
    page.add_argument("--out", required=True, help="the page: a name ending in .html")
    page.set_defaults(run=_page)

    from .nets.models import MODELS

    phase = commands.add_parser(
        "phase", aliases=["sweep"], help="lr x momentum phase diagram: of the minimum reached and the iterations on "
                                         "a surface (PNG), or of a network's validation loss (JSON, CSV, PNG); phase "
                                         "and sweep are one command",
        description="The lr x momentum phase diagram of one optimizer: on a surface (--surface: which minimum each "
                    "run reached, global ★ or another ✖, and in how many iterations, a PNG) or a network (--model: "
                    "final validation loss, trained once per cell, every "
                    "cell in one batched run; sweep.json, .csv, .png in a folder). The options under 'surface' "
                    "and 'network' apply to that one only.")
    what = phase.add_mutually_exclusive_group(required=True)
    what.add_argument("--surface", choices=list(surfaces.SURFACES))
    what.add_argument("--model", choices=list(MODELS), help="a network")
    phase.add_argument("--optimizer", default="momentum")
    phase.add_argument("--lrs", type=_range, help="low:high:count, log-spaced (surface 0.001:1:48, network 0.001:1:16)")
    phase.add_argument("--momenta", type=_range,
                       help="low:high:count (surface 0:0.98:40, network 0:0.95:8); leave it out for a rule "
                            "without momentum")
    phase.add_argument("--schedule", default="none", choices=SCHEDULES,
                       help=f"the lr over the run: {SCHEDULE_HELP}")
    phase.add_argument("--out", required=True, help="surface: the PNG; network: a folder for sweep.json, .csv, .png")
    on_surface = phase.add_argument_group("surface (with --surface)")
    for option, kind, text in SURFACE_OPTIONS:
        on_surface.add_argument(option, type=kind, help=text)
    on_network = phase.add_argument_group("network (with --model)")
    _data_arguments(on_network, defaults=False)
    on_network.add_argument("--epochs", type=int, help=f"default {NETWORK_SWEEP_DEFAULTS['epochs']}")
    on_network.add_argument("--overwrite", action="store_true", default=None,
                            help="replace an earlier sweep in --out")
    on_network.add_argument("--page", metavar="PATH.html",
                            help="also write the sweep as one self-contained HTML page: the phase diagram, lr and "
                                 "momentum sliders, each cell's loss curves (opens offline, no Python)")
    phase.set_defaults(run=_phase)

    compare = commands.add_parser("compare", help="train a CIFAR-10 or MNIST network with several optimizers")
    _training_arguments(compare, epochs=5)
    compare.add_argument("--amp", action="store_true", help="bf16 autocast (CUDA only)")
    compare.add_argument("--out", default="results")
    compare.add_argument("--overwrite", action="store_true",
                         help="replace the comparison an earlier run left in --out")
    compare.set_defaults(run=_compare)

    from .nets.slice_view import DIRECTIONS

    slice_ = commands.add_parser("slice", help="train a CIFAR-10 or MNIST network with several optimizers and draw "
                                               "their paths on a 2-D slice of the loss (JSON, PNG, GIF)")
    _training_arguments(slice_, epochs=3)
    slice_.add_argument("--grid", type=int, help="grid points per axis (default: the model's on the device, a "
                                                 "slice in under a minute; 21 on a GPU)")
    slice_.add_argument("--directions", default="pca", choices=DIRECTIONS,
                        help="pca: through the paths' common start, along the top two directions of the centred "
                             "PCA of their points (explained variance ratio, as Li et al.'s code); pca-uncentred: "
                             "the plane through the start that keeps the most of the squared displacement from it "
                             "(each direction's share of it); random: filter-normalised, through the end of the "
                             "finished run with the lowest training loss")
    slice_.add_argument("--evaluation-images", type=int,
                        help="training and validation images the grid's loss is the mean over (default: the "
                             "model's on the device, as --grid; 1000 on a GPU)")
    slice_.add_argument("--record-every", type=int,
                        help="steps between recorded points (default: about 40 points, every 6th step at most)")
    slice_.add_argument("--target-loss", type=_number,
                        help="the loss '[k]' counts the steps to (default: the lowest every run reached)")
    slice_.add_argument("--out", default="slice")
    slice_.add_argument("--overwrite", action="store_true", help="replace the slice an earlier run left in --out")
    slice_.set_defaults(run=_slice)

    app = commands.add_parser("app", help="serve the explorer as a standalone web page (Voilà; make app)")
    app.add_argument("--port", type=int, help="default: a free port")
    app.add_argument("--setting", help="a saved setting (JSON) the printed link opens")
    app.add_argument("--open", action="store_true", help="open the page in a browser")
    app.add_argument("--keep-unconnected", type=int, metavar="SECONDS",
                     help="shut down a page's kernel once no browser has been connected to it for this "
                          "long (a laptop closed without closing the tab; default 300)")
    app.add_argument("--preheat", type=int, metavar="N",
                     help="keep N kernels ready with the page computed, so that the next N pages open with "
                          "their picture at once (each ~0.5 GB while it waits; 0: none; default 1)")
    app.set_defaults(run=_app)

    lecture = commands.add_parser("lecture", help="render all lecture GIFs (make gifs)")
    lecture.add_argument("--out", default="gifs")
    lecture.add_argument("--text-size", **text_size)
    lecture.add_argument("--pages", action="store_true", help="write the slides' interactive HTML pages instead "
                                                             "(make pages), beside the GIFs")
    lecture.set_defaults(run=_lecture)
    return root


def _negative_values_joined(argv: list[str]) -> list[str]:
    """``--lrs -1:1:3`` as ``--lrs=-1:1:3``: argparse takes a value that starts with '-' (and is
    not a plain number) for an option, and would answer "expected one argument" instead of saying
    what is wrong with the value."""
    joined = []
    for token in argv:
        if (joined and joined[-1].startswith("--") and "=" not in joined[-1]
                and re.match(r"-\.?\d", token) and not re.fullmatch(r"-\d+(\.\d*)?|-\.\d+", token)):
            joined[-1] = f"{joined[-1]}={token}"
        else:
            joined.append(token)
    return joined


def main(argv: list[str] | None = None) -> int:
    matplotlib.use("Agg")
    try:
        with termination_raises():  # SIGTERM, like Ctrl-C, unwinds: no temporaries are left
            arguments = parser().parse_args(_negative_values_joined(sys.argv[1:] if argv is None else argv))
            arguments.run(arguments)
    except (_UsageError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader left (`show-rule adam | head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit flush is quiet
        return 0
    except KeyboardInterrupt as interruption:
        try:
            _stopped(interruption, "stopped; no file was left half-written (files appear whole or not at all)")
        except SystemExit as stopped:
            return stopped.code
    return 0


def _stopped(interruption: KeyboardInterrupt, kept: str) -> None:
    """Say what an interruption kept, and exit as an interrupted command does: status 130 for
    Ctrl-C, 143 for SIGTERM."""
    terminated = isinstance(interruption, Terminated)
    print(f"interrupted ({'SIGTERM' if terminated else 'Ctrl-C'}): {kept}", file=sys.stderr)
    raise SystemExit(143 if terminated else 130) from None
