#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "server/execution/task_executor.hpp"
#include "server/store/store.hpp"

namespace dagster_dms::server {

// Endpoint passwords and other secrets never leave the service: moved from `doc` to `internal`.
void move_secrets(nlohmann::json& doc, nlohmann::json& internal);

// The password stored for an endpoint (top level, or only inside PostgreSQLSettings).
std::optional<std::string> stored_password(const Record& endpoint);

// A run's source and target (run.task's endpoint ARNs) as stored, with their passwords, which
// the data plane needs and the API never returns, and the CA certificates they verify with.
void load_run_endpoints(const Store& store, TaskRun& run);

}  // namespace dagster_dms::server
