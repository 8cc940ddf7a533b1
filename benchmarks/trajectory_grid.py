"""A 64 x 16 (lr x momentum) grid x 500 steps on the two-well surface: one batched run vs the
same 1024 runs one by one. Targets: batched <= 0.5 s on the 2-core machine; one by one >= 100 s.

    python benchmarks/trajectory_grid.py [--sequential 1024]

``--sequential N`` times N of the single runs (all 1024 by default; fewer for a quick look, in
which case the total is extrapolated and labelled so).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from landscape import surfaces, trajectory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequential", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    surface = surfaces.get("two-well")
    surface.minima  # computed once, outside the timings
    lrs, momenta = torch.logspace(-3, 0, 64), torch.linspace(0.0, 0.95, 16)
    trajectory.sweep(surface, "momentum", lrs[:2], momenta[:2], steps=10)  # warm-up

    batched = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        trajectory.sweep(surface, "momentum", lrs, momenta, steps=500)
        batched.append(time.perf_counter() - start)
    batched_time = statistics.median(batched)

    pairs = [(lr, m) for lr in lrs.tolist() for m in momenta.tolist()][: args.sequential]
    start = time.perf_counter()
    for lr, momentum in pairs:
        trajectory.run(surface, "momentum", lr=lr, momentum=momentum, starts=[surface.start], steps=500)
    sequential_time = (time.perf_counter() - start) * 1024 / len(pairs)
    note = "" if len(pairs) == 1024 else f" (extrapolated from {len(pairs)} runs)"
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"batched: 1024 runs x 500 steps in one run: median {batched_time:.3f} s over {args.repeats}")
    print(f"one by one: 1024 runs x 500 steps: {sequential_time:.1f} s{note}")
    print(f"speed-up: {sequential_time / batched_time:.0f}x")


if __name__ == "__main__":
    main()
