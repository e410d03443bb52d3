"""The report command: documents from the store, written in every format asked for."""

from __future__ import annotations

import sys
from typing import Any

from .document import side_by_side, stored_document
from .writers import ReportError, check_path, write_report


def load_document(store: Any, ref: str) -> dict[str, Any]:
    """The document of the run a reference names (see `find_run`)."""
    from ..store.baseline import find_run

    info = find_run(ref, store)
    return stored_document(store, info)


def report_main(store_url: str, refs: list[str], outputs: list[str], compare: bool = False) -> int:
    """Exit status 0 when every report was written, 2 on a usage error (an unknown run, a bad suffix). Two runs:
    the second's items beside the first's; two or more (or `compare`): the side-by-side table of every model."""
    from ..store import RunStore
    from ..store.baseline import BaselineError

    try:
        for path in outputs:
            check_path(path)
        store = RunStore(store_url)
        documents = [load_document(store, ref) for ref in refs]
    except (ReportError, BaselineError) as error:
        print(f"kolena report: {error}", file=sys.stderr)
        return 2
    if len(documents) == 1:
        document = documents[0]
    elif len(documents) == 2:
        document = side_by_side(documents[0], documents[1])
    else:
        document = dict(documents[-1])
    if len(documents) > 1 or compare:
        from .comparison import comparison

        document["comparison"] = comparison(documents)
    status = 0
    for path in outputs:
        try:
            write_report(document, path)
            print(f"kolena: report {path}")
        except (ImportError, OSError, ValueError) as error:
            print(f"kolena report: {path} NOT written: {error}", file=sys.stderr)
            status = 1
    return status
