// MySQL-to-PostgreSQL type mapping and value encoding for MySQL-family sources (no server needed).
#include <gtest/gtest.h>

#include "replicate/mysql/type_mapping.hpp"

namespace {

using dagster_dms::replicate::ValueKind;
using namespace dagster_dms::replicate::mysql;

MySqlColumnType column(std::string data_type, std::string column_type = {}) {
  MySqlColumnType out;
  out.data_type = std::move(data_type);
  out.column_type = column_type.empty() ? out.data_type : std::move(column_type);
  return out;
}

std::string target(const MySqlColumnType& type) {
  return map_column_type(type).target_type;
}

TEST(MySqlTypeMapping, IntegersWidenForUnsignedAsDmsDoes) {
  EXPECT_EQ(target(column("tinyint", "tinyint(4)")), "smallint");
  EXPECT_EQ(target(column("tinyint", "tinyint(3) unsigned")), "smallint");
  EXPECT_EQ(target(column("smallint")), "smallint");
  EXPECT_EQ(target(column("smallint", "smallint(5) unsigned")), "integer");
  EXPECT_EQ(target(column("mediumint")), "integer");
  EXPECT_EQ(target(column("mediumint", "mediumint(8) unsigned")), "bigint");
  EXPECT_EQ(target(column("int", "int(11)")), "integer");
  EXPECT_EQ(target(column("int", "int(10) unsigned")), "bigint");
  EXPECT_EQ(target(column("bigint", "bigint(20)")), "bigint");
  EXPECT_EQ(target(column("bigint", "bigint(20) unsigned")), "numeric(20,0)");
  EXPECT_EQ(target(column("year", "year(4)")), "smallint");
}

TEST(MySqlTypeMapping, NumbersBitsAndTemporals) {
  auto decimal = column("decimal", "decimal(12,3)");
  decimal.numeric_precision = 12;
  decimal.numeric_scale = 3;
  EXPECT_EQ(target(decimal), "numeric(12,3)");
  EXPECT_EQ(target(column("float")), "real");
  EXPECT_EQ(target(column("double")), "double precision");
  auto flag = column("bit", "bit(1)");
  flag.numeric_precision = 1;
  EXPECT_EQ(target(flag), "boolean");
  EXPECT_EQ(map_column_type(flag).kind, ValueKind::kBoolean);
  auto bits = column("bit", "bit(12)");
  bits.numeric_precision = 12;
  EXPECT_EQ(target(bits), "bytea");
  EXPECT_EQ(target(column("date")), "date");
  auto datetime = column("datetime", "datetime(6)");
  datetime.datetime_precision = 6;
  EXPECT_EQ(target(datetime), "timestamp(6)");
  EXPECT_EQ(map_column_type(datetime).kind, ValueKind::kTimestamp);
  EXPECT_EQ(target(column("timestamp")), "timestamp(0)");
  auto time = column("time", "time(3)");
  time.datetime_precision = 3;
  EXPECT_EQ(target(time), "time(3)");
}

TEST(MySqlTypeMapping, StringsBinariesAndDocuments) {
  auto name = column("varchar", "varchar(40)");
  name.character_length = 40;
  EXPECT_EQ(target(name), "character varying(40)");
  auto code = column("char", "char(3)");
  code.character_length = 3;
  EXPECT_EQ(target(code), "character varying(3)");
  auto size = column("enum", "enum('small','medium')");
  size.character_length = 6;
  EXPECT_EQ(target(size), "character varying(6)");
  auto flags = column("set", "set('a','b','c')");
  flags.character_length = 5;
  EXPECT_EQ(target(flags), "character varying(5)");
  EXPECT_EQ(target(column("tinytext")), "character varying(255)");
  EXPECT_EQ(target(column("text")), "character varying(65535)");
  EXPECT_EQ(target(column("longtext")), "text");
  EXPECT_EQ(target(column("json")), "text");
  for (const char* binary : {"binary", "varbinary", "blob", "longblob", "geometry", "point"}) {
    EXPECT_EQ(target(column(binary)), "bytea") << binary;
  }
  EXPECT_EQ(target(column("inet6")), "text");  // newer types arrive as text
}

std::string encode(ValueEncoding encoding, std::string_view value, bool for_files = false) {
  std::string out;
  append_copy_value(out, encoding, value.data(), value.size(), for_files);
  return out;
}

TEST(MySqlValueEncoding, CopyTextEscapesAndNulls) {
  std::string out;
  append_copy_value(out, ValueEncoding::kText, nullptr, 0, false);
  EXPECT_EQ(out, "\\N");
  EXPECT_EQ(encode(ValueEncoding::kText, "a\tb\nc\\d\re"), "a\\tb\\nc\\\\d\\re");
  EXPECT_EQ(encode(ValueEncoding::kBytes, std::string_view("\x00\xff\x10", 3)), "\\\\x00ff10");
  EXPECT_EQ(encode(ValueEncoding::kBitFlag, std::string_view("\x01", 1)), "t");
  EXPECT_EQ(encode(ValueEncoding::kBitFlag, std::string_view("\x00", 1)), "f");
  EXPECT_EQ(encode(ValueEncoding::kBitFlag, std::string_view("\x01", 1), true), "true");
}

TEST(MySqlValueEncoding, ZeroDatesBecomeNull) {
  EXPECT_TRUE(is_zero_date("0000-00-00"));
  EXPECT_TRUE(is_zero_date("0000-00-00 00:00:00"));
  EXPECT_TRUE(is_zero_date("2024-00-10"));
  EXPECT_TRUE(is_zero_date("2024-03-00 10:00:00"));
  EXPECT_FALSE(is_zero_date("2024-03-01 00:00:00"));
  EXPECT_EQ(encode(ValueEncoding::kTemporal, "0000-00-00 00:00:00"), "\\N");
  EXPECT_EQ(encode(ValueEncoding::kTemporal, "2024-02-29 23:59:59.123456"),
            "2024-02-29 23:59:59.123456");
  EXPECT_EQ(value_encoding("timestamp(6)"), ValueEncoding::kTemporal);
  EXPECT_EQ(value_encoding("date"), ValueEncoding::kTemporal);
  EXPECT_EQ(value_encoding("time(0)"), ValueEncoding::kText);
  EXPECT_EQ(value_encoding("boolean"), ValueEncoding::kBitFlag);
  EXPECT_EQ(value_encoding("bytea"), ValueEncoding::kBytes);
}

}  // namespace
