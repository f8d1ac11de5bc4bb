"""`dg scaffold defs dagster_dms.AWSDMSComponent my_dms`: a defs.yaml to start from."""

from __future__ import annotations

from dagster import Scaffolder
from dagster.components.component_scaffolding import scaffold_component
from dagster.components.scaffold.scaffold import ScaffoldRequest
from pydantic import BaseModel


class AWSDMSScaffoldParams(BaseModel):
    """Options of `dg scaffold defs dagster_dms.AWSDMSComponent NAME --json-params ...`."""

    aws_region: str | None = None
    endpoint_url: str | None = None
    filter_by_name_pattern: str | None = None


class AWSDMSComponentScaffolder(Scaffolder[AWSDMSScaffoldParams]):
    @classmethod
    def get_scaffold_params(cls) -> type[AWSDMSScaffoldParams]:
        return AWSDMSScaffoldParams

    def scaffold(self, request: ScaffoldRequest[AWSDMSScaffoldParams]) -> None:
        params = request.params
        attributes: dict[str, object] = {
            "aws_region": params.aws_region or "{{ env('AWS_REGION', 'us-east-1') }}",
            "import_replication_tasks": True,
            "import_endpoints": True,
            "import_replication_instances": True,
            "generate_sensor": True,
            "poll_interval_seconds": 60,
        }
        if params.endpoint_url:
            attributes["endpoint_url"] = params.endpoint_url
        if params.filter_by_name_pattern:
            attributes["filter_by_name_pattern"] = params.filter_by_name_pattern
        scaffold_component(request, attributes)
