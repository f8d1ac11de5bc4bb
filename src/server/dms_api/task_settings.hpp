#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dagster_dms::server {

// Settings documents are checked when a client gives them (CreateReplicationTask,
// ModifyReplicationTask, and the replication config calls), so a task never fails later on a
// document it was allowed to store. A document must be a JSON object nesting at most
// kMaxNestingDepth levels, and every member DMS defines must have the type of its default (an
// integer where the default is 8, true/false where it is false...). `member` names the request
// member in errors (ReplicationTaskSettings, ReplicationSettings). Throws
// InvalidParameterValueException naming the field path and the type it needs.
void check_task_settings(std::string_view text, std::string_view member);

// Modify merges the given partial document over the stored one (JSON merge patch: a null member
// goes back to the default). Checks `change` first; returns the merged document.
std::string merge_task_settings_change(const std::string& stored, std::string_view change,
                                       std::string_view member);

// The complete ReplicationTaskSettings document DMS stores: the service defaults with the
// client's (partial) document merged over them, and the CloudWatch log names filled in while
// Logging.EnableLogging is true (null otherwise, as DMS shows them).
// An absent or empty `given` means the defaults. Throws InvalidParameterValueException for a
// document check_task_settings refuses or that sets the log group or stream on create (DMS
// refuses that too).
std::string complete_task_settings(const std::optional<std::string>& given,
                                   const std::string& instance_id,
                                   const std::string& task_resource_id, bool on_create);

// DMS's ValidationSettings rules for a complete settings document of a task of
// `migration_type` (replicate/validation_settings.hpp): ranges, ROW_LEVEL only, and ValidationOnly
// with DO_NOTHING on a full-load or cdc task. `stored`, on modify, is the document before the
// change: ValidationOnly cannot change after creation. Throws InvalidParameterValueException.
void check_validation_settings(const std::string& settings, std::string_view migration_type,
                               const std::optional<std::string>& stored = std::nullopt);

// Throws InvalidParameterValueException unless `mappings` is a JSON object (nesting at most
// kMaxNestingDepth levels) with a "rules" list holding at least one selection rule.
void validate_table_mappings(const std::string& mappings);

}  // namespace dagster_dms::server
