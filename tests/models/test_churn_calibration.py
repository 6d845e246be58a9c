"""The churn model's calibrated fit (:func:`salesradar.models.calibration.fit_calibrated`)
against scikit-learn's own ``CalibratedClassifierCV(ensemble=False).fit``: the same fitted
classifier, bit for bit, on every path; and a model fitted the old way still loads and scores."""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped, unused-ignore]
from sklearn.model_selection import GroupKFold  # type: ignore[import-untyped, unused-ignore]

from salesradar.models import calibration, churn
from salesradar.models.calibration import _fit_final, fit_calibrated, thread_limits
from salesradar.models.churn import ChurnModel

from .invoice_helpers import day, simulated

FAST = {"n_estimators": 40, "calibration_folds": 3, "snapshots": 4, "min_leaf": 20}


def _reference(estimator: Any, X: Any, y: Any, splits: Any, *, method: str,
               n_jobs: int, threads: int = 1) -> Any:
    """What the churn model fitted before fit_calibrated: scikit-learn itself, the final fit in
    the caller's thread limits (``threads`` is taken like fit_calibrated's, and not needed)."""
    return CalibratedClassifierCV(estimator, method=method, cv=splits, ensemble=False,
                                  n_jobs=n_jobs).fit(X, y)


def _without_scikit_learns_fit(patch: pytest.MonkeyPatch) -> None:
    """Make sure fit_calibrated fits by itself, not by falling back to scikit-learn."""
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("CalibratedClassifierCV.fit was called")

    patch.setattr(CalibratedClassifierCV, "fit", refuse)


def _data(n: int = 2400, seed: int = 0) -> tuple[Any, Any, Any, list[Any]]:
    """Features with missing values, 0/1 labels, rows of new data, folds grouped by customer."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n + 500, 6))
    X[rng.random(X.shape) < 0.05] = np.nan
    logit = 1.5 * np.nan_to_num(X[:, 0]) - np.nan_to_num(X[:, 1]) * np.nan_to_num(X[:, 2])
    y = (rng.random(n + 500) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    groups = rng.integers(0, n // 4, n)
    splits = list(GroupKFold(n_splits=3, shuffle=True, random_state=0).split(X[:n], y[:n],
                                                                              groups))
    return X[:n], y[:n], X[n:], splits


def _state(classifier: Any, rows: Any) -> dict[str, Any]:
    """What a fitted CalibratedClassifierCV holds, comparable with ==: its settings, classes,
    calibrator, and its booster (LightGBM's model text; scikit-learn's boosting, whose arrays
    pickle differently once sent between processes, by its raw scores of ``rows``)."""
    assert type(classifier) is CalibratedClassifierCV
    (inner,) = classifier.calibrated_classifiers_
    (calibrator,) = inner.calibrators
    booster = inner.estimator
    params = classifier.get_params(deep=False)
    return {
        "params": (repr(params.pop("estimator")), [(list(a), list(b)) for a, b in
                                                   params.pop("cv")], params),
        "classes": classifier.classes_.tolist(),
        "n_features_in": getattr(classifier, "n_features_in_", None),
        "inner": (type(inner).__name__, inner.method, inner.classes.tolist()),
        "booster": (booster.booster_.model_to_string() if hasattr(booster, "booster_")
                    else (booster.n_iter_, booster.decision_function(rows).tolist())),
        "calibrator": (type(calibrator).__name__,
                       {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                        for k, v in vars(calibrator).items() if k != "f_"}),
    }


@pytest.mark.parametrize(("estimator", "method", "n_jobs", "beside"), [
    ("lightgbm", "isotonic", 2, False),  # the final fit as the workers' first job (two cores)
    ("lightgbm", "isotonic", 2, True),  # the final fit here while the workers fit the folds
    ("lightgbm", "sigmoid", 2, False),
    ("hist_gradient_boosting", "isotonic", 2, False),
    ("lightgbm", "isotonic", 1, None),  # one process: scikit-learn's own fit
])
def test_the_same_fit_as_scikit_learn(
    estimator: str, method: str, n_jobs: int, beside: bool | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    X, y, new, splits = _data()
    booster = ChurnModel(estimator=estimator, n_estimators=30)._booster()  # type: ignore[arg-type]
    with thread_limits(1):  # as the churn model fits
        with monkeypatch.context() as patch:
            if n_jobs > 1:
                _without_scikit_learns_fit(patch)
            ours = fit_calibrated(booster, X, y, splits, method=method, n_jobs=n_jobs,
                                  threads=1, beside=beside)
        theirs = _reference(booster, X, y, splits, method=method, n_jobs=n_jobs)
    assert _state(ours, new) == _state(theirs, new)
    assert np.array_equal(ours.predict_proba(new), theirs.predict_proba(new))
    assert np.array_equal(ours.predict(new), theirs.predict(new))
    # unfitted estimator given stays unfitted, as scikit-learn leaves it
    assert not hasattr(booster, "classes_")


class _Counting:
    """An estimator that records the OpenMP threads it was fitted with."""

    def fit(self, X: Any, y: Any) -> _Counting:
        from threadpoolctl import threadpool_info  # type: ignore[import-untyped, unused-ignore]

        self.threads_ = {i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp"}
        return self


def test_the_final_fit_in_a_worker_keeps_the_callers_thread_limits() -> None:
    # scikit-learn's OpenMP runtime loaded, as in a worker fitting a booster
    import sklearn.ensemble  # type: ignore[import-untyped, unused-ignore]  # noqa: F401

    X, y, _, _ = _data(n=100)
    for threads in (1, 2):
        assert _fit_final(_Counting(), X, y, threads).threads_ == {threads}


def _outcome(fit: Callable[[], Any], new: Any) -> Any:
    """The probabilities and warnings of a fit, or the error it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            proba = fit().predict_proba(new)
        except ValueError as error:
            return ("raised", str(error))
    return (proba.tolist(), sorted({str(w.message) for w in caught}))


def test_a_fold_without_one_class_is_left_to_scikit_learn() -> None:
    X, y, new, _ = _data()
    positives, negatives = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    # the first fold tests every positive, so its training rows hold none
    tests = [np.sort(np.concatenate([positives, negatives[:100]])),
             negatives[100:700], negatives[700:]]
    splits = [(np.setdiff1d(np.arange(len(y)), t), t) for t in tests]
    booster = ChurnModel(n_estimators=10)._booster()
    ours = _outcome(lambda: fit_calibrated(booster, X, y, splits, method="isotonic", n_jobs=2),
                    new)
    theirs = _outcome(lambda: _reference(booster, X, y, splits, method="isotonic", n_jobs=2),
                      new)
    assert ours == theirs


def test_folds_that_do_not_cover_every_row_are_refused_as_by_scikit_learn() -> None:
    X, y, _, splits = _data()
    partial = [(train, test[1:]) for train, test in splits]
    booster = ChurnModel(n_estimators=10)._booster()
    with pytest.raises(ValueError, match="partitions"):
        fit_calibrated(booster, X, y, partial, method="isotonic", n_jobs=2)


@pytest.fixture(scope="module")
def sim() -> object:
    return simulated(customers=400, days=540, seed=3)


def _fit(sim: object, monkeypatch: pytest.MonkeyPatch, *, old: bool, **settings: Any) -> ChurnModel:
    with monkeypatch.context() as patch:
        # the folds in two worker processes, the final fit as their first job (two cores)
        patch.setattr(churn, "PARALLEL_FOLDS_FROM", 0)
        patch.setattr(churn, "usable_cores", lambda: 2)
        patch.setattr(calibration, "usable_cores", lambda: 2)
        if old:
            patch.setattr(churn, "fit_calibrated", _reference)
        else:
            _without_scikit_learns_fit(patch)
        return ChurnModel(90, **FAST, **settings).fit(sim, day(449))  # type: ignore[arg-type]


def test_an_old_model_loads_and_scores_like_a_new_one(
    sim: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model pickled by the code before fit_calibrated (CalibratedClassifierCV.fit) still
    scores, and a model fitted now gives the same probabilities and SHAP reasons."""
    old = pickle.loads(pickle.dumps(_fit(sim, monkeypatch, old=True)))
    new = _fit(sim, monkeypatch, old=False)
    assert _state(old.classifier_, None) == _state(new.classifier_, None)
    old_scores, new_scores = old.score(sim, day(449)), new.score(sim, day(449))
    assert old_scores.equals(new_scores)
    assert np.array_equal(old.scored_reasons_, new.scored_reasons_)  # type: ignore[arg-type]
    reloaded = pickle.loads(pickle.dumps(new))
    assert reloaded.score(sim, day(449)).equals(new_scores)
