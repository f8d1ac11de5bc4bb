#pragma once

#include <nlohmann/json.hpp>

namespace dagster_dms::replicate {

// DMS's service defaults for ReplicationTaskSettings: what DMS answers for a task created
// without settings (DMS-BEHAVIOUR.md section 1.1). The one place they are written: dms-local's
// control plane completes and type-checks stored documents against it, and the engine reads its
// settings from a document merged over it.
const nlohmann::json& default_task_settings();

// The defaults with `given` (a ReplicationTaskSettings object) merged over them: objects merge
// member by member, a null member keeps the default, anything else replaces it. A `given` that
// is not an object gives the defaults.
nlohmann::json with_default_task_settings(const nlohmann::json& given);

}  // namespace dagster_dms::replicate
