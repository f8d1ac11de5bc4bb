"""dagster-dms: orchestrate AWS Database Migration Service from Dagster.

The Dagster entry point is :class:`AWSDMSComponent` (``type: dagster_dms.AWSDMSComponent`` in a
``defs.yaml``). The entry point for code is :class:`DmsClient`, a typed client for DMS, CloudWatch
and CloudWatch Logs running on the project's C++ core. Errors are
:class:`dagster_dms.errors.DmsError`.
"""

from dagster_dms._native import __version__
from dagster_dms.client import DmsClient
from dagster_dms.component import (
    AWSDMSComponent,
    DagsterDmsTranslator,
    DmsResourceProps,
    DmsRunConfig,
)
from dagster_dms.errors import (
    AccessDeniedError,
    ConfigurationError,
    CredentialsError,
    DmsError,
    InvalidResourceStateError,
    ProtocolError,
    ResourceNotFoundError,
    ServiceError,
    TaskFailedError,
    ThrottlingError,
    TransportError,
    WaitTimeoutError,
)

__all__ = [
    "AWSDMSComponent",
    "AccessDeniedError",
    "ConfigurationError",
    "CredentialsError",
    "DagsterDmsTranslator",
    "DmsClient",
    "DmsError",
    "DmsResourceProps",
    "DmsRunConfig",
    "InvalidResourceStateError",
    "ProtocolError",
    "ResourceNotFoundError",
    "ServiceError",
    "TaskFailedError",
    "ThrottlingError",
    "TransportError",
    "WaitTimeoutError",
    "__version__",
]
