#include "server/execution/reload_requests.hpp"

#include <algorithm>
#include <utility>

namespace dagster_dms::server {

namespace rep = replicate;

std::vector<std::string> ReloadRequests::add(const std::vector<dms::TableToReload>& tables) {
  const std::lock_guard lock(mutex_);
  if (closed_) return std::vector<std::string>(tables.size(), "the task's run is ending");
  for (const auto& table : tables) {
    const rep::QualifiedName name{table.schema_name, table.table_name};
    if (std::find(waiting_.begin(), waiting_.end(), name) == waiting_.end()) {
      waiting_.push_back(name);
    }
  }
  return std::vector<std::string>(tables.size());
}

std::vector<rep::QualifiedName> ReloadRequests::in_progress() const {
  const std::lock_guard lock(mutex_);
  auto names = waiting_;
  names.insert(names.end(), reloading_.begin(), reloading_.end());
  return names;
}

std::vector<rep::QualifiedName> ReloadRequests::take() {
  const std::lock_guard lock(mutex_);
  auto taken = std::exchange(waiting_, {});
  reloading_.insert(reloading_.end(), taken.begin(), taken.end());
  return taken;
}

void ReloadRequests::finished(const std::vector<rep::QualifiedName>& tables) {
  const std::lock_guard lock(mutex_);
  std::erase_if(reloading_, [&](const rep::QualifiedName& name) {
    return std::find(tables.begin(), tables.end(), name) != tables.end();
  });
}

std::optional<std::vector<rep::QualifiedName>> ReloadRequests::next_batch() {
  const std::lock_guard lock(mutex_);
  reloading_.clear();
  if (waiting_.empty()) {
    closed_ = true;
    return std::nullopt;
  }
  reloading_.swap(waiting_);
  return reloading_;
}

void ReloadRequests::batch_finished() {
  const std::lock_guard lock(mutex_);
  reloading_.clear();
}

void ReloadRequests::close() {
  const std::lock_guard lock(mutex_);
  closed_ = true;
}

void ReloadRequests::close_and_forget() {
  const std::lock_guard lock(mutex_);
  closed_ = true;
  waiting_.clear();
  reloading_.clear();
}

}  // namespace dagster_dms::server
