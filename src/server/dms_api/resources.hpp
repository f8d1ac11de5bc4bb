#pragma once

#include "server/dms_api/control_plane.hpp"

namespace dagster_dms::server {

// The DMS resources the control plane is made of. Each register_* adds the operations one
// resource answers to the table (and its time-based status changes to the plane); the resource's
// rules and lifecycle live in the file named beside it.

// endpoints.cpp: CreateEndpoint, DescribeEndpoints, ModifyEndpoint, DeleteEndpoint.
void register_endpoints(ControlPlane& plane, OperationTable& table);
// instances.cpp: Create/Describe/Modify/DeleteReplicationInstance(s); creating or modifying,
// then available.
void register_instances(ControlPlane& plane, OperationTable& table);
// tasks.cpp: Create/Describe/Modify/DeleteReplicationTask(s), DescribeTableStatistics;
// creating, then ready.
void register_tasks(ControlPlane& plane, OperationTable& table);
// task_runs.cpp: StartReplicationTask, StopReplicationTask (the run lifecycle).
void register_task_runs(ControlPlane& plane, OperationTable& table);
// replication_configs.cpp: Create/Describe/Modify/DeleteReplicationConfig(s),
// DescribeReplications, DescribeReplicationTableStatistics.
void register_replication_configs(ControlPlane& plane, OperationTable& table);
// replication_runs.cpp: StartReplication, StopReplication (the run lifecycle).
void register_replication_runs(ControlPlane& plane, OperationTable& table);
// connections.cpp: TestConnection, DescribeConnections, DeleteConnection.
void register_connections(ControlPlane& plane, OperationTable& table);
// tags.cpp: AddTagsToResource, RemoveTagsFromResource, ListTagsForResource,
// DescribeAccountAttributes.
void register_tags(ControlPlane& plane, OperationTable& table);
// table_reload.cpp: ReloadTables, ReloadReplicationTables.
void register_table_reload(ControlPlane& plane, OperationTable& table);
// subnet_groups.cpp: Create/Describe/Modify/DeleteReplicationSubnetGroup(s).
void register_subnet_groups(ControlPlane& plane, OperationTable& table);
// service_catalog.cpp: DescribeOrderableReplicationInstances, DescribeEngineVersions,
// DescribeEndpointTypes, DescribeEndpointSettings.
void register_service_catalog(ControlPlane& plane, OperationTable& table);
// instance_reboot.cpp: RebootReplicationInstance (rebooting, then available).
void register_instance_reboot(ControlPlane& plane, OperationTable& table);
// events.cpp: DescribeEvents, DescribeEventCategories, and the event subscriptions of
// event_subscriptions.cpp (Create/Describe/Modify/DeleteEventSubscription(s)).
void register_events(ControlPlane& plane, OperationTable& table);
// certificates.cpp: ImportCertificate, DescribeCertificates, DeleteCertificate.
void register_certificates(ControlPlane& plane, OperationTable& table);
// schemas.cpp: RefreshSchemas, DescribeSchemas, DescribeRefreshSchemasStatus.
void register_schemas(ControlPlane& plane, OperationTable& table);
// task_move.cpp: MoveReplicationTask (moving, then stopped on the target instance).
void register_task_move(ControlPlane& plane, OperationTable& table);
// instance_task_logs.cpp: DescribeReplicationInstanceTaskLogs.
void register_instance_task_logs(ControlPlane& plane, OperationTable& table);
// maintenance.cpp: DescribePendingMaintenanceActions, ApplyPendingMaintenanceAction.
void register_maintenance(ControlPlane& plane, OperationTable& table);
// unsupported_features.cpp: the operations of Schema Conversion, Fleet Advisor, data providers,
// migration projects, instance profiles and homogeneous data migrations, each answering
// InvalidOperationFault "... is not supported by dms-local".
void register_unsupported_features(OperationTable& table);
// assessment_runs.cpp: Start/Describe/Cancel/DeleteReplicationTaskAssessmentRun(s),
// DescribeReplicationTaskIndividualAssessments, DescribeApplicableIndividualAssessments.
void register_assessment_runs(ControlPlane& plane, OperationTable& table);

}  // namespace dagster_dms::server
