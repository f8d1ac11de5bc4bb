// Binary log row images and positions of MySQL-family sources (no server needed).
#include <gtest/gtest.h>

#include "replicate/mysql/binlog_rows.hpp"

namespace {

using namespace dagster_dms::replicate::mysql;
using dagster_dms::replicate::pgoutput::Tuple;
using dagster_dms::replicate::pgoutput::ValueKind;

// MYSQL_TYPE_* codes as table maps carry them.
constexpr std::uint8_t kLong = 3, kTiny = 1, kLongLong = 8, kTimestamp2 = 17, kDateTime2 = 18,
                       kTime2 = 19, kNewDecimal = 246, kVarchar = 15, kString = 254, kBlob = 252,
                       kBit = 16, kDate = 10, kYear = 13;

BinlogColumn column(std::uint8_t type, std::uint16_t metadata = 0) {
  BinlogColumn out;
  out.type = type;
  out.metadata = metadata;
  return out;
}

// One row image: an all-present null bitmap (no NULLs) followed by `values`.
std::string row(std::size_t columns, std::string_view values) {
  return std::string((columns + 7) / 8, '\0') + std::string(values);
}

std::string decode_one(const BinlogColumn& column, std::string_view value) {
  const auto image = row(1, value);
  std::string_view data(image);
  const auto tuple = decode_row(data, {column}, {true});
  EXPECT_TRUE(data.empty());
  return tuple[0].kind == ValueKind::kNull ? "NULL" : tuple[0].text;
}

TEST(MySqlBinlogRows, IntegersTakeTheirSignFromTheCatalog) {
  auto tiny = column(kTiny);
  EXPECT_EQ(decode_one(tiny, std::string_view("\xfb", 1)), "-5");
  tiny.is_unsigned = true;
  EXPECT_EQ(decode_one(tiny, std::string_view("\xfb", 1)), "251");
  auto big = column(kLongLong);
  big.is_unsigned = true;
  EXPECT_EQ(decode_one(big, std::string(8, '\xff')), "18446744073709551615");
  big.is_unsigned = false;
  EXPECT_EQ(decode_one(big, std::string(8, '\xff')), "-1");
  EXPECT_EQ(decode_one(column(kLong), std::string_view("\x00\x00\x00\x80", 4)), "-2147483648");
  EXPECT_EQ(decode_one(column(kYear), std::string_view("\x7c", 1)), "2024");
}

TEST(MySqlBinlogRows, DecimalsAndTemporals) {
  EXPECT_EQ(decode_one(column(kNewDecimal, 20 | (6 << 8)),
                       std::string_view("\x80\x30\x39\x28\x77\x35\xf2\x01\xe2\x40", 10)),
            "12345678901234.123456");
  EXPECT_EQ(decode_one(column(kNewDecimal, 4 | (1 << 8)), std::string_view("\x7f\xfe\xfa", 3)),
            "-1.5");
  EXPECT_EQ(
      decode_one(column(kDateTime2, 6), std::string_view("\x99\xb2\xbb\x7e\xfb\x01\xe2\x40", 8)),
      "2024-02-29 23:59:59.123456");
  EXPECT_EQ(decode_one(column(kTime2, 0), std::string_view("\x7f\x3f\xff", 3)), "-12:00:01");
  EXPECT_EQ(decode_one(column(kTimestamp2, 3), std::string_view("\x66\x5a\xf1\x20\x09\xc4", 6)),
            "2024-06-01 10:00:00.250");
  // 2024-02-29 as DATE's 3 bytes: day | month << 5 | year << 9.
  const std::uint32_t date = 29 | (2 << 5) | (2024 << 9);
  const std::string date_bytes{static_cast<char>(date & 0xFF),
                               static_cast<char>((date >> 8) & 0xFF),
                               static_cast<char>(date >> 16)};
  EXPECT_EQ(decode_one(column(kDate), date_bytes), "2024-02-29");
  EXPECT_EQ(decode_one(column(kDate), std::string(3, '\0')), "NULL");  // the zero date
}

TEST(MySqlBinlogRows, StringsEnumsSetsBitsAndBytes) {
  auto name = column(kVarchar, 160);
  name.charset = "utf8mb4";
  EXPECT_EQ(decode_one(name, std::string("\x06h\xc3\xa9llo", 7)), "h\xc3\xa9llo");
  auto latin = column(kVarchar, 20);
  latin.charset = "latin1";
  EXPECT_EQ(decode_one(latin, std::string("\x04"
                                          "caf\xe9",
                                          5)),
            "caf\xc3\xa9");
  auto blob = column(kBlob, 2);
  blob.encoding = ValueEncoding::kBytes;
  EXPECT_EQ(decode_one(blob, std::string("\x02\x00\x00\xff", 4)), "\\x00ff");

  // BINARY(4) (CHAR's type, real type 254, 4 bytes): logged without its trailing zeros.
  std::vector<BinlogColumn> fixed{column(0)};
  read_table_map_metadata(std::string{static_cast<char>(kString)}, std::string("\xfe\x04", 2),
                          fixed);
  fixed[0].encoding = ValueEncoding::kBytes;
  EXPECT_EQ(decode_one(fixed[0], std::string("\x01\xab", 2)), "\\xab000000");

  std::vector<BinlogColumn> columns{column(0), column(0)};
  // ENUM (real type 247, 1 byte) and SET (real type 248, 1 byte) as table-map metadata.
  read_table_map_metadata(std::string{static_cast<char>(kString), static_cast<char>(kString)},
                          std::string("\xf7\x01\xf8\x01", 4), columns);
  columns[0].labels = {"small", "medium"};
  columns[1].labels = {"a", "b", "c"};
  EXPECT_TRUE(columns[0].is_enum && columns[1].is_set);
  const auto image = row(2, std::string("\x02\x05", 2));
  std::string_view data(image);
  const Tuple tuple = decode_row(data, columns, {true, true});
  EXPECT_EQ(tuple[0].text, "medium");
  EXPECT_EQ(tuple[1].text, "a,c");

  auto flag = column(kBit, 1);  // bit(1): one bit, no whole bytes
  flag.encoding = ValueEncoding::kBitFlag;
  EXPECT_EQ(decode_one(flag, std::string_view("\x01", 1)), "t");
  auto bits = column(kBit, 4 | (1 << 8));  // bit(12): 4 bits and one whole byte
  bits.encoding = ValueEncoding::kBytes;
  EXPECT_EQ(decode_one(bits, std::string_view("\x0a\xaa", 2)), "\\x0aaa");
}

TEST(MySqlBinlogRows, NullsAndAbsentColumns) {
  const std::vector<BinlogColumn> columns{column(kTiny), column(kTiny), column(kTiny)};
  // Columns 0 and 2 present; of those, the second (column 2) is NULL.
  const std::string image = std::string("\x02", 1) + std::string("\x07", 1);
  std::string_view data(image);
  const auto tuple = decode_row(data, columns, {true, false, true});
  EXPECT_EQ(tuple[0].text, "7");
  EXPECT_EQ(tuple[1].kind, ValueKind::kNull);
  EXPECT_EQ(tuple[2].kind, ValueKind::kNull);
  std::string short_image("\x00", 1);
  std::string_view cut(short_image);
  EXPECT_THROW(decode_row(cut, columns, {true, true, true}), BinlogFormatError);
}

TEST(MySqlBinlogPositions, FileAndOffsetRoundTripInLogOrder) {
  std::string basename;
  const auto position = parse_binlog_position("mysql-bin-changelog.000024:373", &basename);
  ASSERT_TRUE(position);
  EXPECT_EQ(basename, "mysql-bin-changelog");
  EXPECT_EQ(position_file(*position), 24U);
  EXPECT_EQ(position_offset(*position), 373U);
  EXPECT_EQ(format_binlog_position(basename, *position), "mysql-bin-changelog.000024:373");
  EXPECT_LT(*parse_binlog_position("b.000024:99999"), *parse_binlog_position("b.000025:4"));
  for (const char* bad : {"", "mysql-bin:12", "b.000001", "b.000001:", "b.x:1", "../b.000001:4",
                          "4AF/B00000D0", "b.000001:12x"}) {
    EXPECT_FALSE(parse_binlog_position(bad)) << bad;
  }
  EXPECT_EQ(parse_labels("enum('a','it''s','c,d')"),
            (std::vector<std::string>{"a", "it's", "c,d"}));
}

}  // namespace
