"""A saved churn model (:class:`salesradar.models.calibration.SavedCalibrated`): loaded without
scikit-learn or LightGBM's Python package, it scores as the fitted model does, bit for bit; a
model saved the old way (the whole ``CalibratedClassifierCV`` pickled) still loads and scores
the same; a classifier of another shape is saved whole."""

from __future__ import annotations

import copyreg
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from salesradar.models import calibration
from salesradar.models.calibration import Deferred, SavedCalibrated
from salesradar.models.churn import _EXPLAIN_COLUMNS, ChurnModel, FeatureFrame

from .invoice_helpers import day, simulated

FAST = {"n_estimators": 40, "calibration_folds": 3, "snapshots": 4, "min_leaf": 20}
AS_OF = day(449)


@pytest.fixture(scope="module")
def sim() -> Any:
    return simulated(customers=400, days=540, seed=3)


@pytest.fixture(scope="module")
def fitted(sim: Any) -> tuple[ChurnModel, pa.Table]:
    """A model fitted and scored in this process (scikit-learn's classifier), its scores."""
    model = ChurnModel(90, **FAST).fit(sim, AS_OF)
    return model, model.score(sim, AS_OF)


def _old_pickle(model: ChurnModel) -> bytes:
    """The model pickled as the code before SavedCalibrated did: everything, the scores
    trimmed to the columns explain() reads."""
    state = dict(model.__dict__)
    frame = state["scored_"]
    state["scored_"] = FeatureFrame(frame.customer_id, frame.as_of,
                                    {k: v for k, v in frame.columns.items()
                                     if k in _EXPLAIN_COLUMNS})

    class Old:  # pickled as a ChurnModel with the state above
        def __reduce_ex__(self, protocol: Any) -> Any:
            return (copyreg._reconstructor, (ChurnModel, object, None), state)

    return pickle.dumps(Old(), protocol=pickle.HIGHEST_PROTOCOL)


def test_a_saved_model_keeps_its_booster_and_calibrator_as_parts(
    fitted: tuple[ChurnModel, pa.Table],
) -> None:
    model, _ = fitted
    loaded = pickle.loads(pickle.dumps(model))
    assert isinstance(loaded.classifier_, SavedCalibrated)
    assert isinstance(loaded.recency_baseline_, Deferred)
    assert type(model.classifier_).__name__ == "CalibratedClassifierCV"  # the model unchanged


def test_a_saved_model_scores_as_the_fitted_one_bit_for_bit(
    sim: Any, fitted: tuple[ChurnModel, pa.Table],
) -> None:
    model, scores = fitted
    loaded = pickle.loads(pickle.dumps(model))
    assert loaded.score(sim, AS_OF).equals(scores)
    assert np.array_equal(loaded.scored_reasons_, model.scored_reasons_)  # type: ignore[arg-type]
    frame = model.scored_
    assert frame is not None
    assert np.array_equal(loaded.predict_proba_features(frame),
                          model.predict_proba_features(frame))
    # the recency rule (when it speaks), unpickled on first use
    assert np.array_equal(loaded.recency_baseline_proba(frame),
                          model.recency_baseline_proba(frame))
    # saved again (the model of the week, on the next day): still the parts, same scores
    again = pickle.loads(pickle.dumps(loaded))
    assert isinstance(again.classifier_, SavedCalibrated)
    assert again.score(sim, AS_OF).equals(scores)


def test_a_model_saved_the_old_way_loads_and_scores_the_same(
    sim: Any, fitted: tuple[ChurnModel, pa.Table],
) -> None:
    model, scores = fitted
    old = pickle.loads(_old_pickle(model))
    assert type(old.classifier_).__name__ == "CalibratedClassifierCV"
    assert old.score(sim, AS_OF).equals(scores)
    # and saved again after scoring, in the new form
    assert isinstance(pickle.loads(pickle.dumps(old)).classifier_, SavedCalibrated)


def test_loading_and_predicting_imports_neither_scikit_learn_nor_lightgbm(
    fitted: tuple[ChurnModel, pa.Table], tmp_path: Path,
) -> None:
    model, _ = fitted
    frame = model.scored_
    assert frame is not None
    path = tmp_path / "churn.pkl"
    path.write_bytes(pickle.dumps(model))
    (tmp_path / "frame.pkl").write_bytes(pickle.dumps(frame))
    np.save(tmp_path / "proba.npy", model.predict_proba_features(frame))
    np.save(tmp_path / "order.npy", model._reason_order(frame))
    script = f"""
import pickle, sys
from pathlib import Path
import numpy as np
folder = Path({str(tmp_path)!r})
model = pickle.loads((folder / "churn.pkl").read_bytes())
frame = pickle.loads((folder / "frame.pkl").read_bytes())
assert np.array_equal(model.predict_proba_features(frame), np.load(folder / "proba.npy"))
assert np.array_equal(model._reason_order(frame), np.load(folder / "order.npy"))
print(sorted(m for m in ("sklearn", "lightgbm", "pandas") if m in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_classifier_of_another_shape_is_saved_whole(sim: Any) -> None:
    model = ChurnModel(90, **FAST, calibration="sigmoid").fit(sim, AS_OF)
    scores = model.score(sim, AS_OF)
    loaded = pickle.loads(pickle.dumps(model))
    assert type(loaded.classifier_).__name__ == "CalibratedClassifierCV"
    assert loaded.score(sim, AS_OF).equals(scores)


def test_parts_that_predict_otherwise_are_not_saved(
    fitted: tuple[ChurnModel, pa.Table], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The parts are checked against the classifier before they replace it."""
    model, _ = fitted
    original = SavedCalibrated.predict_proba

    def off_by_a_bit(self: SavedCalibrated, X: Any) -> Any:
        proba = original(self, X)
        proba[0, 1] = np.nextafter(proba[0, 1], 2.0)
        return proba

    monkeypatch.setattr(calibration.SavedCalibrated, "predict_proba", off_by_a_bit)
    loaded = pickle.loads(pickle.dumps(model))
    assert type(loaded.classifier_).__name__ == "CalibratedClassifierCV"


def test_without_a_library_of_its_own_a_saved_model_scores_through_its_classifier(
    sim: Any, fitted: tuple[ChurnModel, pa.Table], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where LightGBM's library cannot be loaded on its own (another platform's layout), the
    saved model falls back to the classifier kept inside it: the same scores and reasons."""
    model, scores = fitted
    data = pickle.dumps(model)

    def unloadable() -> Any:
        raise OSError("cannot open shared object file")

    monkeypatch.setattr(calibration, "_lightgbm_library", unloadable)
    loaded = pickle.loads(data)
    assert isinstance(loaded.classifier_, SavedCalibrated)
    assert loaded.score(sim, AS_OF).equals(scores)
    assert np.array_equal(loaded.scored_reasons_, model.scored_reasons_)  # type: ignore[arg-type]
    # nor saved as parts where it could not be checked against the library
    assert SavedCalibrated.of(model.classifier_, loaded._matrix(model.scored_)) is None
