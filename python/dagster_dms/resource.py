"""``DmsResource``: the core's client as a Dagster resource, for users' own assets and ops."""

from __future__ import annotations

import dagster as dg
import pydantic

from dagster_dms.client import DmsClient
from dagster_dms.component.aws_settings import AwsSettings


class DmsResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """A :class:`DmsClient` for your own assets and ops, configured like dagster-aws resources.

    Every field left out follows the environment as boto3 does (AWS_REGION, AWS_PROFILE,
    AWS_ENDPOINT_URL, the standard credential chain...). ``endpoint_url`` applies to DMS,
    CloudWatch and CloudWatch Logs alike. Secrets never appear in a repr, a log line or metadata.

    .. code-block:: python

        @dg.asset
        def orders_migrated(dms: DmsResource) -> None:
            result = dms.get_client().run_task("orders-full-load")
            if not result.succeeded:
                raise dg.Failure(result.message)
    """

    region_name: str | None = pydantic.Field(default=None, description="AWS region of DMS.")
    profile_name: str | None = pydantic.Field(default=None, description="Shared config profile.")
    endpoint_url: str | None = pydantic.Field(
        default=None, description="One endpoint for DMS, CloudWatch and Logs (e.g. dms-local)."
    )
    # As in dagster-aws: Dagster config has no bool-or-path type, so the CA bundle has its own
    # field.
    verify: bool = pydantic.Field(default=True, description="Verify TLS certificates.")
    verify_cert_path: str | None = pydantic.Field(
        default=None, description="A CA bundle to verify TLS certificates against."
    )
    max_attempts: int | None = pydantic.Field(default=None, description="Retry attempts.")
    retry_mode: str | None = pydantic.Field(
        default=None, description="standard, adaptive or legacy, as in botocore."
    )
    aws_access_key_id: str | None = pydantic.Field(default=None, description="Access key id.")
    aws_secret_access_key: str | None = pydantic.Field(
        default=None, repr=False, description="Secret access key."
    )
    aws_session_token: str | None = pydantic.Field(
        default=None, repr=False, description="Session token."
    )

    @classmethod
    def from_settings(cls, settings: AwsSettings) -> DmsResource:
        """The resource with the same AWS settings (what the component uses)."""
        return cls(
            region_name=settings.region_name,
            profile_name=settings.profile_name,
            endpoint_url=settings.endpoint_url,
            verify=settings.verify if isinstance(settings.verify, bool) else True,
            verify_cert_path=settings.verify if isinstance(settings.verify, str) else None,
            max_attempts=settings.max_attempts,
            retry_mode=settings.retry_mode,
            aws_access_key_id=settings.aws_access_key_id,
            aws_secret_access_key=settings.aws_secret_access_key,
            aws_session_token=settings.aws_session_token,
        )

    def get_client(self) -> DmsClient:
        """A new client (cheap: nothing is sent before the first call)."""
        return self.settings().client()

    def settings(self) -> AwsSettings:
        return AwsSettings(
            region_name=self.region_name,
            profile_name=self.profile_name,
            endpoint_url=self.endpoint_url,
            verify=self.verify_cert_path or self.verify,
            max_attempts=self.max_attempts,
            retry_mode=self.retry_mode,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
        )
