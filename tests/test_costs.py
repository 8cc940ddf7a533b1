"""How long a slice or a sweep takes, said before it starts (``nets.costs``): the estimates'
arithmetic, their words, the slice's defaults per model and device, the coarse picture's grid."""

import pytest
import torch

from landscape.nets import costs, models
from landscape.nets.train import RECORD_POINTS

COST = costs.Cost(grid_point=1e-4, forward=2e-4, copy_step=5e-4)


def test_a_slice_costs_its_two_grids_and_its_paths_points():
    # 21 x 21 points on 500 training and 400 validation images; 80 recorded points on the 500
    assert costs.slice_seconds(COST, 21, 500, 400, 80) == pytest.approx(441 * 900 * 1e-4 + 80 * 500 * 2e-4)
    assert costs.slice_seconds(None, 21, 500, 400, 80) is None, "nothing measured: no estimate"


def test_a_sweep_costs_cells_times_epochs_of_training_and_evaluation():
    assert costs.sweep_seconds(COST, 32, 2, 2000, 1000) == pytest.approx(32 * 2 * (2000 * 5e-4 + 1000 * 2e-4))
    assert costs.sweep_seconds(None, 32, 2, 2000, 1000) is None
    assert costs.sweep_seconds(costs.CPU["seed-cnn"], 32, 2, 2000, 1000) is None, "its copies cannot be batched"


@pytest.mark.parametrize("seconds, words", [(0.2, "1 s"), (7.2, "8 s"), (19.5, "20 s"), (42, "40 s"),
                                            (89, "90 s"), (98, "2 min"), (431, "7 min"), (5400, "1.5 h")])
def test_durations_are_said_as_a_person_says_them(seconds, words):
    assert costs.duration(seconds) == words


def test_an_estimate_says_how_long_and_warns_when_it_is_long():
    assert costs.estimate(42, "21 x 21 points on 500 images", "cpu") == "about 40 s for 21 x 21 points on 500 images"
    long = costs.estimate(costs.LONG + 1, "11 x 11 points on 1,000 images", "cpu")
    assert long == "this takes a while: about 60 s for 11 x 11 points on 1,000 images"
    assert costs.estimate(costs.LONG, "w", "cpu") == "about 60 s for w"
    assert costs.estimate(None, "21 x 21 points", "cuda") == ("21 x 21 points on cuda (its speed there is not "
                                                              "measured: the bar shows how far it is)")


@pytest.mark.parametrize("model", list(costs.CPU))
def test_each_models_default_slice_is_the_finest_preset_that_fits_the_budget(model):
    grid, images = costs.slice_defaults(model, "cpu")
    points = costs.DEFAULT_PATHS * (RECORD_POINTS + 2)
    index = costs.SLICE_PRESETS.index((grid, images))
    cost = costs.CPU[model]
    assert costs.slice_seconds(cost, grid, images, images, points) <= costs.SLICE_BUDGET
    finer = costs.SLICE_PRESETS[:index]
    assert all(costs.slice_seconds(cost, g, n, n, points) > costs.SLICE_BUDGET for g, n in finer)


def test_the_defaults_differ_by_model_and_are_the_full_grid_where_nothing_is_measured():
    assert costs.slice_defaults("mlp", "cpu") == (21, 1000)
    assert costs.slice_defaults("cnn", "cpu")[0] < 21, "the CNN's full grid takes minutes on a CPU"
    assert costs.slice_defaults("cnn", torch.device("cuda")) == costs.slice_defaults("cnn", "mps") == (21, 1000)
    assert costs.of("cnn", "cuda:0") is None and costs.of("cnn", "cpu") is costs.CPU["cnn"]


def test_every_model_has_a_measured_cost():
    assert set(costs.CPU) == set(models.MODELS)


@pytest.mark.parametrize("grid, stride", [(21, 2), (15, 2), (11, 2), (5, 2), (31, 3), (51, 5), (61, 6), (20, None),
                                          (4, None), (3, None)])
def test_the_coarse_grid_is_every_strideth_point_of_the_full_one_at_most_eleven(grid, stride):
    assert costs.coarse_stride(grid) == stride
    if stride is not None:
        coarse = torch.linspace(0, 1, grid)[::stride]
        assert coarse[-1] == 1 and 3 <= len(coarse) <= costs.COARSE_POINTS, "it spans the full grid's square"


@pytest.mark.parametrize("count, word, said", [(1, "epoch", "1 epoch"), (2, "epoch", "2 epochs"),
                                               (1000, "image", "1,000 images"), (0, "cell", "0 cells")])
def test_counts_are_said_with_their_plural(count, word, said):
    assert costs.counted(count, word) == said
