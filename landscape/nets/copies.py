"""B copies of one network trained together, each with its own hyper-parameters: the batched run
behind a network's lr x momentum sweep, as ``trajectory.sweep`` is for a surface.

Each of the model's parameters is stacked over the B copies, a dense (B, *shape) leaf laid out
as its gradient comes back (a linear layer's weight gradient is a transposed batched product), so
that accumulating a gradient is not a copy (it was a sixth of a step for the MNIST MLP). A
forward pass runs every copy on the same minibatch with ``torch.func.functional_call`` over
them, vectorised by ``torch.func.vmap``; one backward of Σ_b L_b(θ_b) gives each copy its own
gradient, since no copy's loss depends on another's weights; one step of the same
``landscape.optim`` rule per parameter, with its hyper-parameters as (B, 1, …) tensors, updates
every copy as its own run would. (One (B, P) leaf θ with the parameters as its views made
backward fill a zero (B, P) tensor per parameter; gathering the parameters' gradients into θ's
cost a fifth of a step; strided views cost copies in the batched products.) The copies' flat
weights θ (B, P), row b copy b's in ``slice``'s order, are assembled after each epoch. Every
update rule is elementwise, so copy b equals the single run with its setting (tests:
float64, momentum, Adam, Nesterov with Lookahead). A copy whose loss stops being finite is marked
diverged at that step; it cannot reach the others, whose numbers stay as they were.

Models with buffers (BatchNorm) are refused: their running statistics would be shared.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor
from torch.func import functional_call, vmap

from .. import optim, schedules
from . import models
from .images import ImageData

@dataclass
class Copies:
    """What B copies trained together did.

    ``settings``: each copy's hyper-parameters, {"lr": (B,), "momentum": (B,)}; ``step_losses``
    (T, B) the training loss of each step's batch (NaN from where a copy diverged);
    ``epochs``: per epoch, ``train_loss``, ``val_loss``, ``val_accuracy`` (B,) each (None for an
    autoencoder's accuracy) and ``seconds``; ``diverged_at`` (B,): the step a copy's loss
    stopped being finite, -1 if never; ``weights`` (B, P): each copy's weights at the end, on the
    training device.
    """

    model: str
    spec: str
    settings: dict[str, Tensor]
    step_losses: Tensor
    epochs: list[dict] = field(default_factory=list)
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
    """``ValueError`` for a model whose copies cannot be batched (buffers: BatchNorm)."""
    model = models.create(model_name)
    buffers = [name for name, _ in model.named_buffers()]
    if buffers:
        batched = ", ".join(name for name, cls in models.MODELS.items()
                            if not any(True for _ in cls().buffers()))
        raise ValueError(f"Invalid model {model_name!r} for batched copies: its buffers ({buffers[0]}, …: "
                         f"BatchNorm statistics) would be shared by the copies; batched: {batched}")


STATE_COPIES = 3  # weights, their gradients, optimizer state: copies of θ


def memory_estimate(model_name: str, count: int, batch_size: int, dtype=torch.float32) -> int:
    """Bytes that ``count`` copies take in training: ``STATE_COPIES`` + 1 tensors like θ (B, P)
    (an optimizer with two moments takes one more: ``check_memory`` leaves a fifth spare), and
    each copy's activations on a batch, twice, for the backward pass (measured on one image)."""
    model = models.create(model_name).to(dtype)
    size = torch.finfo(dtype).bits // 8
    weights = sum(p.numel() for p in model.parameters()) * size
    activations = [0]

    def count_bytes(module, inputs, output):
        activations[0] += output.numel() * output.element_size() if isinstance(output, Tensor) else 0

    hooks = [module.register_forward_hook(count_bytes) for module in model.modules()]
    try:
        with torch.no_grad():
            model(torch.zeros(1, *models.input_shape(model_name), dtype=dtype))
    finally:
        for hook in hooks:
            hook.remove()
    return count * ((STATE_COPIES + 1) * weights + 2 * batch_size * activations[0])


def available_memory(device: torch.device) -> int:
    """Free bytes on ``device``: the GPU's free memory, else the machine's available memory."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not on this system: no refusal
        return 1 << 62


def check_memory(model_name: str, count: int, batch_size: int, device: torch.device, dtype=torch.float32) -> None:
    """``ValueError`` with the estimate when ``count`` copies would not fit ``device`` (80 % of its
    free memory)."""
    needed, free = memory_estimate(model_name, count, batch_size, dtype), available_memory(device)
    if needed > 0.8 * free:
        fits = max(1, int(0.8 * free / (needed / count)))
        raise ValueError(f"Invalid sweep: {count} copies of {model_name} would take about {needed / 1e9:,.1f} GB "
                         f"on {device}, which has {free / 1e9:,.1f} GB free; at most about {fits} copies fit "
                         f"(fewer lrs or momenta, a smaller batch, or a larger device)")


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


def train_copies(model_name: str, spec: str, data: ImageData, *, lr, momentum=None, copies: int | None = None,
                 seeds: Sequence[int] | None = None, epochs: int = 1, batch_size: int = 128, seed: int = 0,
                 dtype: torch.dtype = torch.float32, schedule: str = "none",
                 on_epoch: Callable[[Copies], None] | None = None,
                 progress: Callable[[int, int], None] | None = None, **hyperparameters) -> Copies:
    """Train B copies of ``model_name`` with ``spec`` together on ``data`` (see the module docstring).

    ``lr`` and ``momentum`` (β1 for the Adam family): a number for every copy or one per copy;
    B is ``copies``, else the number of ``seeds``, else the length of ``lr`` (or of ``momentum``).
    Every copy starts from ``models.create(model_name, seed)``
    (the weights a single run with ``seed`` starts from) unless ``seeds`` gives each its own.
    Batches are drawn as ``train_and_compare`` draws them for ``seed``, so copy b equals that
    single run with copy b's setting. ``schedule`` (``landscape.schedules``) scales every copy's
    lr by the same factor after each epoch ("plateau" follows the best copy's validation loss);
    each epoch records its ``lr_factor``. ``on_epoch(result)`` after each epoch; ``progress(done,
    total)`` after each step.
    """
    parsed = optim.parse(spec)
    check_model(model_name)
    sizes = [torch.as_tensor(v).numel() for v in (lr, momentum) if v is not None]
    seeds = None if seeds is None else list(seeds)
    count = copies or (len(seeds) if seeds else next((size for size in sizes if size > 1), 1))
    settings = {"lr": _per_copy("lr", lr, count)}
    if momentum is not None:
        if parsed.momentum is None:
            raise ValueError(f"Invalid momentum: {spec!r} has no momentum (its rule takes none)")
        settings["momentum"] = _per_copy("momentum", momentum, count)
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not (isinstance(value, int) and value >= 1):
            raise ValueError(f"Invalid {name}: {value!r} (expected an integer >= 1)")
    device = data.device
    check_memory(model_name, count, batch_size, device, dtype)
    parameters = _stacked_parameters(model_name, seeds or [seed] * count, device, dtype)
    model = models.create(model_name, seed).to(device=device, dtype=dtype)
    loss_of = _batched_loss(model)
    parameters = _laid_out_as_gradients(parameters, loss_of, *next(data.train_batches(batch_size, torch.Generator(), dtype)))
    optimizers = [parsed.build([parameter], seed=seed, **hyperparameters,
                               **{name: values.to(device=device, dtype=dtype).view(count, *[1] * (parameter.dim() - 1))
                                  for name, values in settings.items()})
                  for parameter in parameters.values()]
    rate = schedules.Schedule(schedule, epochs, optimizers)
    steps_per_epoch = math.ceil(len(data.train_labels) / batch_size)
    result = Copies(model_name, spec, settings, torch.empty(0, count))
    losses = torch.empty(epochs * steps_per_epoch, count, dtype=dtype, device=device)
    step = 0
    for epoch in range(1, epochs + 1):
        generator = torch.Generator().manual_seed(seed * 100_003 + epoch)  # as train_and_compare
        start = time.perf_counter()
        for x, y in data.train_batches(batch_size, generator, dtype):
            for parameter in parameters.values():
                parameter.grad = None
            batch_losses, _ = loss_of(parameters, x, y)
            batch_losses.sum().backward()  # Σ_b L_b: copy b's gradient is ∇L_b(θ_b)
            for optimizer in optimizers:
                optimizer.step()
            losses[step] = batch_losses.detach()
            step += 1
            if progress is not None:
                progress(step, epochs * steps_per_epoch)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        epoch_losses = losses[step - steps_per_epoch:step]
        val_loss, val_accuracy = _evaluate(loss_of, parameters, data, dtype, model.task == "classification")
        result.epochs.append({"epoch": epoch, "lr_factor": rate.factor, "train_loss": epoch_losses.mean(0).cpu(),
                              "val_loss": val_loss, "val_accuracy": val_accuracy, "seconds": seconds})
        finite = val_loss[torch.isfinite(val_loss)]
        rate.step(float(finite.min()) if len(finite) else None)
        result.step_losses = losses[:step].cpu()
        result.diverged_at = _diverged_at(result.step_losses)
        result.weights = torch.cat([parameter.detach().flatten(1) for parameter in parameters.values()], dim=1)
        if on_epoch is not None:
            on_epoch(result)
    return result


def _batched_loss(model) -> Callable[[dict, Tensor, Tensor], tuple[Tensor, Tensor]]:
    """({name: (B, *shape)}, x, y) -> each copy's mean loss on the batch (B,) and its correct
    count (B,)."""

    def one_copy(weights: dict[str, Tensor], x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        output = functional_call(model, weights, (x,))
        if model.task == "reconstruction":
            return torch.nn.functional.mse_loss(output, x), torch.zeros((), device=x.device)
        return torch.nn.functional.cross_entropy(output, y), (output.argmax(1) == y).sum()

    return vmap(one_copy, in_dims=(0, None, None))


def _evaluate(loss_of, parameters: dict[str, Tensor], data: ImageData, dtype,
              classification: bool) -> tuple[Tensor, Tensor | None]:
    """Each copy's validation loss and accuracy (B,; None for an autoencoder), as
    ``train._evaluate`` computes them."""
    total = correct = None
    count = 0
    with torch.no_grad():
        for x, y in data.val_batches(dtype=dtype):
            loss, right = loss_of(parameters, x, y)
            total = loss * len(y) if total is None else total + loss * len(y)
            correct = right if correct is None else correct + right
            count += len(y)
    accuracy = (correct.double() / count).cpu() if classification else None
    return (total / count).cpu(), accuracy


def _diverged_at(step_losses: Tensor) -> Tensor:
    """(T, B) losses -> (B,): the first step (1-based, as ``Run.diverged_at_step``) whose loss is
    not finite, -1 for a copy whose losses all are."""
    bad = ~torch.isfinite(step_losses)
    return torch.where(bad.any(0), bad.int().argmax(0) + 1, -1)
