#include "server/front/wire_json.hpp"

namespace dagster_dms::server {

std::string wire_json(const nlohmann::json& document) {
  return document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace dagster_dms::server
