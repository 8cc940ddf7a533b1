"""Where a network trains and how much it needs there: the devices this machine's torch can use,
their free memory, and the bytes of activations one image's forward pass produces."""

from __future__ import annotations

import os

import torch
from torch import Tensor, nn


def available_devices() -> list[str]:
    """The devices this machine's torch can train on, e.g. ['cpu', 'cuda', 'cuda:0']."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names += ["cuda"] + [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        names.append("mps")
    return names


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """"auto": CUDA, else MPS, else CPU. Any other device must exist here, else ``ValueError``
    saying which devices do."""
    available = available_devices()
    if str(device) == "auto":
        return torch.device(next(name for name in ("cuda", "mps", "cpu") if name in available))
    try:
        target = torch.device(device)
    except (RuntimeError, TypeError):
        target = None
    if target is None or (target.type != "cpu" and str(target) not in available):
        build = "" if torch.version.cuda or torch.version.hip else " (this torch is built without CUDA)"
        raise ValueError(f"Invalid device {str(device)!r}: this machine has "
                         f"{', '.join(['auto'] + available)}{build}")
    return target


def available_memory(device: torch.device) -> int:
    """Free bytes on ``device``: the GPU's free memory, else the machine's available memory."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not on this system: no refusal
        return 1 << 62


def activation_bytes(model: nn.Module, image: Tensor) -> int:
    """The bytes of every module's output when ``model`` runs on ``image`` (a batch of one): what
    each image of a batch adds to the memory of a forward pass."""
    total = [0]

    def count(module, inputs, output):
        if isinstance(output, Tensor):
            total[0] += output.numel() * output.element_size()

    forward_with_hooks(model, image, [module.register_forward_hook(count) for module in model.modules()])
    return total[0]


def forward_with_hooks(model: nn.Module, image: Tensor, hooks: list) -> None:
    """Run ``model`` on ``image`` without gradients for what its ``hooks`` (registered handles)
    record, and remove them."""
    try:
        with torch.no_grad():
            model(image)
    finally:
        for hook in hooks:
            hook.remove()
