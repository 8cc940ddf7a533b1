"""Step time of landscape.optim vs torch.optim (foreach) for every algorithm both have.

Measured side by side in one process: for each algorithm, blocks of steps of ours and of
torch's alternate (so drifts in machine load hit both), on identical parameters and gradients;
the ratio is median(ours) / median(torch). Target on CPU: <= 1.10 for every algorithm.

    python benchmarks/optim_step.py [--device cuda] [--blocks 15] [--steps 10]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import landscape.optim as lo

# the 808,458-parameter CNN of the "neural-net-optimization" study: 20 tensors
CNN_SHAPES = ([(64, 3, 5, 5), (64,)] + [(64, 64, 3, 3), (64,), (64,), (64,)] * 4
              + [(10, 65536), (10,)])
# a 3-layer MLP on CIFAR-10 images, 3072-2048-2048-10: ~10.5M parameters in 6 tensors
MLP_SHAPES = [(2048, 3072), (2048,), (2048, 2048), (2048,), (10, 2048), (10,)]

# (name, ours, torch's, hyper-parameters)
SHARED = [
    ("SGD", lo.SGD, torch.optim.SGD, dict(lr=0.01)),
    ("SGD momentum", lo.SGD, torch.optim.SGD, dict(lr=0.01, momentum=0.9)),
    ("SGD Nesterov", lo.SGD, torch.optim.SGD, dict(lr=0.01, momentum=0.9, nesterov=True)),
    ("SGD + L2", lo.SGD, torch.optim.SGD, dict(lr=0.01, momentum=0.9, weight_decay=5e-4)),
    ("Adagrad", lo.Adagrad, torch.optim.Adagrad, dict(lr=0.01)),
    ("RMSprop", lo.RMSprop, torch.optim.RMSprop, dict(lr=0.01)),
    ("RMSprop centered", lo.RMSprop, torch.optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.9)),
    ("Adadelta", lo.Adadelta, torch.optim.Adadelta, dict()),
    ("Adam", lo.Adam, torch.optim.Adam, dict(lr=1e-3)),
    ("Adam + L2", lo.Adam, torch.optim.Adam, dict(lr=1e-3, weight_decay=1e-4)),
    ("AdamW", lo.AdamW, torch.optim.AdamW, dict(lr=1e-3)),
    ("AMSGrad", lo.Adam, torch.optim.Adam, dict(lr=1e-3, amsgrad=True)),
    ("NAdam", lo.NAdam, torch.optim.NAdam, dict(lr=1e-3)),
    ("NAdamW", lo.NAdam, torch.optim.NAdam, dict(lr=1e-3, weight_decay=1e-2, decoupled_weight_decay=True)),
    ("RAdam", lo.RAdam, torch.optim.RAdam, dict(lr=1e-3)),
    ("RAdamW", lo.RAdam, torch.optim.RAdam, dict(lr=1e-3, weight_decay=1e-2, decoupled_weight_decay=True)),
]


def _parameters(shapes, device):
    generator = torch.Generator().manual_seed(0)
    params = []
    for shape in shapes:
        p = torch.randn(shape, generator=generator).to(device).requires_grad_()
        p.grad = torch.randn(shape, generator=generator).to(device) * 1e-2
        params.append(p)
    return params


def _seconds_per_step(optimizer, steps, device):
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def compare(make_ours, make_theirs, shapes, device, blocks, steps):
    """Median seconds per step of ours and of theirs, measured in alternating blocks."""
    ours = make_ours(_parameters(shapes, device))
    theirs = make_theirs(_parameters(shapes, device))
    for optimizer in (ours, theirs):  # warm-up: state allocation, lazy initialisation
        _seconds_per_step(optimizer, 3, device)
    times_ours, times_theirs = [], []
    for _ in range(blocks):
        times_ours.append(_seconds_per_step(ours, steps, device))
        times_theirs.append(_seconds_per_step(theirs, steps, device))
    return statistics.median(times_ours), statistics.median(times_theirs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--blocks", type=int, default=15)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    device = torch.device(args.device)
    sets = {"CNN 0.81M / 20 tensors": CNN_SHAPES, "MLP 10.5M / 6 tensors": MLP_SHAPES}
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"{args.blocks} alternating blocks of {args.steps} steps, float32")
    print("| algorithm | parameter set | ours ms/step | torch foreach ms/step | ratio |")
    print("| --- | --- | ---: | ---: | ---: |")
    worst = 0.0
    rows = [(name, ours, theirs, hp, {"foreach": True}) for name, ours, theirs, hp in SHARED]
    if device.type == "cuda":
        rows += [(f"{name} (vs fused)", ours, theirs, hp, {"fused": True})
                 for name, ours, theirs, hp in SHARED if name in ("Adam", "AdamW")]
    for name, ours, theirs, hp, flags in rows:
        for set_name, shapes in sets.items():
            mine, torch_time = compare(lambda p: ours(p, **hp), lambda p: theirs(p, **hp, **flags),
                                       shapes, device, args.blocks, args.steps)
            ratio = mine / torch_time
            worst = max(worst, ratio)
            print(f"| {name} | {set_name} | {mine * 1e3:.3f} | {torch_time * 1e3:.3f} | {ratio:.2f} |",
                  flush=True)
    print(f"worst ratio: {worst:.2f}")


if __name__ == "__main__":
    main()
