"""A 2-D slice of a real network's loss: a plane through weight space, every optimizer's path
projected into it, and the loss on a grid of the plane.

A plane is θ(α, β) = θ₀ + α d₁ + β d₂ in the space of the P trainable weights, flattened in
``model.named_parameters()`` order (as ``torch.nn.utils.parameters_to_vector``). Buffers, such as
BatchNorm's running statistics, are not coordinates of the plane: the loss is evaluated in eval
mode with the buffers the model has.

Three planes:

- ``pca_plane``: through the common start θ₀ of several runs, spanned by the top two principal
  directions of all runs' recorded points. By default the PCA is centred, as in Li et al.'s code
  and loss-landscape-anim (scikit-learn's ``PCA``): the directions are those of the points' spread
  around their mean, and ``explained_variance`` is the explained variance ratio, comparable with
  theirs and with a long random walk's in many dimensions (about 61% and 15%: Antognini &
  Sohl-Dickstein 2018).
  ``centred=False`` takes the uncentred displacements from θ₀ instead: the plane through θ₀ that
  keeps the most of the paths' squared displacement, with each direction's share of it. A PCA
  plane of a high-dimensional walk can make a random walk look like a smooth curve (Lorch 2016,
  "Visualizing deep network training trajectories with PCA"; Antognini & Sohl-Dickstein 2018,
  "PCA of high dimensional random walks with comparison to neural network training"), so the
  plane always reports its share and ``project`` reports each point's distance from the plane.
- ``random_plane``: two filter-normalised Gaussian directions (Li, Xu, Taylor, Studer &
  Goldstein 2018, "Visualizing the Loss Landscape of Neural Nets"), so that the slice's scale is
  comparable between layers and networks.
- ``given_plane``: any two independent directions, e.g. towards two runs' end points.

``loss_grid`` evaluates many grid points at once (``torch.func.vmap`` over stacked weights); where
the input first meets a Linear or Conv layer, that layer is not re-run per point: it is linear in
its weights, W(α, β) x = W₀ x + α D₁ x + β D₂ x, so its three products are computed once per batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap

from . import models
from .devices import activation_bytes, forward_with_hooks

KINDS = ("pca", "pca-uncentred", "random", "given")
VARIANCE_MEANINGS = {  # what a PCA plane's explained_variance is, by kind
    "pca": "explained variance ratio (centred PCA)",
    "pca-uncentred": "share of squared displacement from the start (uncentred PCA)",
}
LINEAR_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)  # output linear in (weight, bias)
MEMORY_BUDGET = 1 << 30  # bytes of activations and weights per chunk of grid points, by default
GRAM_COLUMNS = 1 << 16  # weights per block when accumulating products of weight vectors in high precision
MIN_ANGLE = 1e-4  # radians: two given directions closer than this count as parallel
Axis = Sequence[float] | Tensor  # the alphas or betas of a grid
Batches = Iterable[tuple[Tensor, Tensor]]  # evaluation batches (x, y), on the model's device


# ---------------------------------------------------------------- flat weights


def flat_weights(model: nn.Module, out: Tensor | None = None) -> Tensor:
    """The trainable parameters as one vector (P,), in ``model.named_parameters()`` order, a copy
    (written into ``out`` when given, e.g. a row of a preallocated buffer)."""
    return torch.cat([parameter.detach().reshape(-1) for parameter in model.parameters()], out=out)


def parameter_views(model: nn.Module, flat: Tensor) -> dict[str, Tensor]:
    """``flat`` (..., P) cut into the model's parameters: ``{name: tensor (..., *shape)}`` in
    ``named_parameters()`` order; views of ``flat`` (no copy) where its last dimension is contiguous."""
    shapes = [(name, parameter.shape) for name, parameter in model.named_parameters()]
    size = sum(math.prod(shape) for _, shape in shapes)
    if flat.shape[-1:] != (size,):
        raise ValueError(f"a flat weight vector of this model has {size} entries; "
                         f"got shape {tuple(flat.shape)}")
    views, start = {}, 0
    for name, shape in shapes:
        count = math.prod(shape)
        views[name] = flat[..., start:start + count].reshape(*flat.shape[:-1], *shape)
        start += count
    return views


def load_flat_weights(model: nn.Module, flat: Tensor) -> None:
    """Copy ``flat`` (P,) into the model's parameters, in place (buffers are left as they are)."""
    with torch.no_grad():
        for parameter, value in zip(model.parameters(), parameter_views(model, flat).values()):
            parameter.copy_(value)


# ---------------------------------------------------------------- planes


@dataclass(frozen=True)
class Plane:
    """θ(α, β) = origin + α directions[0] + β directions[1].

    ``kind``: "pca", "pca-uncentred", "random" or "given". ``explained_variance``: for a PCA plane,
    each direction's λ_k / Σ_j λ_j, which is what ``variance_meaning`` says (see ``pca_plane``);
    None for the other kinds.
    """

    origin: Tensor  # (P,)
    directions: Tensor  # (2, P)
    explained_variance: tuple[float, float] | None
    kind: str

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Invalid plane kind {self.kind!r}; valid: {', '.join(KINDS)}")
        if self.origin.dim() != 1 or self.directions.shape != (2, len(self.origin)):
            raise ValueError(f"a plane needs an origin (P,) and directions (2, P); got "
                             f"{tuple(self.origin.shape)} and {tuple(self.directions.shape)}")

    def point(self, alpha: float, beta: float) -> Tensor:
        """θ(α, β), a flat weight vector (P,)."""
        return self.origin + alpha * self.directions[0] + beta * self.directions[1]

    @property
    def variance_meaning(self) -> str | None:
        """What ``explained_variance`` is, in words (VARIANCE_MEANINGS); None without one."""
        return VARIANCE_MEANINGS.get(self.kind)

    def to(self, *args, **kwargs) -> Plane:
        """The same plane with origin and directions moved (``Tensor.to`` arguments)."""
        return Plane(self.origin.to(*args, **kwargs), self.directions.to(*args, **kwargs),
                     self.explained_variance, self.kind)


def pca_plane(paths: Sequence[Tensor], origin: Tensor, *, centred: bool = True) -> Plane:
    """One plane for all runs: through their common start ``origin`` θ₀ (P,), spanned by the top two
    principal directions of every recorded point of every path (each (T_i, P)).

    With D (N, P) the displacements x_i − θ₀ of all N points and H = I − 11ᵀ/N the centring matrix
    (H = I when not ``centred``), the directions are the top two right singular vectors of H D,
    found from the small N x N matrix H G H = U Λ Uᵀ, G = D Dᵀ (never a P x P matrix):
    v_k = (H D)ᵀ u_k / √λ_k, orthonormal. ``explained_variance`` is λ_k / trace(H G H).

    - ``centred`` (kind "pca"): H D are the points minus their mean, so the directions and ratios are
      scikit-learn's ``PCA`` ``components_`` and ``explained_variance_ratio_`` of the points, as Li
      et al.'s ``setup_PCA_directions`` (on w_i − w_final: a common shift changes neither) and
      loss-landscape-anim compute them: each direction's explained variance ratio. The plane is
      the one through θ₀ parallel to the best-fit plane (which passes through the mean), so every
      path starts at (0, 0); Li et al. pass their plane through their one run's final weights and
      measure α and β from there, loss-landscape-anim measures them from the points' mean.
    - not ``centred`` (kind "pca-uncentred"): the plane through θ₀ that keeps the largest share of
      the points' squared displacement from θ₀; ``explained_variance`` is each direction's share of
      it, Σ_i (d_i·v_k)² / Σ_i ‖d_i‖², so that the paths' squared distances off the plane sum to
      the rest, (1 − share₁ − share₂) Σ_i ‖d_i‖².

    α and β are measured from θ₀ along v₁ and v₂. Signs are chosen so that the first path's last
    point has non-negative coordinates. G is accumulated in float64 (float32 on MPS),
    GRAM_COLUMNS weights at a time. ``ValueError`` when every displacement is zero or the (centred)
    points span fewer than two directions (the second eigenvalue below the paths' dtype's rounding
    level): then use ``random_plane`` or ``given_plane``.
    """
    displacements = _displacements(paths, origin)
    gram = _products(displacements, displacements)
    if not gram.diagonal().isfinite().all():  # a squared norm: NaN or inf if any weight is
        raise ValueError("the paths hold NaN or infinite weights (a diverged run?); leave that run out")
    if not gram.diagonal().any():
        raise ValueError("every displacement from the origin is zero: the runs never left the start, "
                         "so there is no PCA plane; use random_plane or given_plane")
    centring = torch.eye(len(gram), dtype=gram.dtype, device=gram.device)
    if centred:
        centring -= 1 / len(gram)
    eigenvalues, eigenvectors = torch.linalg.eigh((centring @ gram @ centring).cpu())
    eigenvalues, eigenvectors = eigenvalues.flip(0), eigenvectors.flip(1)
    if len(eigenvalues) < 2 or eigenvalues[1] <= torch.finfo(origin.dtype).eps * eigenvalues[0]:
        around = "around their mean" if centred else "from the origin"
        raise ValueError(f"the {len(displacements)} recorded points span fewer than two directions {around} "
                         f"(all on one line), so there is no PCA plane; use random_plane or given_plane")
    weights = centring @ eigenvectors[:, :2].to(gram) / eigenvalues[:2].sqrt().to(gram)
    # (D v₁, D v₂) = G weights: every point's coordinates from θ₀
    weights *= _sign_of_last_point(gram @ weights, len(paths[0]))
    directions = _transpose_times(displacements, weights).to(origin.dtype)
    shares = (eigenvalues[:2] / eigenvalues.clamp_min(0).sum()).tolist()
    return Plane(origin, directions, (shares[0], shares[1]), "pca" if centred else "pca-uncentred")


def _displacements(paths: Sequence[Tensor], origin: Tensor) -> Tensor:
    """All paths' rows minus ``origin``, stacked (N, P) (one copy of the paths), shapes validated."""
    if origin.dim() != 1:
        raise ValueError(f"the origin must be a flat weight vector (P,); got shape {tuple(origin.shape)}")
    if not paths:
        raise ValueError("pca_plane needs at least one path")
    for index, path in enumerate(paths):
        if path.dim() != 2 or path.shape[1] != len(origin):
            raise ValueError(f"path {index} has shape {tuple(path.shape)}; expected (T, {len(origin)}) "
                             f"like the origin")
    return torch.cat([path.to(origin) for path in paths]).sub_(origin)


def _wide_dtype(device: torch.device) -> torch.dtype:
    """The accumulation dtype: float64, except on MPS, which has none."""
    return torch.float32 if device.type == "mps" else torch.float64


def _products(rows: Tensor, others: Tensor) -> Tensor:
    """rows othersᵀ (N, M), accumulated in the wide dtype over blocks of GRAM_COLUMNS columns: a
    sum of P products keeps float64's precision whatever the rows' dtype and the threads' order."""
    wide = _wide_dtype(rows.device)
    products = torch.zeros(len(rows), len(others), dtype=wide, device=rows.device)
    for start in range(0, rows.shape[1], GRAM_COLUMNS):
        block = rows[:, start:start + GRAM_COLUMNS].to(wide)
        other = block if others is rows else others[:, start:start + GRAM_COLUMNS].to(wide)
        products += block @ other.T
    return products


def _transpose_times(rows: Tensor, weights: Tensor) -> Tensor:
    """(rowsᵀ weights)ᵀ = weightsᵀ rows (k, P) for weights (N, k), in the wide dtype, block by block."""
    blocks = [weights.T @ rows[:, start:start + GRAM_COLUMNS].to(weights)
              for start in range(0, rows.shape[1], GRAM_COLUMNS)]
    return torch.cat(blocks, dim=1)


def _sign_of_last_point(coordinates: Tensor, first_path_length: int) -> Tensor:
    """±1 per column of ``coordinates`` (N, 2), every point's coordinates from the origin: makes the
    first path's last point's coordinates non-negative."""
    last = coordinates[first_path_length - 1]
    return torch.where(last < 0, -1.0, 1.0).to(coordinates)


def random_plane(model: nn.Module, seed: int, origin: Tensor | None = None) -> Plane:
    """Two filter-normalised random directions through ``origin`` (default: the model's weights).

    Each direction is Gaussian, then (Li et al. 2018) every filter of it (an output channel of a
    convolution, a row of a fully connected weight: index 0 of a parameter of dimension >= 2) is
    rescaled to the norm of the same filter of the weights, d_f ← d_f ‖θ_f‖ / ‖d_f‖. Parameters
    of dimension 1 (biases, BatchNorm's weight and bias) are zero in the directions. The noise is
    drawn in float64 on the CPU from ``seed``: the same seed gives the same plane on every device.
    """
    origin = flat_weights(model) if origin is None else origin
    _check_vector("origin", origin, flat_weights(model).numel())
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(2, len(origin), generator=generator, dtype=torch.float64)
    directions = noise.to(origin.dtype).to(origin.device)
    for direction in directions:
        _normalise_filters(model, direction, origin)
    return Plane(origin, directions, None, "random")


def _normalise_filters(model: nn.Module, direction: Tensor, weights: Tensor) -> None:
    """Filter normalisation of ``direction`` (P,), in place: see ``random_plane``."""
    weight_views = parameter_views(model, weights)
    for name, piece in parameter_views(model, direction).items():
        if piece.dim() <= 1:
            piece.zero_()
        else:
            shape = (-1,) + (1,) * (piece.dim() - 1)
            target = torch.linalg.vector_norm(weight_views[name].flatten(1), dim=1).view(shape)
            piece.mul_(target / torch.linalg.vector_norm(piece.flatten(1), dim=1).view(shape))


def given_plane(origin: Tensor, d1: Tensor, d2: Tensor) -> Plane:
    """The plane through ``origin`` (P,) spanned by ``d1`` and ``d2`` (P,), as given (not
    normalised). ``ValueError`` for wrong shapes, non-finite values, a zero direction, or two
    directions less than MIN_ANGLE radians from parallel (or anti-parallel)."""
    _check_vector("origin", origin, origin.numel())
    for name, direction in (("d1", d1), ("d2", d2)):
        _check_vector(name, direction, len(origin))
        if not direction.any():
            raise ValueError(f"{name} is zero: a direction must have a length")
    wide = _wide_dtype(origin.device)
    first, second = d1.to(origin.device, wide), d2.to(origin.device, wide)
    cosine = (first @ second / (first.norm() * second.norm())).clamp(-1, 1).item()
    if math.acos(abs(cosine)) < MIN_ANGLE:
        raise ValueError(f"d1 and d2 are parallel (angle {math.degrees(math.acos(cosine)):.4g} degrees): "
                         f"they span a line, not a plane")
    return Plane(origin, torch.stack([d1, d2]).to(origin), None, "given")


def _check_vector(name: str, vector: Tensor, size: int) -> None:
    if vector.shape != (size,):
        raise ValueError(f"{name} must be a flat weight vector of shape ({size},); got {tuple(vector.shape)}")
    if not vector.is_floating_point() or not vector.isfinite().all():
        raise ValueError(f"{name} must hold finite floating-point numbers")


# ---------------------------------------------------------------- projection


def project(plane: Plane, points: Tensor) -> tuple[Tensor, Tensor]:
    """Each point's least-squares coordinates in the plane and its distance from the plane.

    For x_t (a row of ``points`` (T, P)) and D (2, P) the directions (not necessarily orthonormal),
    the coordinates c_t (α, β) minimise ‖x_t − θ₀ − Dᵀ c‖, i.e. solve the normal equations
    (D Dᵀ) c_t = D (x_t − θ₀); the off-plane distance is ‖x_t − θ₀ − Dᵀ c_t‖. A path whose first
    point is the origin starts at (0, 0) with distance 0. The offsets x_t − θ₀ are taken in the
    points' dtype; the products over the P weights, the solve and the distances are in float64
    (float32 on MPS), GRAM_COLUMNS weights at a time. Returns coords (T, 2) and distances (T,), in
    the points' dtype.
    """
    if points.dim() != 2 or points.shape[1] != len(plane.origin):
        raise ValueError(f"points must have shape (T, {len(plane.origin)}); got {tuple(points.shape)}")
    offsets = points - plane.origin.to(points)
    directions = plane.directions.to(points)
    normal, right = _products(directions, directions), _products(offsets, directions)
    coords = torch.linalg.solve(normal.cpu(), right.cpu().T).T.to(normal.device)
    squared = torch.zeros(len(points), dtype=normal.dtype, device=normal.device)
    for start in range(0, points.shape[1], GRAM_COLUMNS):
        columns = slice(start, start + GRAM_COLUMNS)
        residual = offsets[:, columns].to(normal) - coords @ directions[:, columns].to(normal)
        squared += residual.square().sum(dim=1)
    return coords.to(points), squared.sqrt().to(points)


# ---------------------------------------------------------------- loss on a grid


def loss_grid(model: nn.Module, plane: Plane, alphas: Axis, betas: Axis, batches: Batches, *,
              chunk: int | None = None, progress: Callable[[int, int], None] | None = None) -> Tensor:
    """The mean training loss (``models.loss_and_correct``) over ``batches`` at every
    θ(α, β) = θ₀ + α d₁ + β d₂: a tensor (len(betas), len(alphas)), row i for betas[i].

    The model is evaluated in eval mode (BatchNorm uses its running statistics, which are not
    part of the plane), without gradients, in its own dtype and on its own device (the plane is
    moved there; the batches must already be there, in the model's dtype). The batches are
    iterated once; each batch's mean loss counts with its size. The model's weights are untouched.

    ``chunk`` grid points are evaluated together: ``torch.func.vmap`` over their stacked weights,
    with ``torch.func.functional_call``. By default ``chunk`` fills MEMORY_BUDGET with one
    point's activations (measured on one image) and weights. Where the input's first
    parametrised layer is a Linear or Conv layer used once (``_linear_first_layer``), its output
    at θ(α, β) is W₀u + α D₁u + β D₂u (bias terms included): three products per batch instead of
    one per point, which removes most of an MLP's cost. ``progress(done, total)`` is called after
    each chunk, counting point evaluations over all batches.
    """
    if chunk is not None and not (isinstance(chunk, int) and chunk >= 1):
        raise ValueError(f"Invalid chunk: {chunk!r} (expected a positive number of grid points, or None)")
    plane, alphas, betas = _on_model(model, plane, alphas, betas)
    grid_alphas, grid_betas = alphas.repeat(len(betas)), betas.repeat_interleave(len(alphas))
    total = torch.zeros(len(grid_alphas), dtype=plane.origin.dtype, device=plane.origin.device)
    count, first_layer, image_bytes = 0, None, 0
    batches = list(batches)
    done, total_work = 0, len(grid_alphas) * len(batches)
    with _evaluation_mode(model), torch.no_grad():
        for x, y in batches:
            if count == 0:
                first_layer, image_bytes = _linear_first_layer(model, x[:1])
            evaluate = _batch_evaluator(model, plane, first_layer, x, y)
            size = chunk or _chunk_size(model, first_layer, image_bytes * len(x), len(grid_alphas))
            for start in range(0, len(grid_alphas), size):
                points = slice(start, start + size)
                total[points] += evaluate(grid_alphas[points], grid_betas[points]) * len(x)
                done += len(grid_alphas[points])
                if progress is not None:
                    progress(done, total_work)
            count += len(x)
    if count == 0:
        raise ValueError("loss_grid needs at least one evaluation batch")
    return (total / count).view(len(betas), len(alphas))


def loss_grid_naive(model: nn.Module, plane: Plane, alphas: Axis, betas: Axis, batches: Batches) -> Tensor:
    """``loss_grid`` the plain way, the reference for tests and benchmarks: for each point, copy
    θ(α, β) into the model and run every batch through it. The model's weights are restored."""
    plane, alphas, betas = _on_model(model, plane, alphas, betas)
    points = (plane.point(alpha, beta) for beta in betas for alpha in alphas)
    return losses_at(model, points, batches).view(len(betas), len(alphas))


def losses_at(model: nn.Module, points: Iterable[Tensor], batches: Batches) -> Tensor:
    """The mean training loss over ``batches`` at each of ``points``, flat weight vectors (P,)
    (e.g. the rows of a recorded path): a tensor (T,) in the model's dtype, on its device,
    evaluated in eval mode, one point at a time. The model's weights are restored."""
    batches = list(batches)
    parameter = next(model.parameters())
    saved = flat_weights(model)
    losses = []
    with _evaluation_mode(model), torch.no_grad():
        try:
            for point in points:
                load_flat_weights(model, point.to(parameter))
                losses.append(_mean_loss(model, batches))
        finally:
            load_flat_weights(model, saved)
    return torch.stack(losses) if losses else parameter.new_zeros(0)


def _on_model(model: nn.Module, plane: Plane, alphas: Axis, betas: Axis) -> tuple[Plane, Tensor, Tensor]:
    """The plane and the grid's axes in the model's dtype, on its device; the axes validated."""
    parameter = next(model.parameters())
    plane = plane.to(device=parameter.device, dtype=parameter.dtype)
    axes = []
    for name, values in (("alphas", alphas), ("betas", betas)):
        axis = torch.as_tensor(values, dtype=parameter.dtype, device=parameter.device)
        if axis.dim() != 1 or len(axis) == 0 or not axis.isfinite().all():
            raise ValueError(f"{name} must be a non-empty 1-D sequence of finite numbers; got shape "
                             f"{tuple(axis.shape)}")
        axes.append(axis)
    return plane, axes[0], axes[1]


def _mean_loss(model: nn.Module, batches: list[tuple[Tensor, Tensor]]) -> Tensor:
    if not batches:
        raise ValueError("the loss needs at least one evaluation batch")
    total = sum(models.loss_and_correct(model, x, y)[0] * len(x) for x, y in batches)
    return total / sum(len(x) for x, _ in batches)


@contextmanager
def _evaluation_mode(model: nn.Module):
    """``model.eval()`` for the block, then every module back in its own mode."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:
            module.training = training


class _Loss(nn.Module):
    """The training loss as a module, so that ``functional_call`` can swap the model's weights."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return models.loss_and_correct(self.model, x, y)[0]


def _linear_first_layer(model: nn.Module, image: Tensor) -> tuple[str | None, int]:
    """The name of the layer that can be evaluated once per batch (None if none), and the bytes
    of activations one image produces (all modules' outputs), from one forward pass of ``image``.

    A layer qualifies when it is the first parametrised module the input meets (so its input u
    depends on the data only), is a Linear or Conv layer (its output is linear in (weight, bias)
    jointly, so the output at θ(α, β) is W₀u + α D₁u + β D₂u exactly), is called once per forward
    pass, and owns its parameters alone; and when every parametrised module is a leaf (no
    container uses weights of its own in ``forward``, before the first layer or elsewhere).
    """
    owners = {name: module for name, module in model.named_modules()
              if next(module.parameters(recurse=False), None) is not None}
    calls = []
    forward_with_hooks(model, image, [module.register_forward_pre_hook(lambda module, inputs, name=name: calls.append(name))
                                      for name, module in owners.items()])
    image_bytes = activation_bytes(model, image)
    if not calls:
        return None, image_bytes
    name = calls[0]
    layer = owners[name]
    shared = any(other is not layer and any(q is p for q in other.parameters(recurse=False))
                 for p in layer.parameters() for other in model.modules())
    leaves = all(next(module.children(), None) is None for module in owners.values())
    qualifies = type(layer) in LINEAR_LAYERS and calls.count(name) == 1 and not shared and leaves
    return (name if qualifies else None), image_bytes


def _chunk_size(model: nn.Module, first_layer: str | None, activation_bytes: int, points: int) -> int:
    """Grid points per vmap call: one point costs its activations and its (non-first-layer) weights."""
    weight_bytes = sum(p.numel() * p.element_size() for name, p in model.named_parameters()
                       if first_layer is None or not name.startswith(first_layer + "."))
    return max(1, min(points, MEMORY_BUDGET // max(1, activation_bytes + weight_bytes)))


def _batch_evaluator(model: nn.Module, plane: Plane, first_layer: str | None, x: Tensor,
                     y: Tensor) -> Callable[[Tensor, Tensor], Tensor]:
    """A function (alphas (K,), betas (K,)) -> the batch's mean loss at those K points (K,)."""
    views = [parameter_views(model, vector) for vector in (plane.origin, *plane.directions)]
    names = [name for name in views[0] if first_layer is None or not name.startswith(first_layer + ".")]
    loss = _Loss(model)
    precomputed = _PrecomputedLayer(model, first_layer, views, x) if first_layer else None

    def point_loss(weights: dict[str, Tensor]) -> Tensor:
        return functional_call(loss, weights, (x, y))

    def point_loss_given_first(weights: dict[str, Tensor], first_output: Tensor) -> Tensor:
        with precomputed.returning(first_output):
            return functional_call(loss, weights, (x, y))

    def evaluate(alphas: Tensor, betas: Tensor) -> Tensor:
        weights = {}
        for name in names:
            origin, d1, d2 = (view[name] for view in views)
            shape = (-1,) + (1,) * origin.dim()
            weights["model." + name] = origin + alphas.view(shape) * d1 + betas.view(shape) * d2
        if precomputed is None:
            return vmap(point_loss)(weights)
        return vmap(point_loss_given_first)(weights, precomputed.outputs(alphas, betas))

    return evaluate


class _PrecomputedLayer:
    """A layer linear in its weights, evaluated on one batch at the plane's three vectors:
    ``products`` = (W₀u, D₁u, D₂u) (bias terms included), u its input for the batch ``x``."""

    def __init__(self, model: nn.Module, name: str, views: list[dict[str, Tensor]], x: Tensor):
        self.layer = model.get_submodule(name)
        u = _input_of(model, self.layer, x)
        local = [{key[len(name) + 1:]: view[key] for key in view if key.startswith(name + ".")}
                 for view in views]
        self.products = torch.stack([functional_call(self.layer, weights, (u,)) for weights in local])

    def outputs(self, alphas: Tensor, betas: Tensor) -> Tensor:
        """The layer's output at θ(α_k, β_k) for each k, (K, *output shape): one matrix product
        [1, α_k, β_k] @ products, rather than three broadcast passes."""
        coefficients = torch.stack([torch.ones_like(alphas), alphas, betas], dim=1)
        combined = coefficients @ self.products.flatten(1)
        return combined.view(len(alphas), *self.products.shape[1:])

    @contextmanager
    def returning(self, output: Tensor):
        """Within the block the layer returns ``output`` instead of computing."""
        self.layer.forward = lambda *args, **kwargs: output
        try:
            yield
        finally:
            del self.layer.forward


class _Captured(Exception):
    """Raised by a hook to stop a forward pass once it has the input it wanted."""


def _input_of(model: nn.Module, layer: nn.Module, x: Tensor) -> Tensor:
    """The tensor ``layer`` receives when ``model`` runs on ``x`` (the pass stops there)."""
    captured = []

    def capture(module, inputs):
        captured.append(inputs[0])
        raise _Captured

    hook = layer.register_forward_pre_hook(capture)
    try:
        model(x)
    except _Captured:
        pass
    finally:
        hook.remove()
    return captured[0]
