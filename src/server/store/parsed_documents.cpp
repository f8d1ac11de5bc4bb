#include "server/store/parsed_documents.hpp"

#include <utility>

namespace dagster_dms::server {

nlohmann::json ParsedDocuments::parse(const std::string& key, std::string_view text) const {
  std::shared_ptr<const Entry> found;
  {
    const std::lock_guard lock(mutex_);
    if (const auto it = by_key_.find(key); it != by_key_.end()) found = it->second;
  }
  // Compared and copied outside the lock: readers on other threads don't wait for the copy.
  if (found && found->text == text) return found->value;
  auto entry = std::make_shared<const Entry>(Entry{std::string(text), nlohmann::json::parse(text)});
  nlohmann::json value = entry->value;
  const std::lock_guard lock(mutex_);
  if (by_key_.size() >= kMaxEntries) by_key_.clear();
  by_key_[key] = std::move(entry);
  return value;
}

}  // namespace dagster_dms::server
