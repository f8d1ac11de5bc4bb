#include "server/dms_api/replication_rules.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {
constexpr std::array<std::int64_t, 11> kCapacityUnits{1, 2, 4, 8, 16, 32, 64, 128, 192, 256, 384};
}  // namespace

bool is_valid_capacity_units(std::int64_t units) {
  return std::find(kCapacityUnits.begin(), kCapacityUnits.end(), units) != kCapacityUnits.end();
}

void validate_compute_config(const dms::ComputeConfig& config) {
  if (!config.max_capacity_units) {
    throw invalid_parameter("ComputeConfig.MaxCapacityUnits is required.");
  }
  const auto check = [](const char* name, std::int64_t units) {
    if (!is_valid_capacity_units(units)) {
      throw invalid_parameter(fmt::format(
          "Invalid value {} for ComputeConfig.{}. Valid values: 1, 2, 4, 8, 16, 32, 64, 128, "
          "192, 256, 384.",
          units, name));
    }
  };
  check("MaxCapacityUnits", *config.max_capacity_units);
  if (config.min_capacity_units) {
    check("MinCapacityUnits", *config.min_capacity_units);
    if (*config.min_capacity_units > *config.max_capacity_units) {
      throw invalid_combination(fmt::format(
          "ComputeConfig.MinCapacityUnits ({}) must not be greater than MaxCapacityUnits ({}).",
          *config.min_capacity_units, *config.max_capacity_units));
    }
  }
  if (config.multi_az.value_or(false) && config.availability_zone &&
      !config.availability_zone->empty()) {
    throw invalid_combination(
        "ComputeConfig.AvailabilityZone cannot be set when ComputeConfig.MultiAZ is true.");
  }
}

std::int64_t provisioned_capacity_units(const dms::ComputeConfig& config) {
  return config.max_capacity_units.value_or(1);
}

}  // namespace dagster_dms::server
