"""The demo's plans: what keys its cache."""

from __future__ import annotations

from dataclasses import replace

from joulebench.demo import FULL, QUICK, cache_key
from joulebench.variants.train import TrainSettings


def test_measuring_differently_reuses_the_builds_and_training_differently_does_not():
    measured = replace(QUICK, windows=9, min_window_s=1.5, warmup_s=2.0, warmup_calls=7)
    assert cache_key(measured) == cache_key(QUICK)
    trained = replace(QUICK, train=TrainSettings(epochs=2, learning_rate=2e-4, max_length=64))
    assert cache_key(trained) != cache_key(QUICK)
    assert cache_key(replace(QUICK, max_train=100)) != cache_key(QUICK)
    assert cache_key(FULL) != cache_key(QUICK)
