"""The loss slice of a real network: flat weights, planes (PCA, filter-normalised random, given),
projection, and the loss grid, checked against direct evaluation. All in float64 on the CPU."""

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from landscape.nets import models
from landscape.nets import slice as ls

DTYPE = torch.float64


class TinyMLP(nn.Module):
    task = "classification"

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(12, 5), nn.ReLU(), nn.Linear(5, 3))

    def forward(self, x):
        return self.layers(x)


class TinyConvBN(nn.Module):
    """Conv, BatchNorm, ReLU, linear head: evaluated in eval mode with its running statistics."""

    task = "classification"

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))

    def forward(self, x):
        return self.head(self.features(x))


class TinyAutoencoder(nn.Module):
    task = "reconstruction"

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(12, 4), nn.ReLU(), nn.Linear(4, 12))

    def forward(self, x):
        return self.layers(x).view_as(x)


class NormFirst(nn.Module):
    """Its first parametrised layer is a BatchNorm: no layer is precomputed per batch."""

    task = "classification"

    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(12, 3))

    def forward(self, x):
        return self.layers(x)


class SharedFirst(nn.Module):
    """Uses its first layer twice: precomputing it once per batch would be wrong."""

    task = "classification"

    def __init__(self):
        super().__init__()
        self.flatten, self.first, self.head = nn.Flatten(), nn.Linear(12, 12), nn.Linear(12, 3)

    def forward(self, x):
        return self.head(self.first(torch.relu(self.first(self.flatten(x)))))


TINY = {"mlp": TinyMLP, "conv-bn": TinyConvBN, "autoencoder": TinyAutoencoder,
        "norm-first": NormFirst, "shared-first": SharedFirst}


def tiny(name):
    """A float64 tiny model; BatchNorm layers get non-trivial running statistics."""
    torch.manual_seed(0)
    model = TINY[name]().to(DTYPE)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    return model


def batches(count=2, size=3, shape=(3, 2, 2)):
    generator = torch.Generator().manual_seed(1)
    return [(torch.randn(size + index, *shape, generator=generator, dtype=DTYPE),
             torch.randint(0, 3, (size + index,), generator=generator)) for index in range(count)]


def direct_loss(model, weights, data):
    """The mean loss at ``weights`` by the book: a copy of the model, torch's own vector_to_parameters."""
    copied = copy.deepcopy(model).eval()
    torch.nn.utils.vector_to_parameters(weights, copied.parameters())
    with torch.no_grad():
        total = sum(models.loss_and_correct(copied, x, y)[0] * len(x) for x, y in data)
    return total / sum(len(x) for x, _ in data)


def orthonormal(count, size, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.linalg.qr(torch.randn(size, count, generator=generator, dtype=DTYPE))[0].T


# ---------------------------------------------------------------- flat weights


def test_flat_weights_round_trip_in_named_parameters_order():
    model = tiny("conv-bn")
    flat = ls.flat_weights(model)
    assert flat.dtype == DTYPE and torch.equal(flat, torch.nn.utils.parameters_to_vector(model.parameters()))
    views = ls.parameter_views(model, flat)
    assert list(views) == [name for name, _ in model.named_parameters()]
    assert all(torch.equal(views[name], p) for name, p in model.named_parameters())
    assert views["features.0.weight"].data_ptr() == flat.data_ptr(), "views, not copies"
    stacked = ls.parameter_views(model, torch.stack([flat, 2 * flat]))
    assert stacked["head.1.weight"].shape == (2, 3, 16)
    ls.load_flat_weights(model, 2 * flat)
    assert torch.equal(ls.flat_weights(model), 2 * flat)
    with pytest.raises(ValueError, match="has 171 entries; got shape \\(5,\\)"):
        ls.parameter_views(model, torch.zeros(5, dtype=DTYPE))


# ---------------------------------------------------------------- the loss grid


@pytest.mark.parametrize("name", list(TINY))
def test_grid_centre_is_the_loss_at_the_origin(name):
    model, data = tiny(name), batches()
    plane = ls.random_plane(model, seed=3)
    grid = ls.loss_grid(model, plane, [-0.5, 0.0, 0.5], [-0.2, 0.0, 0.2], data)
    assert grid.shape == (3, 3) and grid.dtype == DTYPE
    assert grid[1, 1].item() == pytest.approx(direct_loss(model, plane.origin, data).item(), rel=1e-13)


@pytest.mark.parametrize("chunk", [None, 1, 4])
@pytest.mark.parametrize("name", list(TINY))
def test_grid_points_equal_direct_evaluation(name, chunk):
    model, data = tiny(name), batches()
    origin = ls.flat_weights(model) + 0.1
    plane = ls.given_plane(origin, *torch.randn(2, len(origin), generator=torch.Generator().manual_seed(2),
                                                dtype=DTYPE))
    alphas, betas = [-0.7, 0.1, 0.4, 1.3], [-0.3, 0.6, 0.9]
    grid = ls.loss_grid(model, plane, alphas, betas, data, chunk=chunk)
    for row, column in [(0, 0), (1, 2), (2, 3), (0, 3)]:
        expected = direct_loss(model, plane.point(alphas[column], betas[row]), data)
        assert grid[row, column].item() == pytest.approx(expected.item(), rel=1e-12), (row, column)


def test_the_first_layer_is_precomputed_only_where_that_is_exact():
    image = batches()[0][0][:1]
    found = {name: ls._linear_first_layer(tiny(name), image)[0] for name in TINY}
    assert found == {"mlp": "layers.1", "conv-bn": "features.0", "autoencoder": "layers.1",
                     "norm-first": None, "shared-first": None}


def test_grid_leaves_the_model_as_it_was():
    model, data = tiny("conv-bn"), batches()
    model.train()
    model.head.eval()
    before = ls.flat_weights(model)
    buffers = {name: b.clone() for name, b in model.named_buffers()}
    plane = ls.random_plane(model, seed=0)
    ls.loss_grid(model, plane, [0.0, 1.0], [0.0, 1.0], data)
    ls.loss_grid_naive(model, plane, [0.0, 1.0], [0.0, 1.0], data)
    assert torch.equal(ls.flat_weights(model), before)
    assert all(torch.equal(b, buffers[name]) for name, b in model.named_buffers()), "no statistics updated"
    assert model.training and model.features.training and not model.head.training


@pytest.mark.parametrize("name", list(models.MODELS))
def test_grid_matches_the_naive_loop_on_the_course_models(name):
    model = models.create(name).to(DTYPE)
    generator = torch.Generator().manual_seed(0)
    data = [(torch.randn(2, *models.input_shape(name), generator=generator, dtype=DTYPE), torch.tensor([1, 7]))]
    if name == "seed-cnn":
        model(data[0][0])  # training mode: BatchNorm's running statistics move off (0, 1)
    plane = ls.random_plane(model, seed=1)
    grid = ls.loss_grid(model, plane, [-0.5, 0.5], [0.0, 0.25], data)
    naive = ls.loss_grid_naive(model, plane, [-0.5, 0.5], [0.0, 0.25], data)
    torch.testing.assert_close(grid, naive, rtol=1e-11, atol=0)


def test_grid_refuses_empty_inputs():
    model = tiny("mlp")
    plane = ls.random_plane(model, seed=0)
    with pytest.raises(ValueError, match="at least one evaluation batch"):
        ls.loss_grid(model, plane, [0.0], [0.0], [])
    with pytest.raises(ValueError, match="alphas must be a non-empty 1-D sequence"):
        ls.loss_grid(model, plane, [], [0.0], batches())
    with pytest.raises(ValueError, match="Invalid chunk: 0"):
        ls.loss_grid(model, plane, [0.0], [0.0], batches(), chunk=0)


# ---------------------------------------------------------------- planes and projection


def paths_in_plane(origin, basis):
    """Two paths from ``origin`` inside origin + span(basis), with known coordinates."""
    first = torch.tensor([[0.0, 0.0], [1.0, 0.5], [2.0, 0.5], [3.0, 1.5]], dtype=DTYPE)
    second = torch.tensor([[0.0, 0.0], [0.5, -1.0], [1.0, -2.5]], dtype=DTYPE)
    return [origin + coords @ basis for coords in (first, second)]


@pytest.mark.parametrize("centred, kind", [(True, "pca"), (False, "pca-uncentred")])
def test_pca_recovers_the_plane_the_paths_lie_in(centred, kind):
    basis = orthonormal(3, 40)
    origin = torch.randn(40, generator=torch.Generator().manual_seed(5), dtype=DTYPE)
    paths = paths_in_plane(origin, basis[:2])
    plane = ls.pca_plane(paths, origin, centred=centred)
    assert plane.kind == kind and torch.equal(plane.origin, origin)
    torch.testing.assert_close(plane.directions @ plane.directions.T, torch.eye(2, dtype=DTYPE))
    torch.testing.assert_close(torch.linalg.svdvals(plane.directions @ basis[:2].T),
                               torch.ones(2, dtype=DTYPE)), "the same span"
    assert sum(plane.explained_variance) == pytest.approx(1.0, abs=1e-12)
    assert plane.explained_variance[0] >= plane.explained_variance[1] > 0
    for path in paths:
        coords, distances = ls.project(plane, path)
        assert torch.equal(coords[0], torch.zeros(2, dtype=DTYPE)), "a path starts at the origin"
        assert distances.max() < 1e-12
        torch.testing.assert_close(origin + coords @ plane.directions, path)
    assert (ls.project(plane, paths[0])[0][-1] >= 0).all(), "signs: the first path ends at (+, +)"


def walks(origin, seed=3, steps=(12, 9)):
    """Paths from ``origin``: random walks with a drift, so that their points' mean is far from the start."""
    generator = torch.Generator().manual_seed(seed)
    drift = torch.randn(len(origin), generator=generator, dtype=DTYPE)
    return [origin + torch.cat([torch.zeros(1, len(origin), dtype=DTYPE),
                                (drift + 2 * torch.randn(count, len(origin), generator=generator, dtype=DTYPE))
                                .cumsum(0)]) for count in steps]


def test_centred_pca_is_numpys_svd_of_the_points_minus_their_mean():
    """The directions and ratios of scikit-learn's PCA (Li et al.'s code, loss-landscape-anim), written
    out with numpy: the right singular vectors of the centred points, s_k² / Σ s_j²."""
    origin = torch.linspace(-1, 1, 30, dtype=DTYPE)
    paths = walks(origin)
    plane = ls.pca_plane(paths, origin)
    points = torch.cat(paths).numpy()
    _, singular, right = np.linalg.svd(points - points.mean(axis=0), full_matrices=False)
    signs = np.sign(np.sum(plane.directions.numpy() * right[:2], axis=1))
    np.testing.assert_allclose(plane.directions.numpy(), signs[:, None] * right[:2], rtol=0, atol=1e-12)
    np.testing.assert_allclose(plane.explained_variance, singular[:2] ** 2 / np.sum(singular ** 2), rtol=1e-12)
    assert torch.equal(plane.origin, origin), "the plane passes through the common start"
    assert (ls.project(plane, paths[0])[0][-1] >= 0).all(), "signs: the first path ends at (+, +)"


@pytest.mark.parametrize("centred", [True, False])
def test_signs_put_the_first_paths_end_at_non_negative_coordinates_from_the_start(centred):
    """Even where that end lies between the start and the points' mean (its centred coordinates negative)."""
    basis = orthonormal(2, 8)
    origin = torch.zeros(8, dtype=DTYPE)
    short = origin + torch.tensor([[0.0, 0.0], [1.0, 0.5]], dtype=DTYPE) @ basis
    long = origin + torch.tensor([[0.0, 0.0], [6.0, -1.0], [12.0, 4.0], [15.0, 3.0]], dtype=DTYPE) @ basis
    plane = ls.pca_plane([short, long], origin, centred=centred)
    coords = ls.project(plane, short)[0][-1]
    assert (coords >= 0).all() and torch.linalg.vector_norm(coords) == pytest.approx(math.hypot(1.0, 0.5))


def test_centred_ratio_is_scikit_learns_documented_example():
    """scikit-learn's PCA docstring: X = [[-1, -1], [-2, -1], [-3, -2], [1, 1], [2, 1], [3, 2]] gives
    explained_variance_ratio_ [0.9924..., 0.0075...] (0.99244289, 0.00755711)."""
    points = torch.tensor([[-1, -1], [-2, -1], [-3, -2], [1, 1], [2, 1], [3, 2]], dtype=DTYPE)
    plane = ls.pca_plane([points], points[0])
    assert plane.explained_variance == pytest.approx((0.99244289, 0.00755711), abs=5e-9)


def test_centred_ratio_and_uncentred_share_differ_where_the_points_mean_is_off_the_start():
    """Points θ₀, θ₀ + 4e₀ ± e₁: from the start, Σ (d·e₀)² = 32 and Σ (d·e₁)² = 2 of 34; around
    their mean θ₀ + (8/3) e₀, the spreads are 32/3 and 2 of 38/3. Both planes are span(e₀, e₁)."""
    basis = orthonormal(2, 10)
    origin = torch.linspace(0, 1, 10, dtype=DTYPE)
    path = torch.stack([origin, origin + 4 * basis[0] + basis[1], origin + 4 * basis[0] - basis[1]])
    centred, uncentred = ls.pca_plane([path], origin), ls.pca_plane([path], origin, centred=False)
    assert centred.explained_variance == pytest.approx((16 / 19, 3 / 19), abs=1e-12)
    assert uncentred.explained_variance == pytest.approx((16 / 17, 1 / 17), abs=1e-12)
    assert centred.variance_meaning == "explained variance ratio (centred PCA)"
    assert uncentred.variance_meaning == "share of squared displacement from the start (uncentred PCA)"
    assert ls.given_plane(origin, *basis).variance_meaning is None


def test_uncentred_share_is_what_the_plane_through_the_start_keeps_of_the_squared_displacement():
    """The uncentred PCA plane through θ₀: the paths' squared distances off it sum to
    (1 − share₁ − share₂) Σ ‖x − θ₀‖², and a point's share along v_k is its coordinate's."""
    basis = orthonormal(3, 10)
    origin = torch.zeros(10, dtype=DTYPE)
    path = torch.stack([origin, 3 * basis[0], basis[1], 0.5 * basis[2]])
    plane = ls.pca_plane([path], origin, centred=False)
    assert plane.explained_variance == pytest.approx((9 / 10.25, 1 / 10.25), abs=1e-12)
    assert ls.project(plane, path)[1].tolist() == pytest.approx([0, 0, 0, 0.5], abs=1e-12)
    paths = walks(torch.linspace(-1, 1, 30, dtype=DTYPE))
    plane = ls.pca_plane(paths, paths[0][0], centred=False)
    coords, distances = map(torch.cat, zip(*(ls.project(plane, path) for path in paths)))
    total = sum(float((path - paths[0][0]).square().sum()) for path in paths)
    assert float(distances.square().sum()) == pytest.approx((1 - sum(plane.explained_variance)) * total, rel=1e-12)
    assert (coords.square().sum(0) / total).tolist() == pytest.approx(plane.explained_variance, rel=1e-12)
    centred = ls.pca_plane(paths, paths[0][0])
    assert centred.explained_variance[0] < plane.explained_variance[0] - 0.05, "the drift inflates the share"


def test_project_gives_least_squares_coordinates_and_the_distance_off_the_plane():
    basis = orthonormal(3, 20)
    origin = torch.linspace(-1, 1, 20, dtype=DTYPE)
    plane = ls.given_plane(origin, 2 * basis[0] + basis[1], basis[1])  # not orthonormal
    points = torch.stack([origin, origin + (2 * basis[0] + basis[1]) + 3 * basis[1] + 0.3 * basis[2]])
    coords, distances = ls.project(plane, points)
    torch.testing.assert_close(coords, torch.tensor([[0.0, 0.0], [1.0, 3.0]], dtype=DTYPE))
    torch.testing.assert_close(distances, torch.tensor([0.0, 0.3], dtype=DTYPE))
    with pytest.raises(ValueError, match="points must have shape \\(T, 20\\)"):
        ls.project(plane, origin)


def test_project_of_float32_weights_is_exact_to_float64_sums():
    """A float32 plane and points over a million weights: the coordinates and distances are those of
    float64 arithmetic on the same float32 offsets, to first order within 4·cond·P·2⁻⁵³ of the
    largest coordinate (sums of P products, through the 2 x 2 solve; times ‖D‖ for a distance) and
    float32's rounding of the result (2⁻²⁴ relative)."""
    size = 1 << 20
    generator = torch.Generator().manual_seed(4)
    origin, d1, d2 = torch.randn(3, size, generator=generator, dtype=torch.float32)
    d2 = d2 + 2 * d1  # far from orthogonal
    points = origin + torch.randn(5, 2, generator=generator, dtype=torch.float32) @ torch.stack([d1, d2]) \
        + 1e-2 * torch.randn(5, size, generator=generator, dtype=torch.float32)
    coords, distances = ls.project(ls.given_plane(origin, d1, d2), points)
    assert coords.dtype == distances.dtype == torch.float32
    offsets, directions = (points - origin).double(), torch.stack([d1, d2]).double()
    normal = directions @ directions.T
    expected = torch.linalg.solve(normal, (offsets @ directions.T).T).T
    expected_distances = torch.linalg.vector_norm(offsets - expected @ directions, dim=1)
    error = 4 * float(torch.linalg.cond(normal)) * size * 2.0 ** -53 * float(expected.abs().max())
    torch.testing.assert_close(coords.double(), expected, rtol=2.0 ** -24, atol=error)
    torch.testing.assert_close(distances.double(), expected_distances, rtol=2.0 ** -24 + size * 2.0 ** -53,
                               atol=error * float(torch.linalg.matrix_norm(directions, ord=2)))


@pytest.mark.parametrize("paths, message", [
    (lambda o: [o.repeat(3, 1)], "every displacement from the origin is zero"),
    (lambda o: [o + torch.arange(4.0, dtype=DTYPE)[:, None] * torch.ones_like(o)],
     "fewer than two directions"),
    (lambda o: [o.repeat(2, 1), o.repeat(1, 1) + 1], "fewer than two directions"),
    (lambda o: [o[:4].repeat(2, 1)], "path 0 has shape \\(2, 4\\); expected \\(T, 6\\)"),
    (lambda o: [torch.stack([o, o + float("nan")])], "NaN or infinite"),
    (lambda o: [], "at least one path"),
])
@pytest.mark.parametrize("centred", [True, False])
def test_pca_refuses_degenerate_paths(paths, message, centred):
    origin = torch.arange(6, dtype=DTYPE)
    with pytest.raises(ValueError, match=message):
        ls.pca_plane(paths(origin), origin, centred=centred)


@pytest.mark.parametrize("name", ["mlp", "conv-bn"])
def test_random_plane_is_filter_normalised(name):
    model = tiny(name)
    plane = ls.random_plane(model, seed=7)
    assert plane.kind == "random" and plane.explained_variance is None and plane.directions.dtype == DTYPE
    weights = dict(model.named_parameters())
    for direction in plane.directions:
        for parameter_name, piece in ls.parameter_views(model, direction).items():
            if piece.dim() == 1:
                assert not piece.any(), f"{parameter_name}: biases and BatchNorm parameters are zero"
            else:
                torch.testing.assert_close(piece.flatten(1).norm(dim=1),
                                           weights[parameter_name].detach().flatten(1).norm(dim=1))
    assert not torch.equal(plane.directions[0], plane.directions[1])


def test_random_plane_is_seeded_and_takes_an_origin():
    model = tiny("conv-bn")
    first, again, other = (ls.random_plane(model, seed) for seed in (4, 4, 5))
    assert torch.equal(first.directions, again.directions)
    assert not torch.equal(first.directions, other.directions)
    origin = 3 * ls.flat_weights(model)
    scaled = ls.random_plane(model, 4, origin=origin)
    assert torch.equal(scaled.origin, origin)
    torch.testing.assert_close(scaled.directions, 3 * first.directions)


@pytest.mark.parametrize("d1, d2, message", [
    (torch.ones(4, dtype=DTYPE), -2 * torch.ones(4, dtype=DTYPE), "parallel"),
    (torch.zeros(4, dtype=DTYPE), torch.ones(4, dtype=DTYPE), "d1 is zero"),
    (torch.ones(3, dtype=DTYPE), torch.ones(4, dtype=DTYPE),
     "d1 must be a flat weight vector of shape \\(4,\\)"),
    (torch.eye(4, dtype=DTYPE)[0], torch.full((4,), float("inf"), dtype=DTYPE), "d2 must hold finite"),
])
def test_given_plane_refuses_bad_directions(d1, d2, message):
    with pytest.raises(ValueError, match=message):
        ls.given_plane(torch.zeros(4, dtype=DTYPE), d1, d2)


@pytest.mark.parametrize("centred", [True, False])
def test_a_float32_line_is_no_plane(centred):
    """Rounding in float32 (the product's dtype) does not pass for a second direction."""
    generator = torch.Generator().manual_seed(0)
    origin = torch.randn(5000, generator=generator, dtype=torch.float32)
    step = 1e-3 * torch.randn(5000, generator=generator, dtype=torch.float32)
    path = origin + torch.arange(30, dtype=torch.float32)[:, None] * step
    with pytest.raises(ValueError, match="fewer than two directions"):
        ls.pca_plane([path], origin, centred=centred)


def test_grid_follows_the_model_dtype():
    model, data = tiny("conv-bn").float(), [(x.float(), y) for x, y in batches()]
    plane = ls.random_plane(tiny("conv-bn"), seed=0)  # float64: moved to the model's float32
    grid = ls.loss_grid(model, plane, [-1.0, 0.0, 1.0], [0.0, 0.5], data)
    assert grid.dtype == torch.float32
    torch.testing.assert_close(grid, ls.loss_grid_naive(model, plane, [-1.0, 0.0, 1.0], [0.0, 0.5], data),
                               rtol=1e-5, atol=0)
