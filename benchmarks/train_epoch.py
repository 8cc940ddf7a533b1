"""Real-network speed: epoch time with landscape.optim.Adam vs torch.optim.Adam (foreach), and
our on-device loader vs a standard Dataset/DataLoader. Both measured side by side in one run.

    python benchmarks/train_epoch.py [--data-dir ../shared/data] [--device cpu|cuda]
                                     [--synthetic 50000] [--epochs 3]

Targets: epoch-time ratio ours/torch <= 1.05 for the CNN and the MLP. ``--synthetic N`` uses N
random images of CIFAR shape (when the real set cannot travel, e.g. to a GPU machine).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.utils.data import DataLoader, Dataset

import landscape.optim as lo
from landscape.nets import data as cifar
from landscape.nets import models


def _synchronise(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def _epoch_seconds(model, optimizer, dataset, batch_size, epoch, device):
    generator = torch.Generator().manual_seed(epoch)
    _synchronise(device)
    start = time.perf_counter()
    for x, y in dataset.train_batches(batch_size, generator):
        loss, _ = models.loss_and_correct(model, x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
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
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.synthetic:
        generator = torch.Generator().manual_seed(0)
        images = torch.randint(0, 256, (args.synthetic, 3, 32, 32), dtype=torch.uint8, generator=generator)
        labels = torch.randint(0, 10, (args.synthetic,), generator=generator)
        dataset = cifar.CIFAR10(images.to(device), labels.to(device), images[:1000].to(device),
                                labels[:1000].to(device))
        source = f"{args.synthetic} synthetic images"
    else:
        dataset = cifar.load(args.data_dir, device=device, download_missing=False)
        source = f"{len(dataset.train_labels)} CIFAR-10 images from {args.data_dir}"
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}, {source}, "
          f"batch {args.batch_size}, median of {args.epochs} alternating epochs")
    print("| model | ours s/epoch | torch foreach s/epoch | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for name in ("mlp", "cnn"):
        ours, theirs = optimizer_ratio(name, dataset, args.epochs, args.batch_size, device)
        print(f"| {name} (Adam) | {ours:.3f} | {theirs:.3f} | {ours / theirs:.3f} |", flush=True)
    ours_rate, standard_rate = loader_ratio(dataset, args.batch_size, device)
    print(f"loader: ours {ours_rate:,.0f} images/s, Dataset/DataLoader {standard_rate:,.0f} images/s, "
          f"ratio {ours_rate / standard_rate:.1f}x")


if __name__ == "__main__":
    main()
