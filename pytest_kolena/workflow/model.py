"""Models: a name, an `infer` function from TestSample to Inference (and, for vectorised models, an
`infer_batch` from a list of TestSamples to a list of Inferences), and free-form metadata."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from .test_case import check_name

if TYPE_CHECKING:
    from .inference import Inference
    from .test_sample import TestSample
    from .workflow import Workflow


class Model:
    """A model of a workflow. Use the Model class that `define_workflow` returns."""

    workflow: ClassVar[Workflow]

    def __init__(
        self,
        name: str,
        infer: Callable[[TestSample], Inference] | None = None,
        metadata: dict[str, Any] | None = None,
        tags: set[str] | None = None,
        infer_batch: Callable[[list[TestSample]], list[Inference]] | None = None,
    ) -> None:
        """`infer_batch` (not in Kolena's client): called with up to --kolena-batch-size samples at once instead of
        `infer` on each; where it raises on a batch, `infer` (when given) retries each sample of that batch."""
        if not hasattr(type(self), "workflow"):
            raise TypeError("Model must be subclassed with a workflow: use the Model returned by define_workflow")
        self.name = check_name("model", name)
        if infer is not None and not callable(infer):
            raise TypeError(f"model '{name}': infer must be callable, got {type(infer).__name__}")
        if infer_batch is not None and not callable(infer_batch):
            raise TypeError(f"model '{name}': infer_batch must be callable, got {type(infer_batch).__name__}")
        self.infer = infer
        self.infer_batch = infer_batch
        self.metadata = dict(metadata or {})
        self.tags = set(tags or ())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"
