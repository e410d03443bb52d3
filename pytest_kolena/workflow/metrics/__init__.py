"""Metric helpers with the semantics of `kolena.workflow.metrics`."""

from ._formula import accuracy, f1_score, fpr, precision, recall, specificity
from ._geometry import InferenceMatches, MulticlassInferenceMatches, iou, match_inferences, match_inferences_multiclass

__all__ = [
    "InferenceMatches",
    "MulticlassInferenceMatches",
    "accuracy",
    "f1_score",
    "fpr",
    "iou",
    "match_inferences",
    "match_inferences_multiclass",
    "precision",
    "recall",
    "specificity",
]
