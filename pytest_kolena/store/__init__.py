"""Where runs and inferences are kept: a local folder or any fsspec URL; append-only files, nothing pickled."""

from .cache import InferenceCache
from .runs import RunRecord, RunStore

__all__ = ["InferenceCache", "RunRecord", "RunStore"]
