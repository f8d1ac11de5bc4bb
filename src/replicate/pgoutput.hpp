#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dagster_dms::replicate {

// A WAL position. PostgreSQL prints it as two hex halves, `16/B374D848`.
using Lsn = std::uint64_t;
std::string format_lsn(Lsn lsn);
// Accepts `X/Y` (either case); nullopt for anything else.
std::optional<Lsn> parse_lsn(std::string_view text);

// PostgreSQL timestamps count microseconds from 2000-01-01 UTC.
std::chrono::system_clock::time_point from_pg_timestamp(std::int64_t micros);
std::int64_t to_pg_timestamp(std::chrono::system_clock::time_point when);

// The messages of the pgoutput logical decoding plugin, protocol version 1
// (PostgreSQL docs, "Logical Replication Message Formats").
namespace pgoutput {

class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Begin {
  Lsn final_lsn = 0;  // where the transaction's commit record starts
  std::int64_t commit_time = 0;
  std::uint32_t xid = 0;
};

struct Commit {
  std::uint8_t flags = 0;
  Lsn commit_lsn = 0;  // start of the commit record
  Lsn end_lsn = 0;     // end of it: what a client confirms once the transaction is applied
  std::int64_t commit_time = 0;
};

struct RelationColumn {
  bool key = false;  // part of the replica identity
  std::string name;
  std::uint32_t type_oid = 0;
  std::int32_t type_modifier = -1;
};

// Describes a table before the first change to it in a session (and again after it changed).
struct Relation {
  std::uint32_t id = 0;
  std::string schema;
  std::string name;
  char replica_identity = 'd';  // d default, n nothing, f full, i index
  std::vector<RelationColumn> columns;
};

enum class ValueKind : char { kNull = 'n', kUnchangedToast = 'u', kText = 't' };
struct TupleValue {
  ValueKind kind = ValueKind::kNull;
  std::string text;  // kText only
  friend bool operator==(const TupleValue&, const TupleValue&) = default;
};
using Tuple = std::vector<TupleValue>;

struct Insert {
  std::uint32_t relation = 0;
  Tuple new_tuple;
};

// `old_kind` is 'K' (old key columns only), 'O' (the whole old row, REPLICA IDENTITY FULL) or
// 0 when the key did not change and the new row is enough to find the old one.
struct Update {
  std::uint32_t relation = 0;
  char old_kind = 0;
  Tuple old_tuple;
  Tuple new_tuple;
};

struct Delete {
  std::uint32_t relation = 0;
  char old_kind = 'K';
  Tuple old_tuple;
};

struct Truncate {
  std::uint8_t options = 0;  // 1 CASCADE, 2 RESTART IDENTITY
  std::vector<std::uint32_t> relations;
};

// Origin, Type and logical Message: read and passed over (they change nothing on a target).
struct Other {
  char tag = 0;
};

using Message = std::variant<Begin, Commit, Relation, Insert, Update, Delete, Truncate, Other>;

// Parses one pgoutput message (the payload of an XLogData frame). Throws ProtocolError when the
// bytes are cut short or the tag is unknown.
Message parse_message(std::string_view data);

}  // namespace pgoutput
}  // namespace dagster_dms::replicate
