"""The Dagster side of dagster-dms: the component, its translator, sensor, checks and state."""

from dagster_dms.component.aws_dms_component import AWSDMSComponent, DmsRunConfig
from dagster_dms.component.translator import DagsterDmsTranslator, DmsResourceProps

__all__ = ["AWSDMSComponent", "DagsterDmsTranslator", "DmsResourceProps", "DmsRunConfig"]
