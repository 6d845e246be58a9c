"""scikit-learn's ``CalibratedClassifierCV(ensemble=False)``, fitted with its final fit and its
cross-validation folds side by side.

``CalibratedClassifierCV(estimator, cv=splits, ensemble=False, n_jobs=k).fit(X, y)`` runs three
steps one after the other: the out-of-fold predictions (``cross_val_predict``: one fit per fold,
in ``k`` worker processes), the estimator fitted on all rows (in this process), then the
calibrator fitted on the out-of-fold predictions. The final fit does not need the folds, so
:func:`fit_calibrated` runs it with them: as the first job of the same ``k`` workers when the
machine has no other core (on two cores the churn model's three folds and final fit took three
rounds, two folds, the third alone, then the final fit; run side by side, two, the final fit
beside one fold, then two folds; with two folds, as from 50,000 training rows since 2026-12-07,
one: the final fit beside both folds, one after the other, which together take about as long),
or in this process while the workers fit the folds when it has one. Then it
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

import ctypes
import importlib.util
import inspect
import json
import pickle
import platform
import sys
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from salesradar.models.base import usable_cores

__all__ = ["Deferred", "NativeBooster", "SavedCalibrated", "fit_calibrated", "thread_limits"]

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


# -- a fitted classifier saved as its parts ---------------------------------------------------
# A saved churn model is loaded on every day's run; unpickling its CalibratedClassifierCV
# imported scikit-learn and LightGBM's Python package (which imports scikit-learn): a second of
# CPU, for a booster and 250 numbers. :class:`SavedCalibrated` keeps what predicting needs (the
# booster's model text, the isotonic calibrator's thresholds) and predicts through LightGBM's
# own library, called as LightGBM's Python package calls it: the same C functions, with the
# same arguments, so the same bits.

_LIBRARY_NAME = {"Windows": "lib_lightgbm.dll", "Darwin": "lib_lightgbm.dylib"}
_DTYPE_FLOAT64 = 1  # LightGBM's C API: C_API_DTYPE_FLOAT64
_COL_MAJOR, _ROW_MAJOR = 0, 1
_PREDICT_RAW_SCORE, _PREDICT_CONTRIB = 1, 3
_library_lock = threading.Lock()
_library: list[Any] = []  # the loaded library, once


def _lightgbm_library() -> Any:
    """LightGBM's shared library (``ctypes.CDLL``), loaded without importing its Python
    package (which imports scikit-learn and pandas); the package's own when it is imported.
    Found where the package looks for it (``lightgbm/libpath.py``); None when absent."""
    basic = sys.modules.get("lightgbm.basic")
    if basic is not None and hasattr(basic, "_LIB"):
        return basic._LIB
    with _library_lock:
        if _library:
            return _library[0]
        spec = importlib.util.find_spec("lightgbm")
        if spec is None or not spec.submodule_search_locations:
            return None
        package = Path(next(iter(spec.submodule_search_locations))).resolve()
        name = _LIBRARY_NAME.get(platform.system(), "lib_lightgbm.so")
        found = [p for p in (package.parent / name, package / "bin" / name, package / "lib" / name)
                 if p.is_file()]
        if not found:
            return None
        library = ctypes.cdll.LoadLibrary(str(found[0]))
        library.LGBM_GetLastError.restype = ctypes.c_char_p
        _library.append(library)
        return library


def _checked(library: Any, status: int) -> None:
    if status != 0:
        raise RuntimeError(library.LGBM_GetLastError().decode("utf-8"))


class NativeBooster:
    """A LightGBM booster loaded from its model text into LightGBM's library: the predictions
    and the JSON dump of ``lightgbm.Booster`` (those :func:`~salesradar.models.churn.
    shap_contributions` asks for), without LightGBM's Python package."""

    def __init__(self, library: Any, model_text: str, best_iteration: int) -> None:
        self._library = library
        self.best_iteration = best_iteration
        handle = ctypes.c_void_p()
        iterations = ctypes.c_int(0)
        _checked(library, library.LGBM_BoosterLoadModelFromString(
            ctypes.c_char_p(model_text.encode("utf-8")), ctypes.byref(iterations),
            ctypes.byref(handle)))
        self._handle = handle
        weakref.finalize(self, library.LGBM_BoosterFree, handle)

    def raw_predict(self, matrix: npt.NDArray[np.float64], kind: int,
                    parameters: str) -> npt.NDArray[np.float64]:
        """``_InnerPredictor``'s prediction of a float64 matrix (``kind``: raw score or
        contributions), all iterations to the best one; one row per row when several values."""
        library = self._library
        # lightgbm's _np2d_to_np1d: column-major when the matrix is, else row-major
        order: Literal["C", "F"] = "F" if matrix.flags["F_CONTIGUOUS"] else "C"
        data = np.asarray(matrix, dtype=np.float64, order=order).ravel(order=order)
        rows, columns = matrix.shape
        count = ctypes.c_int64(0)
        _checked(library, library.LGBM_BoosterCalcNumPredict(
            self._handle, ctypes.c_int(rows), ctypes.c_int(kind), ctypes.c_int(0),
            ctypes.c_int(self.best_iteration), ctypes.byref(count)))
        out = np.empty(count.value, dtype=np.float64)
        written = ctypes.c_int64(0)
        _checked(library, library.LGBM_BoosterPredictForMat(
            self._handle, data.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
            ctypes.c_int(_DTYPE_FLOAT64), ctypes.c_int32(rows), ctypes.c_int32(columns),
            ctypes.c_int(_COL_MAJOR if order == "F" else _ROW_MAJOR), ctypes.c_int(kind),
            ctypes.c_int(0), ctypes.c_int(self.best_iteration),
            ctypes.c_char_p(parameters.encode("utf-8")), ctypes.byref(written),
            out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))))
        if written.value != count.value:
            raise RuntimeError("LightGBM wrote another number of predictions")
        return out.reshape(rows, -1) if out.size != rows else out

    def predict(self, matrix: npt.NDArray[np.float64], *, pred_contrib: bool,
                num_threads: int) -> npt.NDArray[np.float64]:
        """``lightgbm.Booster.predict(matrix, pred_contrib=True, num_threads=...)``."""
        if not pred_contrib:
            raise ValueError("only the contributions are predicted here")
        return self.raw_predict(matrix, _PREDICT_CONTRIB, f"num_threads={num_threads}")

    def dump_model(self) -> dict[str, Any]:
        """``lightgbm.Booster.dump_model()``: the trees to the best iteration as JSON."""
        library = self._library
        size = 1 << 20
        for _ in range(2):  # again with a buffer of the size asked for
            buffer = ctypes.create_string_buffer(size)
            needed = ctypes.c_int64(0)
            _checked(library, library.LGBM_BoosterDumpModel(
                self._handle, ctypes.c_int(0), ctypes.c_int(self.best_iteration),
                ctypes.c_int(0), ctypes.c_int64(size), ctypes.byref(needed),
                ctypes.c_char_p(ctypes.addressof(buffer))))
            if needed.value <= size:
                break
            size = needed.value
        dumped: dict[str, Any] = json.loads(buffer.value.decode("utf-8"))
        dumped["pandas_categorical"] = None  # a booster fitted on a numpy matrix
        return dumped


class Deferred:
    """An object kept pickled, unpickled on first use (:meth:`value`): the churn model's
    recency rule, a scikit-learn object read only when the rule speaks."""

    def __init__(self, value: Any) -> None:
        self._data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        self._value: list[Any] = []

    def value(self) -> Any:
        if not self._value:
            self._value.append(pickle.loads(self._data))  # written by this code
        return self._value[0]

    def __getstate__(self) -> dict[str, Any]:
        return {"data": self._data}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._data = state["data"]
        self._value = []


class SavedCalibrated:
    """A fitted ``CalibratedClassifierCV(ensemble=False)`` over a LightGBM booster with an
    isotonic calibrator, as it is saved: the booster's model text, the calibrator's
    thresholds, and the classifier itself pickled (:meth:`full`, for anything else).

    :meth:`predict_proba` computes what the classifier's own does, the same bits: the
    booster's raw scores (its ``decision_function``, through LightGBM's library with the
    parameters its Python package passes), clipped to the calibrator's range and interpolated
    as scikit-learn's ``IsotonicRegression`` does (SciPy's ``interp1d`` calls ``np.interp``),
    ``1 - p`` beside. :meth:`of` makes one only from a classifier of that shape, and only when
    they predict the same on the rows it is given."""

    def __init__(self, classifier: Any, model_text: str, best_iteration: int,
                 parameters: str) -> None:
        (inner,) = classifier.calibrated_classifiers_
        (calibrator,) = inner.calibrators
        self.classes_ = np.asarray(classifier.classes_)
        self.n_features_in_ = int(inner.estimator.n_features_in_)
        self._model_text = model_text
        self._best_iteration = best_iteration
        self._parameters = parameters
        self._x_min = float(calibrator.X_min_)
        self._x_max = float(calibrator.X_max_)
        self._x = np.asarray(calibrator.X_thresholds_, dtype=np.float64)
        self._y = np.asarray(calibrator.y_thresholds_, dtype=np.float64)
        self._full = Deferred(classifier)
        self._lock = threading.Lock()
        self._booster: NativeBooster | None = None

    @classmethod
    def of(cls, classifier: Any, rows: npt.NDArray[np.float64]) -> SavedCalibrated | None:
        """``classifier`` saved as its parts, or None: another shape (another estimator or
        calibration, more classes, a scikit-learn or LightGBM this was not read against), no
        LightGBM library, or different predictions (of ``rows``: probabilities, and the
        contributions and trees the SHAP reasons read)."""
        try:
            parts = cls._parts(classifier)
        except Exception:  # anything unexpected: saved whole, as before
            return None
        if parts is None or not len(rows):
            return None
        saved = cls(classifier, *parts)
        try:
            genuine = classifier.calibrated_classifiers_[0].estimator.booster_
            native = saved.booster()
            if not isinstance(native, NativeBooster):  # no library to load it into
                return None
            few = rows[:64]
            same = (np.array_equal(saved.predict_proba(rows), classifier.predict_proba(rows))
                    and native.dump_model() == genuine.dump_model()
                    and np.array_equal(native.predict(few, pred_contrib=True, num_threads=1),
                                       genuine.predict(few, pred_contrib=True, num_threads=1)))
        except Exception:
            return None
        return saved if same else None

    @staticmethod
    def _parts(classifier: Any) -> tuple[str, int, str] | None:
        """The booster's model text, best iteration and prediction parameters, when the
        classifier has the shape :meth:`predict_proba` reproduces."""
        import sklearn  # type: ignore[import-untyped, unused-ignore]
        from lightgbm import LGBMClassifier
        from lightgbm.basic import _choose_param_value, _ConfigAliases, _param_dict_to_str
        from sklearn.calibration import CalibratedClassifierCV  # type: ignore[import-untyped, unused-ignore]
        from sklearn.isotonic import IsotonicRegression  # type: ignore[import-untyped, unused-ignore]

        if (tuple(sklearn.__version__.split(".")[:2]) != ("1", "9")
                or type(classifier) is not CalibratedClassifierCV
                or len(classifier.calibrated_classifiers_) != 1):
            return None
        inner = classifier.calibrated_classifiers_[0]
        estimator = inner.estimator
        if (type(estimator) is not LGBMClassifier or inner.method != "isotonic"
                or len(inner.calibrators) != 1 or _response_method(estimator) != "decision_function"
                or not np.array_equal(classifier.classes_, [0, 1])
                or not np.array_equal(inner.classes, [0, 1])
                or not np.array_equal(estimator.classes_, [0, 1])):
            return None
        calibrator = inner.calibrators[0]
        if (type(calibrator) is not IsotonicRegression or calibrator.out_of_bounds != "clip"
                or len(calibrator.y_thresholds_) < 2
                or calibrator.X_thresholds_.dtype != np.float64
                or calibrator.y_thresholds_.dtype != np.float64):
            return None
        booster = estimator.booster_
        if booster.pandas_categorical is not None:
            return None
        # the parameters LGBMModel.predict passes to the library (lightgbm 4.7's sklearn.py)
        params = estimator._process_params(stage="predict")
        for alias in _ConfigAliases.get_by_alias("data", "X", "raw_score", "start_iteration",
                                                 "num_iteration", "pred_leaf", "pred_contrib"):
            params.pop(alias, None)
        params = _choose_param_value("num_threads", params, estimator.n_jobs)
        params["num_threads"] = estimator._process_n_jobs(params["num_threads"])
        return (booster.model_to_string(num_iteration=-1), int(booster.best_iteration),
                _param_dict_to_str(params))

    def booster(self) -> Any:
        """The booster in LightGBM's library (loaded on first use); where the library cannot be
        loaded without LightGBM's Python package, the classifier's own booster (which imports
        it): the same trees either way."""
        with self._lock:
            if self._booster is None:
                try:
                    library = _lightgbm_library()
                except OSError:  # found but not loadable here
                    library = None
                self._booster = (
                    NativeBooster(library, self._model_text, self._best_iteration)
                    if library is not None
                    else self.full().calibrated_classifiers_[0].estimator.booster_)
            return self._booster

    def full(self) -> Any:
        """The ``CalibratedClassifierCV`` itself (imports scikit-learn and LightGBM)."""
        return self._full.value()

    @property
    def calibrated_classifiers_(self) -> Any:
        return self.full().calibrated_classifiers_

    def predict_proba(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """``CalibratedClassifierCV.predict_proba(X)``: P(class 0), P(class 1) per row."""
        X = np.asarray(X)
        if X.ndim != 2 or not len(X) or X.shape[1] != self.n_features_in_ \
                or X.dtype != np.float64:
            return np.asarray(self.full().predict_proba(X))  # its checks, its errors
        booster = self.booster()
        if not isinstance(booster, NativeBooster):  # no library of its own: the classifier's
            return np.asarray(self.full().predict_proba(X))
        raw = booster.raw_predict(X, _PREDICT_RAW_SCORE, self._parameters)
        proba = np.zeros((len(X), 2))
        proba[:, 1] = np.interp(np.clip(raw, self._x_min, self._x_max), self._x, self._y)
        proba[:, 0] = 1.0 - proba[:, 1]
        return proba

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_lock"], state["_booster"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._booster = None
