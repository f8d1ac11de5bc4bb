#include "server/dms_api/resource_status.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace dagster_dms::server {

void throw_unreadable_status(std::string_view member, const nlohmann::json& holder) {
  const auto stored =
      holder.is_object() && holder.contains(member) ? holder[member].dump() : "none";
  throw std::logic_error(fmt::format("stored resource has an unknown {}: {}", member, stored));
}

}  // namespace dagster_dms::server
