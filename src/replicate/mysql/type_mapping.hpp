#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "replicate/catalog.hpp"

namespace dagster_dms::replicate::mysql {

// A column as information_schema.COLUMNS describes it.
struct MySqlColumnType {
  std::string data_type;    // DATA_TYPE, lower case: `int`, `varchar`, `datetime`, `enum`...
  std::string column_type;  // COLUMN_TYPE: `int(10) unsigned`, `enum('a','b')`...
  std::int64_t character_length = 0;  // CHARACTER_MAXIMUM_LENGTH (characters)
  int numeric_precision = 0;          // NUMERIC_PRECISION (bits for BIT)
  int numeric_scale = 0;              // NUMERIC_SCALE
  int datetime_precision = 0;         // DATETIME_PRECISION
};

// How a value in MySQL's text protocol becomes a PostgreSQL value.
enum class ValueEncoding {
  kText,      // as it is (numbers, strings, time)
  kBitFlag,   // BIT(1): one byte, 0 or 1 -> boolean
  kBytes,     // binary strings, BIT(n>1), geometry -> bytea
  kTemporal,  // DATE, DATETIME, TIMESTAMP: zero dates (a zero year, month or day) -> NULL
};

struct MappedType {
  std::string target_type;  // what the PostgreSQL target column is created as
  ValueKind kind = ValueKind::kOther;
};

// DMS's MySQL-to-PostgreSQL type mapping, through DMS's own data types (MySQL source type ->
// DMS type -> PostgreSQL target type, as AWS's user guide tabulates them):
//   tinyint -> INT1, smallint -> INT2, mediumint and int -> INT4, bigint -> INT8; unsigned:
//   tinyint -> UINT1, smallint -> UINT2, mediumint and int -> UINT4, bigint -> UINT8; on
//   PostgreSQL INT1/INT2/UINT1 -> smallint, INT4/UINT2 -> integer, INT8/UINT4 -> bigint,
//   UINT8 -> numeric(20,0).
//   decimal(p,s) -> NUMERIC(p,s) -> numeric(p,s); float -> REAL4 -> real; double -> REAL8.
//   bit(1) -> BOOLEAN; bit(n) -> BYTES -> bytea. year -> INT2 -> smallint.
//   date -> date; datetime and timestamp -> DATETIME -> timestamp(scale), timestamps in UTC.
//   time -> time(scale).
//   char/varchar(n), enum, set -> WSTRING(n) -> varchar(n); tinytext -> varchar(255), text ->
//   varchar(65535), mediumtext/longtext and json -> NCLOB/CLOB -> text.
//   binary, varbinary and the blobs -> BYTES/BLOB -> bytea; geometry types -> BLOB -> bytea (the
//   server's internal form: SRID then WKB).
MappedType map_column_type(const MySqlColumnType& column);

// How values of a column mapped to `target_type` (map_column_type's) are encoded.
ValueEncoding value_encoding(std::string_view target_type);

// Appends one value in PostgreSQL's COPY text format (escaped, `\N` for NULL). `for_files`
// renders booleans as true/false, as the file target writes them.
void append_copy_value(std::string& out, ValueEncoding encoding, const char* data,
                       std::size_t length, bool for_files);

// Whether a DATE/DATETIME/TIMESTAMP text value is one of MySQL's zero dates (`0000-00-00`, or
// any date with a zero year, month or day), which PostgreSQL has no value for: DMS writes NULL.
bool is_zero_date(std::string_view value);

}  // namespace dagster_dms::replicate::mysql
