"""The one exception hierarchy of dagster-dms.

Every error raised by :class:`dagster_dms.DmsClient` (and by everything built on it) is a
:class:`DmsError`. AWS service errors keep the AWS error code, message, HTTP status and request id.
Messages say what to do next and never contain secrets.
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "ConfigurationError",
    "CredentialsError",
    "DmsError",
    "InvalidResourceStateError",
    "ProtocolError",
    "ResourceNotFoundError",
    "ServiceError",
    "TaskFailedError",
    "ThrottlingError",
    "TransportError",
    "WaitTimeoutError",
]


class DmsError(Exception):
    """Base class of every error dagster-dms raises on purpose."""


class ConfigurationError(DmsError):
    """The configuration cannot work: no region, unknown profile, bad endpoint URL or option."""


class CredentialsError(DmsError):
    """No AWS credentials were found, or a configured source failed to produce them."""


class TransportError(DmsError):
    """No HTTP response arrived: connection refused or reset, timeout, TLS failure.

    ``kind`` is one of ``connect``, ``timeout``, ``connection_reset``, ``tls``, ``truncated``,
    ``other``.
    """

    def __init__(self, message: str, kind: str = "other") -> None:
        super().__init__(message)
        self.kind = kind


class ProtocolError(DmsError):
    """A response arrived but could not be understood (malformed JSON, missing fields)."""


class ServiceError(DmsError):
    """An AWS service answered with an error.

    Attributes mirror what AWS returned: ``code`` (e.g. ``ResourceNotFoundFault``),
    ``aws_message``, ``http_status`` and ``request_id``, plus the ``service`` and ``operation``
    that failed.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        aws_message: str,
        http_status: int,
        request_id: str,
        service: str,
        operation: str,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.aws_message = aws_message
        self.http_status = http_status
        self.request_id = request_id
        self.service = service
        self.operation = operation


class ResourceNotFoundError(ServiceError):
    """``ResourceNotFoundFault``: the task, endpoint or instance does not exist in this region."""


class InvalidResourceStateError(ServiceError):
    """``InvalidResourceStateFault``: the resource is not in a state that allows the call."""


class AccessDeniedError(ServiceError):
    """The credentials lack an IAM permission; the message names the action to grant."""


class ThrottlingError(ServiceError):
    """The API kept throttling after every retry; lower the polling rate or use adaptive mode."""


class WaitTimeoutError(DmsError):
    """A wait for a task state did not finish within its timeout."""


class TaskFailedError(DmsError):
    """A replication task ended in failure (FATAL_ERROR, RECOVERABLE_ERROR, ``failed``...)."""


_THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "EC2ThrottledException",
    }
)
_ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "AccessDeniedFault", "UnauthorizedOperation"}
)


def service_error_class(code: str) -> type[ServiceError]:
    """The :class:`ServiceError` subclass that represents the AWS error ``code``."""
    if code == "ResourceNotFoundFault":
        return ResourceNotFoundError
    if code == "InvalidResourceStateFault":
        return InvalidResourceStateError
    if code in _ACCESS_DENIED_CODES:
        return AccessDeniedError
    if code in _THROTTLING_CODES:
        return ThrottlingError
    return ServiceError
