"""scikit-learn's ``CalibratedClassifierCV(ensemble=False)``, fitted with its final fit and its
cross-validation folds side by side.

``CalibratedClassifierCV(estimator, cv=splits, ensemble=False, n_jobs=k).fit(X, y)`` runs three
steps one after the other: the out-of-fold predictions (``cross_val_predict``: one fit per fold,
in ``k`` worker processes), the estimator fitted on all rows (in this process), then the
calibrator fitted on the out-of-fold predictions. The final fit does not need the folds, so
:func:`fit_calibrated` runs it with them: as the first job of the same ``k`` workers when the
machine has no other core (on two cores the churn model's three folds and final fit took three
rounds, two folds, the third alone, then the final fit; now two, the final fit beside one fold,
then two folds), or in this process while the workers fit the folds when it has one. Then it
fits the calibrator on the folds' predictions exactly as scikit-learn does (its own
``_fit_calibrator``).

Each fit has the threads it has in scikit-learn's own ``fit``: the folds run in the same worker
processes (joblib's limits for them), the final fit in the caller's limits, which
:func:`thread_limits` sets again when the final fit runs in a worker. LightGBM boosters are
sent back as their model text, which is what LightGBM's own ``train`` keeps of a fitted
booster anyway. So the fitted classifier is the same, bit for bit: a genuine
:class:`~sklearn.calibration.CalibratedClassifierCV` (``calibrated_classifiers_[0].estimator``
the estimator fitted on all rows, ``classes_``, ``predict_proba``) that pickles and scores like
one fitted by scikit-learn. Whatever this does not reproduce, it leaves to scikit-learn's
``fit``: one process (nothing to run beside), other than two classes, a calibration other than
isotonic or sigmoid, folds whose test rows are not every row once, a fold that did not see every
class, or a scikit-learn without the pieces used here. ``tests/models/test_churn_calibration.py``
compares the two on each path.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from salesradar.models.base import usable_cores

__all__ = ["fit_calibrated", "thread_limits"]

Split = tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]

# scikit-learn's preference for the calibrator's input (CalibratedClassifierCV.fit)
_RESPONSE_METHODS = ("decision_function", "predict_proba")


def thread_limits(threads: int) -> Any:
    """BLAS single-threaded and OpenMP at ``threads`` (a context manager); the churn model's
    fits and predictions run in these limits (:func:`salesradar.models.churn._thread_limits`)."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped, unused-ignore]

    return threadpool_limits(limits={"blas": 1, "openmp": max(1, threads)})


def _response_method(estimator: Any) -> str:
    """The first of :data:`_RESPONSE_METHODS` the estimator has, as scikit-learn's
    ``_check_response_method`` picks it (``decision_function`` for LightGBM from 4.7 and
    scikit-learn's histogram boosting, ``predict_proba`` for older LightGBM)."""
    for name in _RESPONSE_METHODS:
        if hasattr(estimator, name):
            return name
    raise AttributeError(f"{type(estimator).__name__} has none of {_RESPONSE_METHODS}")


def _fit_fold(estimator: Any, X: Any, y: Any, train: Any, test: Any,
              method: str) -> tuple[Any, Any]:
    """One fold of ``cross_val_predict`` (sklearn's ``_fit_and_predict`` without fit
    parameters): fit on the training rows, predict the test rows; with the classes the fold
    saw (the caller falls back to scikit-learn when a fold missed one)."""
    from sklearn.utils import _safe_indexing  # type: ignore[import-untyped, unused-ignore]

    estimator.fit(_safe_indexing(X, train), _safe_indexing(y, train))
    return getattr(estimator, method)(_safe_indexing(X, test)), estimator.classes_


def _fit_final(estimator: Any, X: Any, y: Any, threads: int) -> Any:
    """The final fit in a worker, in the thread limits it has in the caller's process."""
    with thread_limits(threads):
        return estimator.fit(X, y)


def _calibrator_fitter() -> Any:
    """scikit-learn's ``_fit_calibrator`` with the arguments of this version bound, or None
    where it is missing or takes others (then the caller leaves the fit to scikit-learn)."""
    import sklearn  # type: ignore[import-untyped, unused-ignore]

    # read against scikit-learn 1.9's source (what its calibrator expects of the predictions
    # and labels); another version fits by scikit-learn's own code, slower but never wrong
    if tuple(sklearn.__version__.split(".")[:2]) != ("1", "9"):
        return None
    try:
        from sklearn.calibration import _fit_calibrator  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return None
    try:
        params = inspect.signature(_fit_calibrator).parameters
    except (TypeError, ValueError):
        return None
    if list(params)[:5] != ["clf", "predictions", "y", "classes", "method"]:
        return None
    extra: dict[str, Any] = {}
    if "xp" in params:  # scikit-learn 1.8+: the array namespace, read only by "temperature"
        extra["xp"] = np
    required = {name for name, p in params.items()
                if p.default is inspect.Parameter.empty
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    if not required <= {"clf", "predictions", "y", "classes", "method", *extra}:
        return None

    def fit(clf: Any, predictions: Any, y: Any, classes: Any, method: str) -> Any:
        return _fit_calibrator(clf, predictions, y, classes, method, **extra)

    return fit


def _generators(parallel: Any) -> bool:
    """Whether joblib's Parallel can return a generator (joblib 1.3+), which starts the tasks
    before the caller collects them."""
    try:
        return "return_as" in inspect.signature(parallel.__init__).parameters
    except (TypeError, ValueError):
        return False


def fit_calibrated(
    estimator: Any, X: Any, y: Any, splits: Sequence[Split], *, method: str, n_jobs: int,
    threads: int = 1, beside: bool | None = None,
) -> Any:
    """``CalibratedClassifierCV(estimator, method=method, cv=splits, ensemble=False,
    n_jobs=n_jobs).fit(X, y)``, the same fitted object, with the final fit run beside the
    folds (see the module docstring).

    ``X`` is a numpy matrix and ``splits`` a list of (train, test) row indices. Call it inside
    ``thread_limits(threads)``, the limits the final fit has in scikit-learn's own ``fit`` (they
    are set again when it runs in a worker). ``beside``: the final fit runs in this process while
    the ``n_jobs`` workers fit the folds (default: when the machine has a core more than
    ``n_jobs``), else as the workers' first job.
    """
    from sklearn.base import clone  # type: ignore[import-untyped, unused-ignore]
    from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped, unused-ignore]
    from sklearn.preprocessing import LabelEncoder  # type: ignore[import-untyped, unused-ignore]
    from sklearn.utils.multiclass import check_classification_targets  # type: ignore[import-untyped, unused-ignore]
    from sklearn.utils.parallel import Parallel, delayed  # type: ignore[import-untyped, unused-ignore]

    classifier = CalibratedClassifierCV(estimator, method=method, cv=splits, ensemble=False,
                                        n_jobs=n_jobs)
    fit_calibrator = _calibrator_fitter()
    y = np.asarray(y)
    if (n_jobs is None or n_jobs <= 1 or fit_calibrator is None
            or method not in ("isotonic", "sigmoid") or y.ndim != 1 or len(y) != len(X)):
        return classifier.fit(X, y)
    check_classification_targets(y)
    classes = LabelEncoder().fit(y).classes_
    test_rows = np.concatenate([test for _, test in splits]) if len(splits) else np.array([])
    covered = np.zeros(len(y), dtype=bool)
    covered[test_rows.astype(np.intp)] = True
    if len(classes) != 2 or len(test_rows) != len(y) or not covered.all():
        return classifier.fit(X, y)

    # cross_val_predict: the folds learn the labels encoded 0..n_classes-1
    encoded = LabelEncoder().fit_transform(y)
    final = clone(estimator)
    response = _response_method(final)
    folds = [delayed(_fit_fold)(clone(final), X, encoded, train, test, response)
             for train, test in splits]
    if beside is None:
        beside = usable_cores() > n_jobs
    if beside and _generators(Parallel):
        # a generator: the folds go to the workers now and are collected after the final fit
        running = Parallel(n_jobs=n_jobs, pre_dispatch="all", return_as="generator")(folds)
        try:
            final.fit(X, y)
            outputs = list(running)
        finally:
            running.close()  # aborts the folds still running when the final fit failed
    else:
        # the final fit first (the longest), each fold on the first worker free
        final, *outputs = Parallel(n_jobs=n_jobs, pre_dispatch="all")(
            [delayed(_fit_final)(final, X, y, threads), *folds])
    if any(not np.array_equal(seen, np.arange(len(classes))) for _, seen in outputs):
        # scikit-learn pads a missing class's column (with a warning) or refuses: its call
        return classifier.fit(X, y)
    inverse = np.empty(len(test_rows), dtype=int)
    inverse[test_rows] = np.arange(len(test_rows))
    predictions = np.concatenate([p for p, _ in outputs])[inverse]
    if response == "predict_proba":
        predictions = predictions[:, 1]  # the positive class, classes_[1]
    calibrated = fit_calibrator(final, predictions.reshape(-1, 1), y, classes, method)
    classifier.calibrated_classifiers_ = [calibrated]
    classifier.classes_ = classes
    for name in ("n_features_in_", "feature_names_in_"):
        if hasattr(final, name):
            setattr(classifier, name, getattr(final, name))
    return classifier
