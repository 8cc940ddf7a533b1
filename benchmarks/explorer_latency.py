"""The explorer, driven from Python: slider change -> figure updated, and the first computation
for a new surface/start. Targets: median slider update <= 50 ms; first computation <= 1 s.

    python benchmarks/explorer_latency.py
"""

from __future__ import annotations

import statistics
import time

import matplotlib

matplotlib.use("Agg")

from landscape import app, surfaces  # noqa: E402


def main() -> None:
    surfaces.get("two-well").minima  # known minima: computed once per session, not per start
    explorer = app.Explorer(surface="two-well", optimizers="sgd, momentum, nesterov, adam", steps=150)
    lrs = [float(v) for v in app.LEARNING_RATES[::3]]
    momenta = [float(v) for v in app.MOMENTA[::4]]
    slider = []
    for lr in lrs:
        for momentum in momenta:
            start = time.perf_counter()
            explorer.lr_slider.value = lr
            explorer.momentum_slider.value = momentum
            slider.append((time.perf_counter() - start) / 2)  # two slider changes, each redrawn
    first = []
    for x, y in [(0.3, 1.0), (-1.5, 1.2), (1.6, -0.8), (0.0, -1.2), (1.0, 1.0)]:
        start = time.perf_counter()
        explorer.set_start(x, y)
        first.append(time.perf_counter() - start)
    print(f"slider change -> figure updated (JPEG frame ready): median {statistics.median(slider) * 1e3:.1f} ms, "
          f"p90 {sorted(slider)[int(0.9 * len(slider))] * 1e3:.1f} ms over {len(slider)} changes")
    print(f"new start: 4 optimizers x {len(app.LEARNING_RATES)} lr x {len(app.MOMENTA)} momenta x 150 steps, "
          f"redrawn: median {statistics.median(first):.2f} s over {len(first)}")


if __name__ == "__main__":
    main()
