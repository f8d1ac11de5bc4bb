#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "replicate/mysql/type_mapping.hpp"
#include "replicate/pgoutput.hpp"

namespace dagster_dms::replicate::mysql {

// Row images of the binary log (row format) decoded into PostgreSQL text values, the form the
// change appliers take (pgoutput::TupleValue). MariaDB Connector/C frames the events and parses
// table maps, but its own row decoder (mariadb_rpl_extract_rows in 3.3) rejects char, varchar,
// enum and set columns and misreads bit columns, so the column values are decoded here.

class BinlogFormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A column as a TABLE_MAP event describes it, with what only the catalog knows (signedness,
// character set, enum and set labels, the PostgreSQL type it maps to).
struct BinlogColumn {
  std::uint8_t type = 0;       // enum_field_types as the table map gives it
  std::uint16_t metadata = 0;  // the type's table-map metadata
  bool is_unsigned = false;
  std::string charset;              // CHARACTER_SET_NAME; empty for non-text and binary columns
  std::vector<std::string> labels;  // enum or set members, in order
  ValueEncoding encoding = ValueEncoding::kText;  // of the target type
  bool is_enum = false, is_set = false;
};

// Reads each column's table-map metadata (`metadata` is the TABLE_MAP's metadata block, in
// column order) into `columns[i].metadata`, and resolves STRING columns that are really ENUM or
// SET. Throws BinlogFormatError when the block is short.
void read_table_map_metadata(std::string_view types, std::string_view metadata,
                             std::vector<BinlogColumn>& columns);

// Decodes one row image starting at `data`: `present` says which columns the image holds (the
// rows event's column bitmap); columns it lacks come back as NULL. Returns the tuple and
// advances `data` past the row. Throws BinlogFormatError on a malformed image.
pgoutput::Tuple decode_row(std::string_view& data, const std::vector<BinlogColumn>& columns,
                           const std::vector<bool>& present);

// The labels of `enum('a','b')` or `set('x','y')` column types (quotes doubled inside).
std::vector<std::string> parse_labels(std::string_view column_type);

// A binary log position packed into one number so the change appliers (and awsdms_txn_state)
// can keep it as they keep an LSN: the file's sequence number (`mariadb-bin.000042` -> 42) in
// the high 32 bits, the offset in the low ones. Positions compare in log order.
Lsn pack_position(std::uint32_t file_number, std::uint32_t offset);
std::uint32_t position_file(Lsn position);
std::uint32_t position_offset(Lsn position);
// `mariadb-bin.000042` -> 42; nullopt when the name has no numeric extension.
std::optional<std::uint32_t> binlog_file_number(std::string_view file_name);
// DMS's MySQL CdcStartPosition form, `mysql-bin-changelog.000024:373` (file:offset); nullopt
// for anything else. `basename` receives the part before the extension.
std::optional<Lsn> parse_binlog_position(std::string_view text, std::string* basename = nullptr);
// CdcStartPosition for a MySQL-family source: a binary log position (`file.000024:373`) or
// DMS's checkpoint form (what RecoveryCheckpoint shows).
std::optional<Lsn> parse_start_position(std::string_view text);
// `<basename>.000042:1234`.
std::string format_binlog_position(std::string_view basename, Lsn position);

}  // namespace dagster_dms::replicate::mysql
