#pragma once

#include <string>
#include <vector>

#include "replicate/catalog.hpp"
#include "replicate/mysql/connection.hpp"

namespace dagster_dms::replicate::mysql {

// What the binary log does not say about a column and the catalog does.
struct ColumnDetail {
  bool is_unsigned = false;
  std::string charset;              // CHARACTER_SET_NAME; empty for non-text columns
  std::vector<std::string> labels;  // enum or set members
};

struct CatalogTable {
  SourceTable table;                  // columns typed as they are created on the target
  std::vector<ColumnDetail> details;  // one per column, in column order
};

// The user tables (and, when asked, views) of the endpoint's database (or of every user
// database), with columns in ordinal order and primary keys in key order.
std::vector<CatalogTable> read_catalog(MySqlConnection& connection, const MySqlEndpoint& endpoint,
                                       bool include_views);

}  // namespace dagster_dms::replicate::mysql
