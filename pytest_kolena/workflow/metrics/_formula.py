"""Ratios of confusion counts. As in Kolena, a zero denominator gives the int 0, not NaN and not an error."""

from __future__ import annotations


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else 0


def accuracy(true_positives: int, false_positives: int, false_negatives: int, true_negatives: int) -> float:
    """(TP + TN) / (TP + FP + FN + TN)."""
    return _ratio(true_positives + true_negatives, true_positives + false_positives + false_negatives + true_negatives)


def precision(true_positives: int, false_positives: int) -> float:
    """TP / (TP + FP)."""
    return _ratio(true_positives, true_positives + false_positives)


def recall(true_positives: int, false_negatives: int) -> float:
    """TP / (TP + FN): the true positive rate."""
    return _ratio(true_positives, true_positives + false_negatives)


def f1_score(true_positives: int, false_positives: int, false_negatives: int) -> float:
    """Harmonic mean of precision and recall."""
    p = precision(true_positives, false_positives)
    r = recall(true_positives, false_negatives)
    return _ratio(2 * p * r, p + r)


def fpr(true_negatives: int, false_positives: int) -> float:
    """FP / (FP + TN): the false positive rate."""
    return _ratio(false_positives, false_positives + true_negatives)


def specificity(true_negatives: int, false_positives: int) -> float:
    """TN / (TN + FP): the true negative rate."""
    return _ratio(true_negatives, true_negatives + false_positives)
