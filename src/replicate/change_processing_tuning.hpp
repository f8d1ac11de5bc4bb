#pragma once

#include <chrono>
#include <cstdint>

namespace dagster_dms::replicate {

// How CDC groups changes into target transactions, from TargetMetadata.BatchApplyEnabled and
// ChangeProcessingTuning (parse_full_load_settings fills it from the task's settings or DMS's
// defaults). A default-constructed value holds no DMS default.
struct ChangeProcessingTuning {
  // TargetMetadata.BatchApplyEnabled. false (DMS's default), transactional mode: each source
  // transaction's effects become visible on the target at once. true, batch optimized apply:
  // the target commits batches of changes that may cut across source transactions.
  bool batch_apply = false;

  // Batch mode: a batch is applied once it is BatchApplyTimeoutMin old and the stream has
  // caught up, at BatchApplyTimeoutMax whatever waits, and earlier when it holds
  // BatchApplyMemoryLimit MB of changes or BatchSplitSize changes (0: no limit).
  std::chrono::seconds batch_timeout_min{0};
  std::chrono::seconds batch_timeout_max{0};
  std::uint64_t batch_memory_limit_bytes = 0;
  std::uint64_t batch_split_size = 0;

  // Transactional mode: while a backlog waits, consecutive source transactions share one target
  // transaction until it holds MinTransactionSize changes or is CommitTimeout old. Once the
  // stream has caught up the group commits at once.
  std::uint64_t min_transaction_size = 0;
  std::chrono::seconds commit_timeout{0};
};

}  // namespace dagster_dms::replicate
