"""dagster-dms: orchestrate AWS Database Migration Service from Dagster.

The Dagster entry point is :class:`AWSDMSComponent` (``type: dagster_dms.AWSDMSComponent`` in a
``defs.yaml``). The entry point for code is :class:`DmsClient`, a typed client for DMS, CloudWatch
and CloudWatch Logs running on the project's C++ core. Errors are
:class:`dagster_dms.errors.DmsError`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dagster_dms import errors
from dagster_dms._native import __version__
from dagster_dms.client import DmsClient

# Every error class, exported here as errors.__all__ lists them.
from dagster_dms.errors import *  # noqa: F403

if TYPE_CHECKING:
    from dagster_dms.component import (
        AWSDMSComponent,
        DagsterDmsTranslator,
        DmsResourceProps,
        DmsRunConfig,
    )
    from dagster_dms.resource import DmsResource

# The Dagster side is imported on first use, so that `from dagster_dms import DmsClient` (a
# script, dmsctl-like tooling, a plain boto3 replacement) does not pay for importing dagster.
_DAGSTER_MODULES = {
    "AWSDMSComponent": "dagster_dms.component",
    "DagsterDmsTranslator": "dagster_dms.component",
    "DmsResourceProps": "dagster_dms.component",
    "DmsRunConfig": "dagster_dms.component",
    "DmsResource": "dagster_dms.resource",
}
_DAGSTER_NAMES = frozenset(_DAGSTER_MODULES)


def __getattr__(name: str) -> Any:
    if name in _DAGSTER_NAMES:
        value = getattr(importlib.import_module(_DAGSTER_MODULES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dagster_dms' has no attribute {name!r}")


def __dir__() -> list[str]:
    # Dagster's component registry lists a module's members through dir(): the lazy names
    # must be there for `dg list components` to find AWSDMSComponent.
    return sorted(set(globals()) | _DAGSTER_NAMES)


__all__ = [
    "AWSDMSComponent",
    "DagsterDmsTranslator",
    "DmsClient",
    "DmsResource",
    "DmsResourceProps",
    "DmsRunConfig",
    "__version__",
]
__all__ += errors.__all__
