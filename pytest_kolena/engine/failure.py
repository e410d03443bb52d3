"""Exceptions raised by user code (an infer function, an evaluator), kept with their tracebacks."""

from __future__ import annotations

import dataclasses
import traceback


@dataclasses.dataclass(frozen=True)
class Failure:
    """An exception that a stage of a run raised: where (`stage`), what (`error`: its type and message) and the
    formatted traceback. Text only, so that a failure in a worker process crosses to the session whatever the
    exception was."""

    stage: str
    error: str
    traceback: str

    @classmethod
    def from_exception(cls, stage: str, error: BaseException) -> Failure:
        return cls(stage, f"{type(error).__name__}: {error}", "".join(traceback.format_exception(error)))

    def __str__(self) -> str:
        return f"{self.stage} raised {self.error}"

    def to_dict(self) -> dict[str, str]:
        return {"stage": self.stage, "error": self.error, "traceback": self.traceback}


class RowsRefusedError(Exception):
    """The suite's data could not make the rows an evaluator walks (a ground truth its type rejects): not the
    evaluator's error; the run stops with `cause`."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause
