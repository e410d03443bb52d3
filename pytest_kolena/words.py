"""The verdict words of items and regression checks: one vocabulary for the whole plugin, as the reports write
them. Standard library only."""

from __future__ import annotations

# an item's verdict
PASSED = "passed"
FAILED = "failed"  # a threshold breached (or nothing to compare in the baseline, or an assert of the test)
REGRESSED = "regressed"  # worse than the baseline beyond its allowance
IMPROVED = "improved"
NEW = "new"  # no baseline for it
ERROR = "error"  # the model or the evaluator raised on its data
SKIPPED = "skipped"
ABSENT = "absent"  # side by side: an item of the first run that the second does not have
# a regression check's verdict: REGRESSED, IMPROVED, PASSED, or
NOT_JUDGED = "not judged"

# pytest's report status of the verdicts it has no word of its own for: (category, letter, word)
STATUS = {REGRESSED: (FAILED, "R", "REGRESSED"), IMPROVED: (PASSED, "I", "IMPROVED"), NEW: (PASSED, "N", "NEW")}

FAILING = (ERROR, FAILED, REGRESSED)  # the verdicts of an item that fails the run
ORDER = (ERROR, FAILED, REGRESSED, NEW, IMPROVED, PASSED, SKIPPED, ABSENT)  # as the reports list them
