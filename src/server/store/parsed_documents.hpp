#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dagster_dms::server {

// The JSON documents the store has parsed, the last text of each. Every listing reads every
// record of a kind (a filtered DescribeReplicationTasks reads all 600 tasks to find one), and
// parsing a task document with its settings costs far more than copying one already parsed: a
// document whose text is unchanged since it was last parsed is answered with a copy. An entry
// is used only when its text equals the stored one, so it can never be stale; one entry per
// `key` (a record's document), and the whole cache starts afresh when full. Thread-safe.
class ParsedDocuments {
 public:
  [[nodiscard]] nlohmann::json parse(const std::string& key, std::string_view text) const;

 private:
  struct Entry {
    std::string text;
    nlohmann::json value;
  };
  static constexpr std::size_t kMaxEntries = 16384;

  mutable std::mutex mutex_;
  mutable std::unordered_map<std::string, std::shared_ptr<const Entry>> by_key_;
};

}  // namespace dagster_dms::server
