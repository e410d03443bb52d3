"""Exceptions raised by user code (an infer function, an evaluator), kept with their tracebacks."""

from __future__ import annotations

import dataclasses
import traceback


@dataclasses.dataclass(frozen=True)
class Failure:
    """An exception that a stage of a run raised: what, where (`stage`) and the formatted traceback."""

    stage: str
    error: BaseException
    traceback: str

    @classmethod
    def from_exception(cls, stage: str, error: BaseException) -> Failure:
        return cls(stage, error, "".join(traceback.format_exception(error)))

    def __str__(self) -> str:
        return f"{self.stage} raised {type(self.error).__name__}: {self.error}"

    def to_dict(self) -> dict[str, str]:
        return {"stage": self.stage, "error": f"{type(self.error).__name__}: {self.error}", "traceback": self.traceback}
