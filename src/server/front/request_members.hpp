#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace dagster_dms::server {

// An optional string member sent as "" counts as not sent: DMS applies its default then (an
// AvailabilityZone of its choosing, its current EngineVersion, its own KMS key...) instead of
// storing and echoing an empty value.
inline std::optional<std::string> given(const std::optional<std::string>& member) {
  if (!member || member->empty()) return std::nullopt;
  return member;
}

// The same rule for a stored structure (ComputeConfig): its empty string members are dropped.
inline void drop_empty_strings(nlohmann::json& document) {
  if (!document.is_object()) return;
  for (auto it = document.begin(); it != document.end();) {
    if (it->is_string() && it->get_ref<const std::string&>().empty()) {
      it = document.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace dagster_dms::server
