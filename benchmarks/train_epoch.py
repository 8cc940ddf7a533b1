"""Real-network speed: epoch time with landscape.optim.Adam vs torch.optim.Adam (foreach), epoch
time with and without recording the weights (``train_and_compare(record=True)``), and our
on-device loader vs a standard Dataset/DataLoader. Each measured side by side in one run.

    python benchmarks/train_epoch.py [--data-dir ../shared/data] [--device cpu|cuda]
                                     [--synthetic 50000] [--epochs 3] [--only recording]
                                     [--models mlp]

Targets: epoch-time ratio ours/torch <= 1.05 and recording/not <= 1.05 for the CNN and the MLP.
Recording runs at the default N of a one-epoch run, the densest default (about 40 points an
epoch). ``--synthetic N`` uses N random images of CIFAR shape (when the real set cannot travel,
e.g. to a GPU machine).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch
from torch.utils.data import DataLoader, Dataset

import landscape.optim as lo
from landscape.nets import data as cifar
from landscape.nets.images import ImageData
from landscape.nets import models, train


def _synchronise(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def _epoch_seconds(model, optimizer, dataset, batch_size, epoch, device, recorder=None):
    """One epoch's seconds; with a ``train.PathRecorder`` (made for this epoch) recording as
    ``train_and_compare(record=True)`` does."""
    generator = torch.Generator().manual_seed(epoch)
    _synchronise(device)
    start = time.perf_counter()
    for step, (x, y) in enumerate(dataset.train_batches(batch_size, generator), start=1):
        loss, _ = models.loss_and_correct(model, x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if recorder is not None:
            recorder.after_step(step)
    _synchronise(device)
    return time.perf_counter() - start


def optimizer_ratio(name, dataset, epochs, batch_size, device):
    """Alternate epochs of ours and torch's Adam on identical models and batches."""
    ours_model = models.create(name).to(device)
    torch_model = models.create(name).to(device)
    ours = lo.Adam(ours_model.parameters(), lr=1e-3)
    theirs = torch.optim.Adam(torch_model.parameters(), lr=1e-3, foreach=True)
    _epoch_seconds(ours_model, ours, dataset, batch_size, 0, device)  # warm-up
    _epoch_seconds(torch_model, theirs, dataset, batch_size, 0, device)
    times_ours, times_torch = [], []
    for epoch in range(1, epochs + 1):
        times_ours.append(_epoch_seconds(ours_model, ours, dataset, batch_size, epoch, device))
        times_torch.append(_epoch_seconds(torch_model, theirs, dataset, batch_size, epoch, device))
    return statistics.median(times_ours), statistics.median(times_torch)


def recording_ratio(name, dataset, epochs, batch_size, device):
    """Alternate epochs of Adam with and without recording, on identical models and batches."""
    plain_model, recorded_model = models.create(name).to(device), models.create(name).to(device)
    plain = lo.Adam(plain_model.parameters(), lr=1e-3)
    recorded = lo.Adam(recorded_model.parameters(), lr=1e-3)
    steps = math.ceil(len(dataset.train_labels) / batch_size)
    every = train.default_record_every(steps)
    _epoch_seconds(plain_model, plain, dataset, batch_size, 0, device)  # warm-up
    _epoch_seconds(recorded_model, recorded, dataset, batch_size, 0, device,
                   train.PathRecorder(recorded_model, every, steps))
    times_plain, times_recorded = [], []
    for epoch in range(1, epochs + 1):
        times_plain.append(_epoch_seconds(plain_model, plain, dataset, batch_size, epoch, device))
        recorder = train.PathRecorder(recorded_model, every, steps)  # made before the epoch, as in training
        times_recorded.append(_epoch_seconds(recorded_model, recorded, dataset, batch_size, epoch, device,
                                             recorder))
    return statistics.median(times_recorded), statistics.median(times_plain), every


class PerImageDataset(Dataset):
    """The usual Dataset: one image at a time, normalised in __getitem__."""

    def __init__(self, images, labels):
        self.images, self.labels = images, labels
        self.mean = torch.tensor(cifar.MEAN).view(3, 1, 1)
        self.std = torch.tensor(cifar.STD).view(3, 1, 1)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return (self.images[index].float() / 255 - self.mean) / self.std, self.labels[index]


def loader_ratio(dataset, batch_size, device, repeats=3):
    """Images per second producing normalised, shuffled batches on ``device``."""
    standard = DataLoader(PerImageDataset(dataset.train_images.cpu(), dataset.train_labels.cpu()),
                          batch_size=batch_size, shuffle=True, num_workers=0,
                          pin_memory=device.type == "cuda")
    count = len(dataset.train_labels)
    ours_times, standard_times = [], []
    for repeat in range(repeats):
        _synchronise(device)
        start = time.perf_counter()
        for x, y in dataset.train_batches(batch_size, torch.Generator().manual_seed(repeat)):
            pass
        _synchronise(device)
        ours_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        for x, y in standard:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        _synchronise(device)
        standard_times.append(time.perf_counter() - start)
    return count / statistics.median(ours_times), count / statistics.median(standard_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--synthetic", type=int, help="use N random CIFAR-shaped images")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--only", choices=("optimizer", "recording", "loader"),
                        help="measure only this (default: all three)")
    parser.add_argument("--models", default="mlp,cnn", help="comma-separated (default: mlp,cnn)")
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.synthetic:
        generator = torch.Generator().manual_seed(0)
        images = torch.randint(0, 256, (args.synthetic, 3, 32, 32), dtype=torch.uint8, generator=generator)
        labels = torch.randint(0, 10, (args.synthetic,), generator=generator)
        dataset = ImageData(images.to(device), labels.to(device), images[:1000].to(device),
                            labels[:1000].to(device), cifar.MEAN, cifar.STD)
        source = f"{args.synthetic} synthetic images"
    else:
        dataset = cifar.load(args.data_dir, device=device, download_missing=False)
        source = f"{len(dataset.train_labels)} CIFAR-10 images from {args.data_dir}"
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, {source}, "
          f"batch {args.batch_size}, median of {args.epochs} alternating epochs")
    if args.only in (None, "optimizer"):
        print("| model | ours s/epoch | torch foreach s/epoch | ratio |")
        print("| --- | ---: | ---: | ---: |")
        for name in args.models.split(","):
            ours, theirs = optimizer_ratio(name, dataset, args.epochs, args.batch_size, device)
            print(f"| {name} (Adam) | {ours:.3f} | {theirs:.3f} | {ours / theirs:.3f} |", flush=True)
    if args.only in (None, "recording"):
        print("| model | recording s/epoch | not recording s/epoch | ratio |")
        print("| --- | ---: | ---: | ---: |")
        for name in args.models.split(","):
            recorded, plain, every = recording_ratio(name, dataset, args.epochs, args.batch_size, device)
            print(f"| {name} (Adam, every {every} steps) | {recorded:.3f} | {plain:.3f} | "
                  f"{recorded / plain:.3f} |", flush=True)
    if args.only in (None, "loader"):
        ours_rate, standard_rate = loader_ratio(dataset, args.batch_size, device)
        print(f"loader: ours {ours_rate:,.0f} images/s, Dataset/DataLoader {standard_rate:,.0f} images/s, "
              f"ratio {ours_rate / standard_rate:.1f}x")


if __name__ == "__main__":
    main()
