#include "replicate/mysql/type_mapping.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace dagster_dms::replicate::mysql {

namespace {

bool is_unsigned(const MySqlColumnType& column) {
  return column.column_type.find("unsigned") != std::string::npos;
}

std::string with_scale(std::string_view type, int scale) {
  return fmt::format("{}({})", type, std::clamp(scale, 0, 6));
}

std::string varchar(std::int64_t length) {
  // PostgreSQL's varchar holds at most 10485760 characters; longer declarations become text.
  if (length <= 0 || length > 10485760) return "text";
  return fmt::format("character varying({})", length);
}

}  // namespace

MappedType map_column_type(const MySqlColumnType& column) {
  const std::string& type = column.data_type;
  const bool unsigned_ = is_unsigned(column);
  if (type == "tinyint") return {"smallint"};
  if (type == "smallint") return {unsigned_ ? "integer" : "smallint"};
  if (type == "mediumint" || type == "int" || type == "integer") {
    return {unsigned_ ? "bigint" : "integer"};
  }
  if (type == "bigint") return {unsigned_ ? "numeric(20,0)" : "bigint"};
  if (type == "decimal" || type == "numeric") {
    return {fmt::format("numeric({},{})", column.numeric_precision, column.numeric_scale)};
  }
  if (type == "float") return {"real"};
  if (type == "double" || type == "real") return {"double precision"};
  if (type == "bit") {
    if (column.numeric_precision <= 1) return {"boolean", ValueKind::kBoolean};
    return {"bytea"};
  }
  if (type == "year") return {"smallint"};
  if (type == "date") return {"date"};
  if (type == "datetime" || type == "timestamp") {
    return {with_scale("timestamp", column.datetime_precision), ValueKind::kTimestamp};
  }
  if (type == "time") return {with_scale("time", column.datetime_precision)};
  if (type == "char" || type == "varchar" || type == "enum" || type == "set") {
    return {varchar(column.character_length)};
  }
  if (type == "tinytext") return {"character varying(255)"};
  if (type == "text") return {"character varying(65535)"};
  if (type == "mediumtext" || type == "longtext" || type == "json") return {"text"};
  if (type == "binary" || type == "varbinary" || type == "tinyblob" || type == "blob" ||
      type == "mediumblob" || type == "longblob") {
    return {"bytea"};
  }
  if (type == "geometry" || type == "point" || type == "linestring" || type == "polygon" ||
      type == "multipoint" || type == "multilinestring" || type == "multipolygon" ||
      type == "geometrycollection" || type == "geomcollection") {
    return {"bytea"};
  }
  // Anything newer (vector, inet6, uuid in MariaDB 10.7+...) arrives as text.
  return {"text"};
}

ValueEncoding value_encoding(std::string_view target_type) {
  if (target_type == "boolean") return ValueEncoding::kBitFlag;
  if (target_type == "bytea") return ValueEncoding::kBytes;
  if (target_type == "date" || target_type.starts_with("timestamp")) {
    return ValueEncoding::kTemporal;
  }
  return ValueEncoding::kText;
}

bool is_zero_date(std::string_view value) {
  // YYYY-MM-DD[...]: a zero part anywhere in the date.
  if (value.size() < 10) return false;
  return value.substr(0, 4) == "0000" || value.substr(5, 2) == "00" || value.substr(8, 2) == "00";
}

void append_copy_value(std::string& out, ValueEncoding encoding, const char* data,
                       std::size_t length, bool for_files) {
  if (data == nullptr) {
    out += "\\N";
    return;
  }
  const std::string_view value(data, length);
  switch (encoding) {
    case ValueEncoding::kBitFlag: {
      const bool set = !value.empty() && value.back() != '\0';
      out += for_files ? (set ? "true" : "false") : (set ? "t" : "f");
      return;
    }
    case ValueEncoding::kBytes: {
      // bytea's hex form; its backslash is escaped for COPY.
      constexpr char kHex[] = "0123456789abcdef";
      out += "\\\\x";
      for (const char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        out += kHex[byte >> 4];
        out += kHex[byte & 0xF];
      }
      return;
    }
    case ValueEncoding::kTemporal:
      if (is_zero_date(value)) {
        out += "\\N";
        return;
      }
      break;
    case ValueEncoding::kText:
      break;
  }
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
}

}  // namespace dagster_dms::replicate::mysql
