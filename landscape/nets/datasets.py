"""The data sets the networks train on, by name: CIFAR-10 (``data``) and MNIST (``mnist``), each
with its loader and the model a run takes by default; which models take which data set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import data, mnist, models
from .images import ImageData


@dataclass(frozen=True)
class Dataset:
    title: str  # ImageData.name of what ``load`` returns
    locate: Callable[..., object]  # where its files are (downloading them if needed)
    load: Callable[..., ImageData]
    default_model: str

    def models(self) -> list[str]:
        """The models that take this data set's images."""
        return [name for name, cls in models.MODELS.items() if DATASETS[cls.dataset] is self]


DATASETS = {"cifar10": Dataset("CIFAR-10", data.locate, data.load, "cnn"),
            "mnist": Dataset("MNIST", mnist.locate, mnist.load, "mnist-mlp")}


def check(dataset: str) -> Dataset:
    if dataset not in DATASETS:
        raise ValueError(f"Invalid dataset {dataset!r}; valid: {', '.join(DATASETS)}")
    return DATASETS[dataset]


def model_for(dataset: str, model: str | None) -> str:
    """``model``, if it takes ``dataset``'s images (None: the data set's default model); else
    ``ValueError`` naming the models that do."""
    check(dataset)
    model = model or DATASETS[dataset].default_model
    if model not in models.MODELS:
        raise ValueError(f"Invalid model {model!r}; valid: {', '.join(models.MODELS)}")
    if models.MODELS[model].dataset != dataset:
        fitting = DATASETS[dataset].models()
        raise ValueError(f"Invalid model {model!r} for {dataset}: it takes {models.MODELS[model].dataset} "
                         f"images; for {dataset}: {', '.join(fitting)}")
    return model


def dataset_of(data: ImageData) -> str:
    """The name (a key of DATASETS) of loaded data."""
    return next(name for name, dataset in DATASETS.items() if dataset.title == data.name)
