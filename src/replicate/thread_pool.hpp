#pragma once

#include <cstddef>
#include <functional>

namespace dagster_dms::replicate {

// Runs `body(worker_index)` on `workers` threads and waits for all of them. Workers pull their
// own work (so each can keep per-worker state such as a pair of connections). The first
// exception a worker throws is rethrown here after every worker has finished.
void run_workers(std::size_t workers, const std::function<void(std::size_t)>& body);

}  // namespace dagster_dms::replicate
