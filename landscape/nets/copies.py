"""B copies of one network trained together, each with its own hyper-parameters: the batched run
behind a network's lr x momentum sweep, as ``trajectory.sweep`` is for a surface.

Each of the model's parameters is stacked over the B copies into a (B, *shape) leaf, laid out as
its gradient comes back from backward (``_laid_out_as_gradients``). A forward pass runs every
copy on the same minibatch (``models.loss_and_correct`` with the copy's weights, vectorised over
the copies by ``torch.func.vmap``); one backward of Σ_b L_b(θ_b) gives each copy its own
gradient, since no copy's loss depends on another's weights. One ``landscape.optim`` optimizer
steps every leaf, one param group per leaf with the hyper-parameters as (B, 1, …) tensors, and
draws its random numbers (gradient noise, dropout masks) once for all copies in the shapes a
single run draws them (``SameForEveryCopy``). Every update rule is elementwise, so copy b equals
the single run with its setting, randomised extensions included (tests, float64). The epochs
are ``loop.train``'s, as a single run's. A copy whose loss stops being finite is marked diverged
at that step; it cannot reach the others, whose numbers stay as they were. The copies' flat
weights θ (B, P), row b copy b's in ``slice``'s order, are assembled after each epoch.

Models with buffers (BatchNorm) are refused: their running statistics would be shared.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor
from torch.func import vmap

from .. import optim, schedules
from ..optim.base import RandomSource
from . import loop, models
from .devices import activation_bytes, available_memory
from .images import VALIDATION_BATCH, ImageData

@dataclass
class Copies:
    """What B copies trained together did.

    ``settings``: each copy's hyper-parameters, {"lr": (B,), "momentum": (B,)}; ``step_losses``
    (T, B) the training loss of each step's batch; ``epochs``: ``loop.Epoch`` records of (B,)
    values; ``diverged_at`` (B,): the step a copy's loss stopped being finite, -1 if never;
    ``weights`` (B, P): each copy's weights at the end, on the training device.
    """

    model: str
    spec: optim.Spec
    settings: dict[str, Tensor]
    step_losses: Tensor
    epochs: list[loop.Epoch] = field(default_factory=list)
    diverged_at: Tensor | None = None
    weights: Tensor | None = None

    @property
    def count(self) -> int:
        return self.step_losses.shape[1]


def _per_copy(name: str, value, count: int) -> Tensor | None:
    """``value`` (a number, or one per copy) as a (B,) float64 tensor, finite; None stays None."""
    if value is None:
        return None
    values = torch.as_tensor(value, dtype=torch.float64).reshape(-1)
    if values.numel() == 1:
        values = values.expand(count)
    if values.numel() != count:
        raise ValueError(f"Invalid {name}: {values.numel()} values for {count} copies")
    if not torch.isfinite(values).all():
        raise ValueError(f"Invalid {name}: {values.tolist()} (expected finite numbers)")
    return values.clone()


def check_model(model_name: str) -> None:
    """``ValueError`` for a model whose copies cannot be batched: buffers (BatchNorm), or no
    parameters to train."""
    model = models.create(model_name)
    if not any(True for _ in model.parameters()):
        raise ValueError(f"Invalid model {model_name!r} for batched copies: it has no parameters to train")
    buffers = [name for name, _ in model.named_buffers()]
    if buffers:
        batched = ", ".join(name for name, cls in models.MODELS.items()
                            if not any(True for _ in cls().buffers()))
        raise ValueError(f"Invalid model {model_name!r} for batched copies: its buffers ({buffers[0]}, …: "
                         f"BatchNorm statistics) would be shared by the copies; batched: {batched}")


STATE_COPIES = 3  # weights, their gradients, optimizer state: copies of θ


def memory_estimate(model_name: str, count: int, batch_images: int, dtype=torch.float32,
                    evaluation_images: int = VALIDATION_BATCH) -> int:
    """Bytes that ``count`` copies take in training: ``STATE_COPIES`` + 1 tensors like θ (B, P)
    (an optimizer with two moments takes one more: ``check_memory`` leaves a fifth spare), and
    each copy's activations (``devices.activation_bytes``) for the larger of a training batch of
    ``batch_images`` images, twice (the backward pass), and ``evaluation_images`` at once."""
    model = models.create(model_name).to(dtype)
    weights = sum(p.numel() for p in model.parameters()) * (torch.finfo(dtype).bits // 8)
    activations = activation_bytes(model, torch.zeros(1, *models.input_shape(model_name), dtype=dtype))
    return count * ((STATE_COPIES + 1) * weights + max(2 * batch_images, evaluation_images) * activations)


def check_memory(model_name: str, count: int, batch_images: int, device: torch.device, dtype=torch.float32,
                 evaluation_images: int = VALIDATION_BATCH) -> None:
    """``ValueError`` with the estimate when ``count`` copies would not fit ``device`` (80 % of its
    free memory); ``batch_images``: the images in a training batch (the batch size, or fewer when
    the data has fewer)."""
    one = memory_estimate(model_name, 1, batch_images, dtype, evaluation_images)
    needed, free = count * one, available_memory(device)
    if needed > 0.8 * free:
        fits = int(0.8 * free / one)
        raise ValueError(f"Invalid sweep: {count:,} copies of {model_name} would take about {needed / 1e9:,.1f} GB "
                         f"on {device}, which has {free / 1e9:,.1f} GB free; "
                         + (f"at most about {fits:,} copies fit (fewer lrs or momenta" if fits else
                            "not even one copy fits (") + ", a smaller batch, or a larger device)")


class SameForEveryCopy(RandomSource):
    """The random streams of B copies that each draw what their single run draws: one draw in a
    copy's shape (a stacked (B, *shape) tensor's ``shape``), the same for every copy."""

    def rand_like(self, tensor: Tensor) -> Tensor:
        return super().rand_like(tensor[0]).expand_as(tensor).clone()  # a tensor of its own: stages write it

    def randn_like(self, tensor: Tensor) -> Tensor:
        return super().randn_like(tensor[0]).expand_as(tensor).clone()


def _stacked_parameters(model_name: str, seeds: Sequence[int], device, dtype) -> dict[str, Tensor]:
    """{name: (B, *shape)} leaves, copy b initialised as ``models.create(model_name, seeds[b])``."""
    made = {seed: dict(models.create(model_name, seed).to(device=device, dtype=dtype).named_parameters())
            for seed in set(seeds)}
    return {name: torch.stack([made[seed][name].detach() for seed in seeds]).requires_grad_()
            for name in made[seeds[0]]}


def _laid_out_as_gradients(parameters: dict[str, Tensor], loss_of, x: Tensor, y: Tensor) -> dict[str, Tensor]:
    """The same leaves re-allocated with the strides backward gives their gradients (found by one
    probe step on ``x``, ``y``): the autograd engine then keeps each gradient as it comes instead
    of copying it into the parameter's layout."""
    gradients = torch.autograd.grad(loss_of(parameters, x, y)[0].sum(), list(parameters.values()))
    laid_out = {}
    for (name, parameter), gradient in zip(parameters.items(), gradients):
        leaf = torch.empty_like(gradient, memory_format=torch.preserve_format)
        laid_out[name] = leaf.copy_(parameter.detach()).requires_grad_()
    return laid_out


def train_copies(model_name: str, spec: str | optim.Spec, data: ImageData, *, lr, momentum=None,
                 copies: int | None = None, seeds: Sequence[int] | None = None, epochs: int = 1,
                 batch_size: int = 128, seed: int = 0, dtype: torch.dtype = torch.float32,
                 schedule: str = "none", on_epoch: Callable[[Copies], None] | None = None,
                 progress: Callable[[int, int], None] | None = None, **hyperparameters) -> Copies:
    """Train B copies of ``model_name`` with ``spec`` together on ``data`` (see the module docstring).

    ``lr`` and ``momentum`` (β1 for the Adam family): a number for every copy or one per copy;
    B is ``copies``, else the number of ``seeds``, else the length of ``lr`` (or of ``momentum``).
    Every copy starts from ``models.create(model_name, seed)`` (the weights a single run with
    ``seed`` starts from) unless ``seeds`` gives each its own. Batches are drawn as
    ``train_and_compare`` draws them for ``seed`` (``loop.batch_order``), and so are the
    optimizer's random numbers, so copy b equals that single run with copy b's setting.
    ``schedule`` (``landscape.schedules``) scales every copy's lr after each epoch ("plateau"
    follows the best copy's validation loss); each epoch records its ``lr_factor``.
    ``on_epoch(result)`` after each epoch; ``progress(done, total)`` after each step.
    """
    spec = optim.parse(spec)
    if spec.lr is not None:
        raise ValueError(f"Invalid optimizer {spec.text!r}: copies take their learning rates from lr=, "
                         f"give the spec without @lr")
    check_model(model_name)
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("copies", copies)):
        if value is not None and (isinstance(value, bool) or not (isinstance(value, int) and value >= 1)):
            raise ValueError(f"Invalid {name}: {value!r} (expected an integer >= 1)")
    optim.require_seed(seed)
    seeds = None if seeds is None else [optim.require_seed(one) for one in seeds]
    for name, callback in (("on_epoch", on_epoch), ("progress", progress)):
        if callback is not None and not callable(callback):
            raise ValueError(f"Invalid {name}: {callback!r} (expected a function, or None)")
    sizes = [torch.as_tensor(v).numel() for v in (lr, momentum) if v is not None]
    count = copies or (len(seeds) if seeds else next((size for size in sizes if size > 1), 1))
    device = data.device
    check_memory(model_name, count, min(batch_size, len(data.train_labels)), device, dtype,
                 min(VALIDATION_BATCH, len(data.val_labels)))  # before anything the size of the copies
    settings = {"lr": _per_copy("lr", lr, count)}
    if momentum is not None:
        if spec.momentum_parameter is None:
            raise ValueError(f"Invalid momentum: {spec.text!r} has no momentum (its rule takes none)")
        settings["momentum"] = _per_copy("momentum", momentum, count)
    parameters = _stacked_parameters(model_name, seeds or [seed] * count, device, dtype)
    model = models.create(model_name, seed).to(device=device, dtype=dtype)
    loss_of = vmap(functools.partial(models.loss_and_correct, model), in_dims=(None, None, 0))

    def batched_loss(weights, x, y):
        return loss_of(x, y, weights)

    parameters = _laid_out_as_gradients(parameters, batched_loss,
                                        *next(data.train_batches(batch_size, torch.Generator(), dtype)))
    spec.build([torch.zeros(count, 1)], seed=seed, **hyperparameters,  # refuses bad values before training
               **{name: values.view(count, 1) for name, values in settings.items()})
    betas = {name: hyperparameters.pop(name) for name in ("beta1", "beta2", "betas") if name in hyperparameters}
    optimizer = spec.build([{"params": [parameter], **spec.group_values(**betas, **{
        name: values.to(device=device, dtype=dtype).view(count, *[1] * (parameter.dim() - 1))
        for name, values in settings.items()})} for parameter in parameters.values()],
        seed=seed, **hyperparameters)
    optimizer.random = SameForEveryCopy(seed)
    result = Copies(model_name, spec, settings, torch.empty(0, count))
    training = loop.Training(torch.empty(0, count, dtype=torch.float64))

    def step(x, y):
        for parameter in parameters.values():
            parameter.grad = None
        losses, _ = batched_loss(parameters, x, y)
        losses.sum().backward()  # Σ_b L_b: copy b's gradient is ∇L_b(θ_b)
        optimizer.step()
        return losses.detach()

    def after_epoch(training: loop.Training) -> None:
        result.step_losses, result.epochs, result.diverged_at = (training.step_losses, training.epochs,
                                                                 training.diverged_at)
        result.weights = torch.cat([parameter.detach().flatten(1) for parameter in parameters.values()], dim=1)
        if on_epoch is not None:
            on_epoch(result)

    loop.train(training, step,
               lambda: loop.evaluate(functools.partial(batched_loss, parameters), data, dtype,
                                     model.task == "classification"),
               data, epochs=epochs, batch_size=batch_size, seed=seed, dtype=dtype,
               schedule=schedules.Schedule(schedule, epochs, [optimizer]), after_step=progress,
               on_epoch=after_epoch)
    return result
