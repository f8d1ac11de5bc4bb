#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dms/model/dms_model.hpp"

namespace dagster_dms::server {

// The DCU values DMS Serverless accepts for MinCapacityUnits and MaxCapacityUnits.
bool is_valid_capacity_units(std::int64_t units);

// ComputeConfig as CreateReplicationConfig and ModifyReplicationConfig check it: MaxCapacityUnits
// required, both bounds valid DCU values, Min <= Max, MultiAZ excludes AvailabilityZone.
// Throws InvalidParameterValueException or InvalidParameterCombinationException.
void validate_compute_config(const dms::ComputeConfig& config);

// The capacity a started replication is given: DMS computes it within [Min, Max] from the
// workload; dms-local has no such estimate and provisions the maximum allowed.
std::int64_t provisioned_capacity_units(const dms::ComputeConfig& config);

// The start-type rules shared by tasks and serverless replications: the type must be one of
// start-replication, resume-processing, reload-target (InvalidParameterValueException);
// start-replication only on the first run, the others only after one
// (InvalidResourceStateFault). `what` names the resource in the message ("Replication task x").
void check_start_type(std::string_view what, std::string_view type, std::int64_t previous_runs);

}  // namespace dagster_dms::server
