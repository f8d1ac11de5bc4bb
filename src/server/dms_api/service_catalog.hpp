#pragma once

#include <string>
#include <string_view>

#include "server/dms_api/control_plane.hpp"

namespace dagster_dms::server {

// The engines dms-local moves data for, as DescribeEndpointTypes lists them. This is the one
// list CreateEndpoint and ModifyEndpoint check EngineName against.
struct SupportedEngine {
  std::string_view name;          // EngineName: postgres, aurora-postgresql, s3
  std::string_view display_name;  // EngineDisplayName
  bool source;                    // dms-local reads it as a source endpoint
  bool target;                    // and writes it as a target endpoint
};

// mysql, mariadb and aurora (Aurora MySQL): the engines read through MySQLSettings.
bool is_mysql_family(std::string_view engine);

// InvalidParameterValueException naming the supported engines when `engine` is not one of them.
const SupportedEngine& require_supported_engine(std::string_view engine);

}  // namespace dagster_dms::server
