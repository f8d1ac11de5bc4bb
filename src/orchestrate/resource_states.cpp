#include "orchestrate/resource_states.hpp"

#include <algorithm>
#include <cctype>

namespace dagster_dms::orchestrate {

bool is_instance_available(std::string_view status) {
  return status == "available";
}

bool is_connection_failed(std::string_view status) {
  return status == "failed";
}

bool is_table_errored(std::string_view table_state) {
  constexpr std::string_view kError = "table error";
  if (table_state.size() < kError.size()) return false;
  return std::equal(kError.begin(), kError.end(), table_state.begin(), [](char a, char b) {
    return a == std::tolower(static_cast<unsigned char>(b));
  });
}

}  // namespace dagster_dms::orchestrate
