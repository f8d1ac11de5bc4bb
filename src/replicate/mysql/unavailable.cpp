// Built instead of the MySQL source when DAGSTER_DMS_MYSQL is off (the wheels): every entry
// point says that this build cannot read MySQL-family sources.
#include <stdexcept>

#include "replicate/mysql/binlog_capture.hpp"
#include "replicate/mysql/mysql_endpoint.hpp"
#include "replicate/mysql/table_source.hpp"

namespace dagster_dms::replicate::mysql {

bool mysql_support_built() {
  return false;
}

std::optional<ConnectionFailure> test_connection(const MySqlEndpoint& /*endpoint*/) {
  return ConnectionFailure{false, "HY000", 0, kNoMySqlSupport};
}

std::optional<std::string> check_cdc_prerequisites(const MySqlEndpoint& /*endpoint*/) {
  return std::string(kNoMySqlSupport);
}

std::shared_ptr<MySqlTableSource> make_table_source(const MySqlEndpoint& /*endpoint*/) {
  throw std::runtime_error(kNoMySqlSupport);
}

std::shared_ptr<ChangeCapture> make_binlog_capture(std::shared_ptr<MySqlTableSource> /*source*/) {
  throw std::runtime_error(kNoMySqlSupport);
}

}  // namespace dagster_dms::replicate::mysql
