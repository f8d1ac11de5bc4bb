#pragma once

#include "server/store/store.hpp"

namespace dagster_dms::server {

// An endpoint's schemas as RefreshSchemas last read them from the real database (registered in
// resources.hpp). The refresh status and the schema names live in the endpoint's internal
// document, so they go with the endpoint.

// At start-up, with the lock held: a refresh that was running when the process died comes back
// failed.
void fail_interrupted_schema_refreshes(Store& store);

}  // namespace dagster_dms::server
