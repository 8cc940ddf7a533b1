"""The small networks of the comparison, each with the data set it takes (``dataset``) and the
loss it is trained on (``task``)."""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call


class MLP3(nn.Module):
    """3 fully connected layers, 3072-512-256-10, ReLU: classification."""

    dataset = "cifar10"
    task = "classification"

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(3072, 512), nn.ReLU(),
                                    nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))

    def forward(self, x):
        return self.layers(x)


class CNN(nn.Module):
    """2 convolutions (5x5, 32 and 64 channels, each + ReLU + 2x2 max-pool), then 2 fully
    connected layers 4096-256-10: classification."""

    dataset = "cifar10"
    task = "classification"

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(64 * 8 * 8, 256), nn.ReLU(),
                                        nn.Linear(256, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


class AutoencoderMLP4(nn.Module):
    """4 fully connected layers 3072-512-64-512-3072 (ReLU between): reconstruction (MSE)."""

    dataset = "cifar10"
    task = "reconstruction"

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(3072, 512), nn.ReLU(), nn.Linear(512, 64),
                                    nn.ReLU(), nn.Linear(64, 512), nn.ReLU(), nn.Linear(512, 3072))

    def forward(self, x):
        return self.layers(x).view_as(x)


class SeedCNN(nn.Module):
    """The 808,458-parameter CNN of the public "neural-net-optimization" study: conv 3->64 k5 p2
    + ReLU, 4 x [conv 64->64 k3 p1, BatchNorm, ReLU], flatten, linear 65536->10."""

    dataset = "cifar10"
    task = "classification"

    def __init__(self):
        super().__init__()
        blocks = [nn.Conv2d(3, 64, 5, padding=2), nn.ReLU()]
        for _ in range(4):
            blocks += [nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU()]
        self.layers = nn.Sequential(*blocks, nn.Flatten(), nn.Linear(64 * 32 * 32, 10))

    def forward(self, x):
        return self.layers(x)


class MNISTMLP(nn.Module):
    """The seed study's MNIST network: 2 fully connected layers, 784-64-10, ReLU: classification."""

    dataset = "mnist"
    task = "classification"

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):
        return self.layers(x)


MODELS = {"mlp": MLP3, "cnn": CNN, "autoencoder": AutoencoderMLP4, "seed-cnn": SeedCNN, "mnist-mlp": MNISTMLP}


INPUT_SHAPES = {"cifar10": (3, 32, 32), "mnist": (1, 28, 28)}  # one image of each data set


def input_shape(name: str) -> tuple[int, int, int]:
    """The shape of one image model ``name`` takes: (channels, height, width)."""
    return INPUT_SHAPES[MODELS[name].dataset]


def create(name: str, seed: int = 0) -> nn.Module:
    """A freshly initialised model; the same ``seed`` gives the same weights."""
    if name not in MODELS:
        raise ValueError(f"Invalid model {name!r}; valid: {', '.join(MODELS)}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return MODELS[name]()


def loss_and_correct(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                     weights: dict[str, torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The model's training loss on a batch (its ``task``'s: cross-entropy, or the reconstruction's
    mean squared error) and the number classified right (0 for an autoencoder). ``weights``
    ({name: tensor}) runs the model with those instead of its own (``torch.func.functional_call``),
    as each of B copies does under ``vmap`` (``copies.py``)."""
    output = model(x) if weights is None else functional_call(model, weights, (x,))
    if model.task == "reconstruction":
        return nn.functional.mse_loss(output, x), torch.zeros((), dtype=torch.int64, device=x.device)
    return nn.functional.cross_entropy(output, y), (output.argmax(1) == y).sum()
