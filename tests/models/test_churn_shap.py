"""The churn reasons' SHAP contributions computed by decision patterns are LightGBM's own
``pred_contrib``, bit for bit (the expected values come from LightGBM, not from the code under
test)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from salesradar.models.churn import (
    ChurnModel,
    _pattern_contributions,
    build_features,
    shap_contributions,
)

from .invoice_helpers import day, simulated

lightgbm = pytest.importorskip("lightgbm")


def _data(seed: int, n: int = 3000, features: int = 6) -> tuple[Any, Any]:
    """Features with NaNs, exact zeros, values within LightGBM's zero threshold and ties."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features))
    x[:, 1] = np.round(x[:, 1] * 3)  # ties and zeros
    x[rng.random(n) < 0.2, 2] = np.nan
    x[rng.random(n) < 0.1, 3] = 0.0
    x[rng.random(n) < 0.05, 3] = 1e-40  # read as 0 by LightGBM
    x[rng.random(n) < 0.1, 4] = -0.0
    logit = x[:, 0] - 0.8 * np.nan_to_num(x[:, 2]) + 0.5 * x[:, 1] * (x[:, 3] > 0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y


def _booster(x: Any, y: Any, **params: Any) -> Any:
    settings = {"objective": "binary", "num_leaves": 4, "min_data_in_leaf": 20,
                "learning_rate": 0.1, "verbose": -1, "num_threads": 1, "seed": 0,
                "bagging_fraction": 0.8, "bagging_freq": 1, "feature_fraction": 0.8, **params}
    return lightgbm.train(settings, lightgbm.Dataset(x, y), num_boost_round=60)


def _lightgbm(booster: Any, x: Any) -> Any:
    """LightGBM's contributions without the bias, feature-major (the expected values)."""
    return np.ascontiguousarray(booster.predict(x, pred_contrib=True, num_threads=1)[:, :-1].T)


def _same_bits(a: Any, b: Any) -> bool:
    return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))


@pytest.mark.parametrize(("seed", "params"), [
    (0, {}),
    (1, {"num_leaves": 8, "min_data_in_leaf": 5}),  # deeper trees, features split twice
    (2, {"zero_as_missing": True}),  # missing type Zero
    (3, {"use_missing": False}),  # NaN read as 0
    (4, {"num_leaves": 3}),
])
def test_patterns_give_lightgbms_contributions_bit_for_bit(seed: int, params: Any) -> None:
    x, y = _data(seed)
    booster = _booster(x, y, **params)
    expected = _lightgbm(booster, x)
    found = _pattern_contributions(booster, x)  # the fast path itself, not its fallback
    assert found is not None
    assert _same_bits(found[0], expected)
    assert _same_bits(shap_contributions(booster, x), expected)


def test_new_rows_and_too_many_splits() -> None:
    x, y = _data(5)
    booster = _booster(x, y)
    fresh, _ = _data(6, n=500)  # rows the trees were not fitted on
    assert _same_bits(shap_contributions(booster, fresh), _lightgbm(booster, fresh))
    deep = _booster(x, y, num_leaves=31, min_data_in_leaf=5)  # 30 splits: left to LightGBM
    assert _pattern_contributions(deep, x) is None
    assert _same_bits(shap_contributions(deep, x), _lightgbm(deep, x))
    assert shap_contributions(booster, x[:0]).shape == (x.shape[1], 0)


def test_categorical_splits_are_left_to_lightgbm() -> None:
    x, y = _data(7)
    x[:, 5] = np.floor(np.abs(x[:, 5]) * 3)
    y = (x[:, 5] == 1).astype(int) | y
    booster = lightgbm.train({"objective": "binary", "num_leaves": 4, "verbose": -1,
                              "num_threads": 1, "min_data_per_group": 5, "cat_smooth": 1},
                             lightgbm.Dataset(x, y, categorical_feature=[5]), num_boost_round=20)
    assert _pattern_contributions(booster, x) is None
    assert _same_bits(shap_contributions(booster, x), _lightgbm(booster, x))


def test_reason_order_as_from_lightgbms_contributions() -> None:
    """The churn model's reason order, against the order built from ``pred_contrib`` as the
    model built it before (strength per group, strongest first, only groups toward churn)."""
    from salesradar.models.churn import _GROUP_NAMES, _GROUPS, MODEL_FEATURES

    sim = simulated(customers=300, days=540, seed=4)
    model = ChurnModel(90, n_estimators=40, calibration_folds=2, snapshots=4,
                       min_leaf=20).fit(sim, day(449))
    frame = build_features(sim, [day(449)])
    rows = np.random.default_rng(0).permutation(frame.n)
    booster = model.classifier_.calibrated_classifiers_[0].estimator.booster_
    contrib = booster.predict(model._matrix(frame)[rows], pred_contrib=True)[:, :-1]
    strength = np.zeros((frame.n, len(_GROUP_NAMES)))
    for j, feature in enumerate(model.features_used_):
        group = _GROUP_NAMES.index(_GROUPS[MODEL_FEATURES[int(feature)]])
        strength[rows, group] += contrib[:, j]
    order = np.argsort(-strength, axis=1, kind="stable")
    ranked = np.take_along_axis(strength, order, axis=1)
    expected = np.where(ranked > 0, order, -1)
    assert np.array_equal(model._reason_order(frame, rows), expected)
