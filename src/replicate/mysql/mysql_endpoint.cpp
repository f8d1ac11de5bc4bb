#include "replicate/mysql/mysql_endpoint.hpp"

#include <fmt/format.h>

namespace dagster_dms::replicate::mysql {

std::string MySqlEndpoint::describe() const {
  return fmt::format("{}@{}:{}/{}", user, host, port, database);
}

}  // namespace dagster_dms::replicate::mysql
