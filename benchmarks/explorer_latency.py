"""The explorer, driven from Python: slider change -> frame drawn (without frames drawn ahead),
also with a step's arrows shown, and ▶ (one iteration on) with them; the first computation for a
new start and for each new surface (the sweep records every row's optimizer state); the Real
networks tab's sweep
sliders (a cell's picture looked up once drawn, and drawn on a miss). Targets: median slider
update <= 50 ms; first computation for a new surface or start <= 1 s. In the browser:
benchmarks/explorer_browser.py.

    python benchmarks/explorer_latency.py
"""

from __future__ import annotations

import statistics
import time

import matplotlib

matplotlib.use("Agg")

from landscape import app, surfaces, trajectory  # noqa: E402


def main() -> None:
    started = time.perf_counter()
    explorer = app.Explorer(surface="two-well", optimizers="sgd, momentum, nesterov, adam", steps=150)
    explorer.wait()
    explorer.landscape.prefetch = False  # every frame drawn on demand: the cost of a cache miss
    print(f"first explorer in this process: {time.perf_counter() - started:.2f} s (includes torch's "
          f"one-time import of torch._dynamo by torch.optim.Optimizer)")
    lrs = [float(v) for v in app.LEARNING_RATES[::3]]
    momenta = [float(v) for v in app.MOMENTA[::4]]
    slider = []
    for lr in lrs:
        for momentum in momenta:
            explorer.controls.lr.value = lr
            explorer.wait()
            start = time.perf_counter()
            explorer.controls.momentum.value = momentum
            explorer.wait()
            slider.append(time.perf_counter() - start)
    explorer.vectors.value = "nesterov"  # its 4 arrows, from the cell's recorded state
    explorer.iteration.value = 60
    explorer.wait()
    with_arrows, step_on = [], []
    for lr in lrs:
        explorer.controls.lr.value = lr
        explorer.wait()
        start = time.perf_counter()
        explorer.controls.momentum.value = momenta[len(momenta) // 2 + len(with_arrows) % 2]
        explorer.wait()
        with_arrows.append(time.perf_counter() - start)
        start = time.perf_counter()
        explorer.forward.click()
        explorer.wait()
        step_on.append(time.perf_counter() - start)
    explorer.vectors.value = ""
    new_start = []
    for x, y in [(0.3, 1.0), (-1.5, 1.2), (1.6, -0.8), (0.0, -1.2), (1.0, 1.0)]:
        start = time.perf_counter()
        explorer.set_start(x, y)
        explorer.wait()
        new_start.append(time.perf_counter() - start)
    new_surface = {}
    for name in [s for s in surfaces.SURFACES if s != "two-well"] + ["two-well"]:
        start = time.perf_counter()
        explorer.controls.surface.value = name  # first visit: minima located, figure drawn
        explorer.wait()
        new_surface[name] = time.perf_counter() - start
    specs, surface = ["sgd", "momentum", "nesterov", "adam"], surfaces.get("two-well")
    separate, together, recorded = [], [], []
    for _ in range(5):  # the explorer's precomputation, alternating the ways
        start = time.perf_counter()
        for spec in specs:
            trajectory.sweep(surface, spec, app.LEARNING_RATES, app.MOMENTA if spec != "sgd" else None, steps=150)
        separate.append(time.perf_counter() - start)
        start = time.perf_counter()
        trajectory.sweeps(surface, specs, app.LEARNING_RATES, app.MOMENTA, steps=150)
        together.append(time.perf_counter() - start)
        start = time.perf_counter()
        trajectory.sweeps(surface, specs, app.LEARNING_RATES, app.MOMENTA, steps=150, record_state=True)
        recorded.append(time.perf_counter() - start)
    print(f"the 4 grids one by one: median {statistics.median(separate):.3f} s; stepped together "
          f"(trajectory.sweeps): {statistics.median(together):.3f} s "
          f"({statistics.median(separate) / statistics.median(together):.2f}x); recording the optimizers' "
          f"state (the explorer's): {statistics.median(recorded):.3f} s")
    print(f"slider change -> figure updated (JPEG frame ready): median {statistics.median(slider) * 1e3:.1f} ms, "
          f"p90 {sorted(slider)[int(0.9 * len(slider))] * 1e3:.1f} ms over {len(slider)} changes")
    print(f"with nesterov's arrows: slider change median {statistics.median(with_arrows) * 1e3:.1f} ms, max "
          f"{max(with_arrows) * 1e3:.1f} ms; ▶ (one iteration on) median {statistics.median(step_on) * 1e3:.1f} ms, "
          f"max {max(step_on) * 1e3:.1f} ms over {len(step_on)}")
    work = f"4 optimizers x {len(app.LEARNING_RATES)} lr x {len(app.MOMENTA)} momenta x 150 steps"
    print(f"new start ({work}, figure reused): median {statistics.median(new_start):.2f} s, "
          f"max {max(new_start):.2f} s over {len(new_start)}")
    print(f"new surface ({work}, new figure): median {statistics.median(new_surface.values()):.2f} s, "
          f"max {max(new_surface.values()):.2f} s over {len(new_surface)}: "
          + ", ".join(f"{name} {seconds:.2f}" for name, seconds in new_surface.items()))
    network_sweep_sliders()


def network_sweep_sliders() -> None:
    """The Real networks tab's lr and momentum sliders over a 6 x 4 sweep of the MNIST MLP on random
    images: a move to a cell drawn already (the panel draws them all while idle), and to one not."""
    import torch

    from landscape.nets import mnist
    from landscape.nets.images import ImageData

    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (512, 1, 28, 28), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 10, (512,), generator=generator)
    data = ImageData(images, labels, images[:128], labels[:128], mnist.MEAN, mnist.STD, "MNIST")
    tab = app.NetworksTab()
    tab.dataset.value, tab.epochs.value = "mnist", 2
    tab.load_data = lambda status: (data, "512 random images")
    panel = tab.sweep
    panel.lrs.value, panel.momenta.value = "0.001:1:6", "0:0.9:4"
    panel.worker.stop()  # no drawing ahead: first the cost of a miss
    panel.run()
    misses = []
    for cell in [(i, j) for i in range(6) for j in range(4)][:8]:
        start = time.perf_counter()
        panel._publish(panel._render(cell))
        misses.append(time.perf_counter() - start)
    for i in range(6):
        for j in range(4):
            panel._render((i, j))
    hits = []
    for cell in [(i, j) for i in range(6) for j in range(4)]:
        start = time.perf_counter()
        with panel.mute():
            panel.lr.index, panel.momentum.index = cell
        panel.show()
        hits.append(time.perf_counter() - start)
    print(f"network sweep slider -> cell picture shown: drawn already (the usual case once the sweep is done): "
          f"median {statistics.median(hits) * 1e3:.2f} ms; not drawn yet: median "
          f"{statistics.median(misses) * 1e3:.0f} ms over {len(misses)}")


if __name__ == "__main__":
    main()
