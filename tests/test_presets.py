"""Every named recipe builds a valid training, on an architecture that can do what it asks."""

import pytest

from fer import measured, nets
from fer.presets import COMPARISON_RECIPES, PRESETS, comparison_settings
from fer.train import TrainConfig, architecture_builder, preset


@pytest.mark.parametrize("name", list(PRESETS))
def test_each_preset_is_a_valid_training(name):
    config = preset(name)
    assert config.architecture in nets.ARCHITECTURES
    builder = architecture_builder(config)
    if config.crop_size < 48:
        model = builder(num_classes=7, input_shape=(48, 48, 1))
        assert nets.crop_margin(model) == (48 - config.crop_size) // 2


def test_the_shipped_recipe_is_the_literatures():
    config = preset("shipped-model")
    assert (config.optimizer, config.schedule, config.crop_size, config.augment_flip) == ("sgd_nesterov", "cosine",
                                                                                           44, True)
    assert config.ema and config.weight_decay > 0 and config.warmup_epochs > 0 and config.label_smoothing > 0


@pytest.mark.parametrize("recipe", list(COMPARISON_RECIPES))
def test_the_cnn_and_the_dnn_get_the_same_recipe(recipe):
    cnn = TrainConfig(**comparison_settings(recipe, "report_b_cnn", "synthetic")).to_dict()
    dnn = TrainConfig(**comparison_settings(recipe, "report_b_dnn", "synthetic")).to_dict()
    assert {key for key in cnn if cnn[key] != dnn[key]} == {"architecture"}


def test_an_unknown_recipe_is_a_sentence():
    with pytest.raises(ValueError, match="Unknown recipe 'fast'"):
        comparison_settings("fast", "report_b_cnn", "synthetic")


def test_the_classroom_preset_measured_60_percent_in_under_10_minutes_of_a_400_images_per_second_machine():
    """Issue 13's yardstick for a lesson's worth of training, read from what the preset measured (results/)."""
    result = measured.measured_result("classroom-real-faces")
    assert result is not None, "results/classroom-real-faces is missing: record the preset's run"
    assert result.accuracy >= 0.60, f"PublicTest {result.accuracy:.1%}"
    assert result.minutes_at_reference <= 10, f"{result.minutes_at_reference:.1f} minutes at 400 images/s"
