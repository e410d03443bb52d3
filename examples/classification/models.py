"""The two classifiers, fitted on the training half of `split.py` (never on the suite's rows).

- `logistic-regression` (the champion): standardisation then L2-regularised logistic regression, in a Pipeline;
- `gradient-boosting` (the challenger): scikit-learn's histogram gradient-boosted trees.

Each Model's `version` is a digest of what its fitted weights depend on: the estimator's hyperparameters, the
training rows (hence the split), and the scikit-learn version. The inference cache is keyed by it: the cache's
fingerprint covers `infer`'s code, not the weights it closes over, so a new split or a new hyperparameter must make
a new version, and does.

Fitting and inference run on one thread (`one_thread`): on 284 rows, the OpenMP threads of the boosted trees only
wait for each other, and on a busy 2-core machine (a CI runner, pytest-xdist) their spinning made one fit take 12 s
instead of 0.3 s.
"""

from __future__ import annotations

import functools
import hashlib
import json

import numpy as np
import sklearn
from sklearn.base import ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from examples.classification.split import POSITIVE, SPLIT, split
from examples.classification.workflow import Biopsy, Inference, Model
from pytest_kolena.workflow.annotation import ScoredClassificationLabel

ESTIMATORS: dict[str, ClassifierMixin] = {
    "logistic-regression": Pipeline(
        [("standardise", StandardScaler()), ("classify", LogisticRegression(C=1.0, max_iter=1000))]
    ),
    "gradient-boosting": HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=0),
}


def version_of(estimator: ClassifierMixin, features: np.ndarray, labels: np.ndarray) -> str:
    """scikit-learn's version and a digest of the hyperparameters, the split and the training data."""
    params = {name: repr(value) for name, value in sorted(estimator.get_params(deep=True).items())}
    digest = hashlib.blake2b(digest_size=6)
    digest.update(json.dumps({"params": params, "split": SPLIT}, sort_keys=True).encode())
    digest.update(np.ascontiguousarray(features, dtype=np.float64).tobytes())
    digest.update(np.ascontiguousarray(labels, dtype=np.int64).tobytes())
    return f"sklearn-{sklearn.__version__}-{digest.hexdigest()}"


def one_thread() -> threadpool_limits:
    """A context in which OpenMP and BLAS use one thread."""
    return threadpool_limits(limits=1)


@functools.cache
def fitted(name: str) -> ClassifierMixin:
    """The estimator `name` fitted on the training rows, once per process."""
    features, labels = split().training_data()
    with one_thread():
        return clone(ESTIMATORS[name]).fit(features, labels)


def classifier_model(name: str) -> Model:
    """The Model of a fitted estimator: its score is the predicted probability of malignancy."""
    estimator = fitted(name)
    positive = list(estimator.classes_).index(1)  # training labels: 1 malignant, 0 benign

    def infer_batch(samples: list[Biopsy]) -> list[Inference]:
        features = np.array([sample.features for sample in samples], dtype=float)
        with one_thread():
            scores = estimator.predict_proba(features)[:, positive]
        return [Inference(ScoredClassificationLabel(POSITIVE, score)) for score in scores.tolist()]

    def infer(sample: Biopsy) -> Inference:
        return infer_batch([sample])[0]

    features, labels = split().training_data()
    return Model(
        name,
        infer=infer,
        infer_batch=infer_batch,
        metadata={
            "version": version_of(ESTIMATORS[name], features, labels),
            "estimator": repr(ESTIMATORS[name]),
            "trained_on": f"{len(labels)} rows of load_breast_cancer(), train_test_split({SPLIT})",
        },
    )
