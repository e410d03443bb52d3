"""The `kolena` marker: what it binds (models, evaluator, configurations, thresholds), read and checked at collection."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from .checks import RuleError, Rules
from .checks.regression import Allowance
from .workflow import Evaluator, EvaluatorConfiguration, Model, Workflow
from .workflow._dataobject import fields_of


class MarkerError(ValueError):
    """A `kolena` marker that cannot be used; the message says what is wrong and what exists."""


@dataclasses.dataclass(frozen=True)
class ModelRef:
    """A model bound by the marker: an object, or the name of a fixture that returns one."""

    name: str
    model: Model | None = None
    fixture: str | None = None


@dataclasses.dataclass(frozen=True)
class KolenaSpec:
    models: tuple[ModelRef, ...]
    evaluator: Any
    configurations: tuple[EvaluatorConfiguration, ...]
    rules: Rules
    workflow: Workflow
    columns: Mapping[Any, str] | None
    stratify: tuple[Any, ...] | None
    worst: int
    case_metrics: frozenset[str] = frozenset()  # from the evaluator's annotations; empty when unknown
    suite_metrics: frozenset[str] = frozenset()
    regression: Rules = dataclasses.field(default_factory=lambda: Rules(()))
    lower_is_better: Mapping[str, bool] = dataclasses.field(default_factory=dict)  # of the regression metrics
    better: Mapping[str, bool] = dataclasses.field(default_factory=dict)  # the marker's `better=`: lower is better
    baseline_models: Mapping[str, str] = dataclasses.field(default_factory=dict)  # challenger -> champion
    suites: tuple[str, ...] | None = None  # the suites the test runs on; None: every selected suite

    @property
    def configuration_names(self) -> list[str | None]:
        return [c.display_name() for c in self.configurations] or [None]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _return_fields(function: Any) -> set[str] | None:
    """Field names of the metrics class a compute_* method is annotated to return, if it is."""
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # an unresolvable annotation just means: check at run time
        return None
    returned = hints.get("return")
    args = [a for a in typing.get_args(returned) if a is not type(None)] or [returned]
    fields: set[str] = set()
    for arg in args:
        if not dataclasses.is_dataclass(arg):
            return None
        fields |= {f.name for f in fields_of(arg)}
    return fields


def declared_metrics(evaluator: Any) -> tuple[set[str] | None, set[str] | None]:
    """Case and suite metric names, from the return annotations of the evaluator's methods (None: not annotated)."""
    if not isinstance(evaluator, Evaluator):
        return None, None
    return _return_fields(evaluator.compute_test_case_metrics), _return_fields(evaluator.compute_test_suite_metrics)


def read_marker(args: Sequence[Any], kwargs: Mapping[str, Any], where: str) -> KolenaSpec:
    """Check a marker's arguments; any problem is a MarkerError naming `where` (the test)."""
    kwargs = dict(kwargs)
    if args:
        kwargs.setdefault("models", args[0])
        if len(args) > 1:
            kwargs.setdefault("evaluator", args[1])
    known = {
        "models",
        "evaluator",
        "thresholds",
        "regression",
        "better",
        "configurations",
        "workflow",
        "columns",
        "stratify",
        "worst",
        "baseline_models",
        "suites",
    }
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise MarkerError(
            f"{where}: unknown kolena marker argument '{unknown[0]}'; arguments: {', '.join(sorted(known))}"
        )
    models = _models(kwargs.get("models"), where)
    evaluator = kwargs.get("evaluator")
    if evaluator is None or not (isinstance(evaluator, Evaluator) or callable(evaluator)):
        raise MarkerError(
            f"{where}: evaluator must be an Evaluator or an evaluator function, got {type(evaluator).__name__}"
        )
    configurations = tuple(_as_list(kwargs.get("configurations")) or (getattr(evaluator, "configurations", None) or []))
    for i, configuration in enumerate(configurations):
        if not isinstance(configuration, EvaluatorConfiguration):
            raise MarkerError(
                f"{where}: configuration {i} is {type(configuration).__name__}, not an EvaluatorConfiguration"
            )
    workflow = kwargs.get("workflow") or next((m.model.workflow for m in models if m.model is not None), None)
    if not isinstance(workflow, Workflow):
        raise MarkerError(f"{where}: the models are all fixture names: give the workflow too (workflow=wf)")
    for ref in models:
        if ref.model is not None and ref.model.workflow != workflow:
            raise MarkerError(
                f"{where}: model '{ref.name}' is of workflow '{ref.model.workflow.name}', not '{workflow.name}'"
            )
    case_metrics, suite_metrics = declared_metrics(evaluator)
    try:
        rules = Rules.parse(kwargs.get("thresholds"))
        regression = Rules.parse(kwargs.get("regression"), Allowance.parse)
        if case_metrics is not None:
            rules.check_known(case_metrics | (suite_metrics or set()), where)
            regression.check_known(case_metrics, where)
        better = _better(kwargs.get("better"), where)
        lower_is_better = _regression_directions(better, rules, regression, evaluator, where)
    except RuleError as error:
        raise MarkerError(str(error) if str(error).startswith(where) else f"{where}: {error}") from None
    baseline_models = _baseline_models(kwargs.get("baseline_models"), where)
    worst = kwargs.get("worst", 5)
    stratify = kwargs.get("stratify")
    suites = _suites(kwargs.get("suites"), where)
    return KolenaSpec(
        models=tuple(models),
        evaluator=evaluator,
        configurations=configurations,
        rules=rules,
        workflow=workflow,
        columns=kwargs.get("columns"),
        stratify=tuple(_as_list(stratify)) if stratify is not None else None,
        worst=int(worst),
        case_metrics=frozenset(case_metrics or ()),
        suite_metrics=frozenset(suite_metrics or ()),
        regression=regression,
        lower_is_better=lower_is_better,
        better=better,
        baseline_models=baseline_models,
        suites=suites,
    )


def _suites(value: Any, where: str) -> tuple[str, ...] | None:
    """`suites=["300-W"]`: the suites a test is written for (its workflow's data); None: any selected suite."""
    if value is None:
        return None
    names = _as_list(value)
    if not names or not all(isinstance(name, str) and name for name in names):
        raise MarkerError(f"{where}: suites must be suite names, e.g. suites=['300-W']; got {value!r}")
    return tuple(names)


def _baseline_models(value: Any, where: str) -> dict[str, str]:
    """`{"challenger": "champion"}`: compare a model with the baseline's run of another model (by Model.name)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise MarkerError(
            f"{where}: baseline_models must map a model's name to the name of the model it is compared with, "
            f"e.g. baseline_models={{'svc': 'logistic-regression'}}; got {value!r}"
        )
    return dict(value)


def _better(value: Any, where: str) -> dict[str, bool]:
    """`better={"mean_nme": "lower"}`: whether lower is better, per metric named."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or any(word not in ("lower", "higher") for word in value.values()):
        raise RuleError(f"{where}: better= maps a metric to 'lower' or 'higher', e.g. better={{'mean_nme': 'lower'}}")
    return {metric: word == "lower" for metric, word in value.items()}


def directions(better: Mapping[str, bool], metrics_type: Any, rules: Rules) -> dict[str, bool]:
    """Whether lower is better, per metric with a known direction: the marker's `better=`, else the metrics class
    field's metadata (`field(metadata={"better": "lower"})`), else the direction of a threshold on it (the default
    rules first, then the overrides; an `==` rule says none). The one map of directions: the marker's checks and
    `links.py` both read it."""
    out: dict[str, bool] = {}
    for _, overrides in reversed(rules.per_case):
        out |= {t.metric: t.lower_is_better for t in overrides if t.op != "=="}
    out |= {t.metric: t.lower_is_better for t in rules.default if t.op != "=="}
    if metrics_type is not None and dataclasses.is_dataclass(metrics_type):
        out |= {f.name: f.metadata["better"] == "lower" for f in fields_of(metrics_type) if "better" in f.metadata}
    return out | dict(better)


def _regression_directions(
    better: Mapping[str, bool], rules: Rules, regression: Rules, evaluator: Any, where: str
) -> dict[str, bool]:
    """The direction of each metric with a regression rule (`directions`, with the evaluator's annotated metrics
    class); a metric of unknown direction is an error."""
    case_type = _return_type(evaluator.compute_test_case_metrics) if isinstance(evaluator, Evaluator) else None
    known = directions(better, case_type, rules)
    for metric in regression.metrics():
        if metric not in known:
            raise RuleError(
                f"{where}: is a lower or a higher '{metric}' better? say it once: better={{'{metric}': 'lower'}}, or on the metrics class field"
            )
    return {metric: known[metric] for metric in regression.metrics()}


def _return_type(function: Any) -> Any:
    try:
        returned = typing.get_type_hints(function).get("return")
    except Exception:  # an unresolvable annotation: no declared directions
        return None
    return returned if dataclasses.is_dataclass(returned) else None


def _models(value: Any, where: str) -> list[ModelRef]:
    refs = []
    for i, model in enumerate(_as_list(value)):
        if isinstance(model, Model):
            refs.append(ModelRef(model.name, model=model))
        elif isinstance(model, str) and model.isidentifier():
            refs.append(ModelRef(model, fixture=model))
        else:
            raise MarkerError(
                f"{where}: models[{i}] is {type(model).__name__} {model!r}, not a Model nor the name of a fixture returning one"
            )
    if not refs:
        raise MarkerError(
            f"{where}: the kolena marker binds no model: @pytest.mark.kolena(models=[...], evaluator=...)"
        )
    names = [r.name for r in refs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise MarkerError(f"{where}: two models are named '{repeated[0]}'")
    return refs
