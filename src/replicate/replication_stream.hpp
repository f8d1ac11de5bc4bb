#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "replicate/pg_connection.hpp"
#include "replicate/pgoutput.hpp"

namespace dagster_dms::replicate {

// The frames of the streaming replication protocol inside CopyData (PostgreSQL docs,
// "Streaming Replication Protocol"): a piece of WAL ('w') or a primary keepalive ('k').
struct XLogData {
  Lsn start = 0;
  Lsn wal_end = 0;
  std::int64_t send_time = 0;
  std::string_view payload;  // one pgoutput message; points into the frame
};
struct Keepalive {
  Lsn wal_end = 0;
  std::int64_t send_time = 0;
  bool reply_requested = false;
};
using StreamFrame = std::variant<XLogData, Keepalive>;

// Throws pgoutput::ProtocolError on a short or unknown frame.
StreamFrame parse_stream_frame(std::string_view frame);

// The Standby Status Update ('r') a client sends: what it has received, flushed and applied.
// The server moves the slot's confirmed_flush_lsn to `flushed`, releasing WAL before it.
std::string standby_status_update(Lsn received, Lsn flushed, Lsn applied, std::int64_t now,
                                  bool reply_requested);

// A valid slot/publication name for a task: `dms_local_` + the resource id in lower case,
// anything but [a-z0-9_] turned into `_`, at most 63 characters.
std::string replication_slot_name(std::string_view task_resource_id);

struct CreatedSlot {
  Lsn consistent_point = 0;
  std::string snapshot_name;  // set when the snapshot was exported
};

// A logical replication connection (`replication=database`) on the source.
class ReplicationStream {
 public:
  explicit ReplicationStream(PgConnection connection) : connection_(std::move(connection)) {}

  // CREATE_REPLICATION_SLOT ... LOGICAL pgoutput. With `export_snapshot`, other sessions can
  // `SET TRANSACTION SNAPSHOT` to read the database exactly as of the consistent point; the
  // snapshot lives until this connection runs its next command. A `temporary` slot is dropped
  // when this connection closes.
  CreatedSlot create_slot(const std::string& slot, bool export_snapshot, bool temporary = false);

  // START_REPLICATION from `start` (proto_version 1); afterwards only read() and
  // send_status() are valid. Throws PgError (42704 for a missing slot).
  void start(const std::string& slot, Lsn start, const std::vector<std::string>& publications);

  // The next CopyData frame, or nullopt when none arrived within `wait` (or stop fired).
  // Throws PgError when the server ends the stream or the connection fails.
  std::optional<std::string> read(std::chrono::milliseconds wait, const std::stop_token& stop);
  // Whether a frame has arrived and read() would return it at once (it is kept for read()).
  // Never waits.
  [[nodiscard]] bool ready();

  void send_status(Lsn received, Lsn flushed, bool reply_requested = false);

 private:
  // A whole frame from libpq's buffer (after reading what the socket holds when `consume`), or
  // nullopt; throws like read().
  std::optional<std::string> take(bool consume);

  PgConnection connection_;
  std::optional<std::string> next_;  // the frame ready() saw
};

}  // namespace dagster_dms::replicate
