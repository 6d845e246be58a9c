"""The churn model's calibration folds (:func:`salesradar.models.churn.calibration_folds`): three
customer-grouped folds (four boosting fits) below 50,000 training rows, two (three fits) from
there, as docs/model-quality.md's backtests and the 10M-line benchmark company supported;
``calibration_folds`` set by hand wins."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from salesradar.models import churn
from salesradar.models.calibration import SavedCalibrated
from salesradar.models.churn import MODEL_FEATURES, ChurnModel, FeatureFrame, calibration_folds

from .invoice_helpers import day, simulated


def test_three_folds_below_50000_training_rows_two_from_there() -> None:
    assert calibration_folds(100) == 3
    assert calibration_folds(49_999) == 3
    assert calibration_folds(50_000) == 2
    assert calibration_folds(250_000) == 2
    assert calibration_folds(250_000, 3) == 3  # set by hand
    assert calibration_folds(100, 2) == 2


@pytest.fixture(scope="module")
def sim() -> Any:
    return simulated(customers=300, days=540, seed=5)


def _counted_fits(sim: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[list[int], ChurnModel]:
    """The rows of each boosting fit of a default model fitted on ``sim`` (a small training
    set: the folds are fitted in this process, where the fits are counted)."""
    from lightgbm import LGBMClassifier

    seen: list[int] = []
    original = LGBMClassifier.fit

    def counting(self: Any, X: Any, y: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(len(X))
        return original(self, X, y, *args, **kwargs)

    monkeypatch.setattr(LGBMClassifier, "fit", counting)
    model = ChurnModel(90, n_estimators=20, snapshots=4, min_leaf=20).fit(sim, day(449))
    return seen, model


def test_a_small_training_set_keeps_three_folds(sim: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    seen, model = _counted_fits(sim, monkeypatch)
    n = model.n_train_
    assert n < 50_000
    assert len(seen) == 4  # 3 folds + the booster kept
    *folds, final = seen
    assert final == n
    assert sum(folds) == 2 * n  # each row in the training rows of two of the three folds


def test_two_folds_fit_three_boosters(sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(churn, "TWO_FOLDS_FROM", 1)  # two folds for this small training set
    seen, model = _counted_fits(sim, monkeypatch)
    n = model.n_train_
    assert len(seen) == 3  # 2 folds + the booster kept
    *folds, final = seen
    assert final == n  # the booster kept learns from every training row
    # each fold trains on the other fold's customers: together every row once, about half each
    assert sum(folds) == n
    assert all(0.3 * n < rows < 0.7 * n for rows in folds)
    (inner,) = model.classifier_.calibrated_classifiers_
    assert inner.estimator.booster_.num_trees() == 20


def test_50000_training_rows_are_calibrated_on_two_customer_grouped_folds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sklearn.model_selection import GroupKFold  # type: ignore[import-untyped, unused-ignore]

    splits: list[int] = []

    class Recording(GroupKFold):  # type: ignore[misc]
        def split(self, X: Any, y: Any = None, groups: Any = None) -> Any:
            splits.append(self.n_splits)
            return super().split(X, y, groups)

    monkeypatch.setattr("sklearn.model_selection.GroupKFold", Recording)
    rng = np.random.default_rng(0)
    n = 50_000
    columns = {name: rng.random(n) for name in MODEL_FEATURES}
    frame = FeatureFrame(np.arange(n).astype(str).astype(object),
                         np.full(n, np.datetime64("2026-01-01", "D")), columns)
    churned = (columns["recency_days"] + 0.5 * rng.random(n) > 0.75).astype(int)
    model = ChurnModel(90, n_estimators=5).fit_features(frame, churned)
    assert splits == [2]
    assert model.n_train_ == n
    proba = model.predict_proba_features(frame)
    assert proba.shape == (n,) and ((proba >= 0) & (proba <= 1)).all()
    # saved as its parts (the booster's text and the calibrator's thresholds), the same scores
    rows = model._matrix(frame)
    saved = SavedCalibrated.of(model.classifier_, rows)
    assert saved is not None
    assert np.array_equal(saved.predict_proba(rows), model.classifier_.predict_proba(rows))
