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

}  // namespace dagster_dms::server
