#include "server/dms_api/run_types.hpp"

#include <fmt/format.h>

#include "server/front/api_error.hpp"

namespace dagster_dms::server {

void require_migration_type(std::string_view member, std::string_view type) {
  if (type != kMigrationFullLoad && type != kMigrationCdc && type != kMigrationFullLoadAndCdc) {
    throw invalid_parameter(fmt::format("Invalid value {} for {}. Valid values: {}, {}, {}.", type,
                                        member, kMigrationFullLoad, kMigrationCdc,
                                        kMigrationFullLoadAndCdc));
  }
}

void require_start_type_value(std::string_view member, std::string_view type) {
  if (type != kStartTypeStart && type != kStartTypeResume && type != kStartTypeReload) {
    throw invalid_parameter(fmt::format("Invalid value {} for {}. Valid values: {}, {}, {}.", type,
                                        member, kStartTypeStart, kStartTypeResume,
                                        kStartTypeReload));
  }
}

void check_start_type(std::string_view what, std::string_view type, std::int64_t previous_runs) {
  require_start_type_value("the start type", type);
  if (previous_runs == 0 && type != kStartTypeStart) {
    throw invalid_state(fmt::format("{} has never run; start it with {}.", what, kStartTypeStart));
  }
  if (previous_runs > 0 && type == kStartTypeStart) {
    throw invalid_state(
        fmt::format("{} has run before; use {} or {}.", what, kStartTypeResume, kStartTypeReload));
  }
}

}  // namespace dagster_dms::server
