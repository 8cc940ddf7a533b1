"""The optimizer catalog is declared, not inspected: hold each row to the class it names."""

import inspect
import itertools

import matplotlib
import matplotlib.colors as mcolors
import numpy as np
import pytest
import torch

import landscape.optim as lo
from landscape.optim.catalog import constructor_defaults


@pytest.mark.parametrize("word", list(lo.BASE_RULES))
def test_each_row_matches_its_class(word):
    info = lo.BASE_RULES[word]
    accepted = constructor_defaults(info.rule)
    assert set(info.options) <= set(accepted), "the word sets only what the class takes"
    for modifier in info.modifiers:
        assert set(lo.MODIFIERS[modifier]) & set(accepted), f"{modifier} sets nothing on {word}"
    if info.momentum_parameter == "beta1":
        assert len(accepted["betas"]) == 2, "β1 is the first of (β1, β2)"
    elif info.momentum_parameter == "momentum":
        assert "momentum" in accepted
    else:
        assert "momentum" not in accepted or info.rule is lo.AggMo
    assert info.network_lr > 0 and info.paper


def test_modifiers_apply_where_the_catalog_says_and_nowhere_else():
    parameter = [torch.zeros(2, dtype=torch.float64, requires_grad=True)]
    for word, info in lo.BASE_RULES.items():
        for modifier in lo.MODIFIERS:
            spec = f"{word}+{modifier}"
            if modifier in info.modifiers and modifier != word:
                lo.build(spec, parameter, lr=0.1)
            elif modifier not in info.modifiers:
                with pytest.raises(ValueError, match=f"'{modifier}' does not apply to '{word}'"):
                    lo.parse(spec)


def test_decoupled_rules_refuse_l2_and_coupled_ones_take_it():
    for word in ("sgdw", "adamw", "nadamw", "radamw"):
        with pytest.raises(ValueError, match="does not apply"):
            lo.parse(f"{word}+l2")
    group = lo.build("adam+l2", [torch.zeros(2, dtype=torch.float64, requires_grad=True)]).param_groups[0]
    assert group["weight_decay"] == 1e-2 and group["decoupled_weight_decay"] is False


@pytest.mark.parametrize("spec,momentum", [("gd", None), ("sgd", None), ("sgd+momentum", "momentum"),
                                           ("momentum", "momentum"), ("nesterov", "momentum"),
                                           ("rmsprop", None), ("rmsprop+momentum", "momentum"),
                                           ("adam", "beta1"), ("adabound", "beta1"), ("aggmo", None),
                                           ("adagrad", None)])
def test_the_momentum_a_slider_moves(spec, momentum):
    assert lo.parse(spec).momentum_parameter == momentum


def test_beta1_and_beta2_fold_into_betas_with_the_class_defaults():
    parameter = [torch.zeros(2, dtype=torch.float64, requires_grad=True)]
    nadam_beta2 = inspect.signature(lo.NAdam.__init__).parameters["betas"].default[1]
    assert lo.build("nadam", parameter, momentum=0.5).param_groups[0]["betas"] == (0.5, nadam_beta2)
    assert lo.build("adam", parameter, beta2=0.9).param_groups[0]["betas"] == (0.9, 0.9)


def test_adabound_takes_its_own_keywords_and_no_others():
    adabound = dict(lr=1e-3, betas=(0.9, 0.999), final_lr=0.1, gamma=1e-3, eps=1e-8, weight_decay=0.0)
    assert constructor_defaults(lo.AdaBound) == {**adabound, "amsbound": False, "decoupled_weight_decay": False}
    assert constructor_defaults(lo.AMSBound) == {**adabound, "decoupled_weight_decay": False}


def _lab(colour: str) -> np.ndarray:
    """CIELAB of an sRGB colour (D65): distances in it are differences a person sees."""
    rgb = np.asarray(mcolors.to_rgba_array(colour)[..., :3], dtype=float)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]).T
    f = np.cbrt(np.maximum(xyz / [0.95047, 1.0, 1.08883], 0.008856))
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def test_each_rule_has_its_own_colour_visible_on_the_contours_and_on_white():
    """Paths are drawn on viridis contours (dark purple, blue, green, yellow) and loss curves on
    white: a rule's colour keeps off both, and off every other rule's."""
    colours = {word: info.colour for word, info in lo.BASE_RULES.items()}
    viridis = _lab(matplotlib.colormaps["viridis"](np.linspace(0, 1, 256)))
    white = _lab("#ffffff")
    for word, colour in colours.items():
        lab = _lab(colour)
        assert np.linalg.norm(viridis - lab, axis=-1).min() > 35, f"{word}'s {colour} is a contour colour"
        assert np.linalg.norm(white - lab) > 40, f"{word}'s {colour} is too pale on white"
    labs = {word: _lab(colour) for word, colour in colours.items()}
    for first, second in itertools.combinations(labs, 2):
        assert np.linalg.norm(labs[first] - labs[second]) > 10, f"{first} and {second} look alike"
