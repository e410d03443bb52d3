"""Checks of metrics: thresholds (absolute rules) and regression against a baseline (paired statistics).

Pure functions over numbers and arrays: no pytest, no workflow classes.
"""

from .thresholds import Breach, RuleError, Rules, Threshold, breaches

__all__ = ["Breach", "RuleError", "Rules", "Threshold", "breaches"]
