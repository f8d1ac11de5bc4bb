#pragma once

#include <optional>
#include <string>

namespace dagster_dms::server {

// The complete ReplicationTaskSettings document DMS stores: the service defaults with the
// client's (partial) document merged over them, and the CloudWatch log names filled in while
// Logging.EnableLogging is true (null otherwise, as DMS shows them).
// Throws InvalidParameterValueException for a document that is not a JSON object or that sets
// the log group or stream on create (DMS refuses that too).
std::string complete_task_settings(const std::optional<std::string>& given,
                                   const std::string& instance_id,
                                   const std::string& task_resource_id, bool on_create);

// Throws InvalidParameterValueException unless `mappings` is a JSON object with a "rules" list
// holding at least one selection rule.
void validate_table_mappings(const std::string& mappings);

}  // namespace dagster_dms::server
