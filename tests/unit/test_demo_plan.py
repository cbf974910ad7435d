"""The demo's plans: what keys its cache, and how each tier measures."""

from __future__ import annotations

from dataclasses import replace

import pytest

from joulebench.demo import FULL, PLANS, QUICK, STANDARD, cache_key
from joulebench.harness.settings import make_settings
from joulebench.harness.stopping import pilot_size
from joulebench.variants.train import TrainSettings


def test_measuring_differently_reuses_the_builds_and_training_differently_does_not():
    measured = replace(QUICK, windows=9, min_window_s=1.5, warmup_s=2.0, warmup_calls=7)
    assert cache_key(measured) == cache_key(QUICK)
    assert cache_key(replace(STANDARD, name="renamed", max_windows=3)) == cache_key(STANDARD)
    trained = replace(QUICK, train=TrainSettings(epochs=2, learning_rate=2e-4, max_length=64))
    assert cache_key(trained) != cache_key(QUICK)
    assert cache_key(replace(QUICK, max_train=100)) != cache_key(QUICK)
    assert len({cache_key(plan) for plan in PLANS.values()}) == 3


def test_each_tier_is_smaller_than_the_next_and_measures_by_steins_rule_with_caps():
    assert list(PLANS) == ["quick", "standard", "full"]
    assert QUICK.max_train < STANDARD.max_train and FULL.max_train is None
    assert QUICK.max_test < STANDARD.max_test and FULL.max_test is None
    for plan in PLANS.values():
        window_keys = {"batch_size", "max_length"}
        settings = make_settings(
            **{k: v for k, v in plan.measuring().items() if k not in window_keys}
        )
        assert settings.target_ci == pytest.approx(0.05)
        assert pilot_size(settings.windows, settings.pilot_windows) == 5
        assert settings.windows <= settings.max_windows
    assert QUICK.max_windows < STANDARD.max_windows < FULL.max_windows
    assert QUICK.max_time_s < STANDARD.max_time_s < FULL.max_time_s


def test_a_pilot_shorter_than_three_windows_is_refused_in_one_line():
    from joulebench.errors import UserError

    with pytest.raises(UserError, match="pilot_windows"):
        make_settings(pilot_windows=2)
    assert pilot_size(5) == 10 and pilot_size(12) == 12 and pilot_size(5, 4) == 4


def test_a_bad_window_length_is_refused_before_anything_is_built(tmp_path, capsys, monkeypatch):
    from joulebench import demo
    from joulebench.cli.main import main

    def never(*args, **kwargs):
        raise AssertionError("built before the options were checked")

    monkeypatch.setattr(demo, "demo_base", never)
    monkeypatch.chdir(tmp_path)
    code = main(["demo", "--quick", "--min-window-s", "0", "--quiet", "--json"])
    err = capsys.readouterr().err
    assert code == 1 and "min_window_s" in err and err.strip().count("\n") == 0
    assert main(["demo", "--quick", "--full"]) == 1  # one tier at a time
    assert "--full: not allowed with argument --quick" in capsys.readouterr().err


def test_a_pilot_without_a_target_is_refused_in_one_line():
    from joulebench.errors import UserError

    with pytest.raises(UserError, match="give target_ci too") as caught:
        make_settings(pilot_windows=5)
    assert "\n" not in str(caught.value)
    assert make_settings(pilot_windows=5, target_ci=0.05).pilot_windows == 5
