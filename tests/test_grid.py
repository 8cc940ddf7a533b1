"""The lr x momentum grid (``landscape.grid``): one layout of cells for every sweep."""

import math

import pytest
import torch

from landscape.grid import Grid, linear_range, log_range, nearest_index, parse_range


def test_rows_are_row_major_with_the_lr_index_major():
    grid = Grid([0.1, 0.2, 0.3], [0.0, 0.5])
    rows = grid.rows()
    assert rows["lr"].tolist() == [0.1, 0.1, 0.2, 0.2, 0.3, 0.3]
    assert rows["momentum"].tolist() == [0.0, 0.5] * 3
    for row in range(grid.cells):
        i, j = grid.cell(row)
        assert grid.row(i, j) == row
        assert grid.setting(i, j) == {"lr": rows["lr"][row].item(), "momentum": rows["momentum"][row].item()}
    assert grid.values(torch.arange(6)).tolist() == [[0, 1], [2, 3], [4, 5]]


def test_an_axis_of_one_value_serves_every_index_along_it():
    own_lr = Grid([0.1], [0.0, 0.5, 0.9])
    assert [own_lr.row(i, 2) for i in range(4)] == [2] * 4, "any lr slider position: the spec's own lr"
    lrs_only = Grid([0.1, 0.2])
    assert lrs_only.shape == (2, 1) and "momentum" not in lrs_only.rows()
    assert [lrs_only.row(1, j) for j in range(3)] == [1] * 3
    assert lrs_only.setting(1) == {"lr": 0.2, "momentum": None}
    assert Grid([0.1, 0.2], [0.3]).at_lr(0.05).shape == (1, 1)


def test_best_is_the_lowest_finite_cell():
    grid = Grid([0.1, 0.2], [0.0, 0.5])
    assert grid.best(torch.tensor([3.0, math.nan, 1.0, 2.0])) == (1, 0)
    assert grid.best(torch.tensor([math.inf, math.nan, math.nan, math.nan])) is None


def test_nearest_cell_is_on_a_log_scale_for_the_learning_rate():
    grid = Grid([0.001, 0.01, 0.1], [0.0, 0.9])
    assert grid.nearest(0.004, 0.6) == (1, 1), "0.004 is nearer 0.01 than 0.001 on a log scale"
    assert grid.nearest(0.003, None) == (0, 0)
    assert nearest_index([1, 2, 3], 2.4) == 1


def test_ranges_parse_and_space_their_values():
    assert parse_range("0.001:1:16") == (0.001, 1.0, 16)
    assert log_range(0.01, 1, 3).tolist() == pytest.approx([0.01, 0.1, 1.0])
    assert linear_range(0, 0.9, 4).tolist() == pytest.approx([0.0, 0.3, 0.6, 0.9])
    grid = Grid.from_ranges((0.01, 1, 3), (0.0, 0.9, 4))
    assert grid.shape == (3, 4) and Grid.from_ranges((0.01, 1, 3), None).momenta is None


@pytest.mark.parametrize("make, message", [
    (lambda: parse_range("0.1:1"), "expected low:high:count, got '0.1:1'"),
    (lambda: parse_range("a:1:3"), "low and high must be numbers"),
    (lambda: parse_range("0.1:1:x"), "count must be an integer, got 'x'"),
    (lambda: Grid.from_ranges((1, 0.1, 3), None), "lrs: need 0 < low < high < inf and count >= 2, got 1:0.1:3"),
    (lambda: Grid.from_ranges((0.1, 1, 3), (0, 1, 3)), "momenta: need 0 <= low <= high < 1"),
    (lambda: Grid([]), "lrs: [] (expected one or more finite numbers > 0)"),
    (lambda: Grid([0.1, 0.0]), "lrs: [0.1, 0.0]"),
    (lambda: Grid([0.1], [float("nan")]), "momenta: [nan] (expected one or more finite numbers in [0, 1))"),
    (lambda: Grid([0.1], [1.0]), "momenta: [1.0]"),
])
def test_bad_values_say_what_is_wrong_without_naming_a_caller(make, message):
    with pytest.raises(ValueError) as error:
        make()
    assert message in str(error.value) and "--" not in str(error.value)
