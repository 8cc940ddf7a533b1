"""GIF export: 6 optimizers x 150 frames at 960x540 on the two-well surface.
Targets: <= 5 s (runs, drawing, encoding included) and <= 2 MB.

    python benchmarks/gif_export.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

import matplotlib

matplotlib.use("Agg")

from landscape import animate, surfaces, trajectory  # noqa: E402

OPTIMIZERS = ["sgd", "momentum", "nesterov", "adam", "rmsprop", "radam"]


def main() -> None:
    surface = surfaces.get("two-well")
    surface.minima
    times, stages = [], {}
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bench.gif")
        animate.export_gif(path, surface, ["sgd"], steps=5, size=(320, 180))  # warm-up
        for _ in range(3):
            start = time.perf_counter()
            animate.export_gif(path, surface, OPTIMIZERS, lr=0.01, steps=149, starts=[(0.2, 1.2)])
            times.append(time.perf_counter() - start)
        size = os.path.getsize(path)
        # where the time goes, once
        start = time.perf_counter()
        runs = trajectory.compare(surface, OPTIMIZERS, lr=0.01, steps=149, starts=[(0.2, 1.2)])
        stages["6 runs"] = time.perf_counter() - start
        start = time.perf_counter()
        animation = animate.TrajectoryAnimation(surface, runs)
        stages["figure + background"] = time.perf_counter() - start
        start = time.perf_counter()
        frames = list(animation.frame_images())
        stages["150 frames (blitting)"] = time.perf_counter() - start
        start = time.perf_counter()
        animate.write_gif(path, frames)
        stages["quantize + encode"] = time.perf_counter() - start
    print(f"6 optimizers x 150 frames at 960x540: median {statistics.median(times):.2f} s "
          f"over 3 (min {min(times):.2f}), {size / 1e6:.2f} MB")
    for stage, seconds in stages.items():
        print(f"  {stage:<24} {seconds:.2f} s")


if __name__ == "__main__":
    main()
