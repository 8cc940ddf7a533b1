"""Command line: ``python -m landscape <command>``.

Errors in what the user typed print one line and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys

import torch

from . import optim


def _list_optimizers(args) -> None:
    print("base rules:  " + ", ".join(optim.BASE_RULES))
    print("modifiers:   " + ", ".join(optim.MODIFIERS))
    print("extensions:  " + ", ".join(optim.EXTENSIONS))
    print("example:     radamw+nesterov+gradnoise+lrdropout+lookahead")


def _rosenbrock(p: torch.Tensor) -> torch.Tensor:
    x, y = p[..., 0], p[..., 1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _demo(args) -> None:
    """Each spec from the same start on Rosenbrock; the loss after ``--steps`` steps."""
    specs = [s.strip() for s in args.optimizers.split(",") if s.strip()]
    parsed = [optim.parse(s) for s in specs]
    print(f"Rosenbrock from (-1.5, 2), {args.steps} steps, lr={args.lr}")
    for spec in parsed:
        point = torch.tensor([[-1.5, 2.0]], dtype=torch.float64, requires_grad=True)
        optimizer = spec.build([point], lr=args.lr, seed=0)
        for _ in range(args.steps):
            optimizer.zero_grad()
            _rosenbrock(point).sum().backward()
            optimizer.step()
        loss = _rosenbrock(point.detach()).item()
        print(f"  {spec.text:<45} loss {loss:.3e}  at ({point[0, 0]:.3f}, {point[0, 1]:.3f})")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text}")
    return value


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m landscape", description=__doc__.splitlines()[0])
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("list-optimizers", help="the spec words optimizers are built from") \
        .set_defaults(run=_list_optimizers)
    demo = commands.add_parser("demo", help="a few optimizers on Rosenbrock, printed")
    demo.add_argument("--optimizers", default="sgd,momentum,nesterov,adam,radamw+lookahead")
    demo.add_argument("--lr", type=float, default=1e-3)
    demo.add_argument("--steps", type=_positive_int, default=2000)
    demo.set_defaults(run=_demo)
    return root


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        arguments.run(arguments)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
