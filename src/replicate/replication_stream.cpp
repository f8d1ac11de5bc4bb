#include "replicate/replication_stream.hpp"

#include <fmt/format.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <memory>
#include <utility>

#include "replicate/ddl.hpp"

namespace dagster_dms::replicate {

namespace {

template <typename T>
T read_be(std::string_view data, std::size_t offset) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    value = (value << 8) | static_cast<unsigned char>(data[offset + i]);
  }
  return static_cast<T>(value);
}

void write_be(std::string& out, std::uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xFF));
  }
}

struct FreeMem {
  void operator()(char* buffer) const { PQfreemem(buffer); }
};

}  // namespace

StreamFrame parse_stream_frame(std::string_view frame) {
  if (frame.empty()) throw pgoutput::ProtocolError("replication: empty frame");
  if (frame[0] == 'w') {
    if (frame.size() < 25) throw pgoutput::ProtocolError("replication: short XLogData frame");
    XLogData out;
    out.start = read_be<std::uint64_t>(frame, 1);
    out.wal_end = read_be<std::uint64_t>(frame, 9);
    out.send_time = read_be<std::int64_t>(frame, 17);
    out.payload = frame.substr(25);
    return out;
  }
  if (frame[0] == 'k') {
    if (frame.size() < 18) throw pgoutput::ProtocolError("replication: short keepalive frame");
    Keepalive out;
    out.wal_end = read_be<std::uint64_t>(frame, 1);
    out.send_time = read_be<std::int64_t>(frame, 9);
    out.reply_requested = frame[17] != 0;
    return out;
  }
  throw pgoutput::ProtocolError(fmt::format("replication: unknown frame type '{}'", frame[0]));
}

std::string standby_status_update(Lsn received, Lsn flushed, Lsn applied, std::int64_t now,
                                  bool reply_requested) {
  std::string out(1, 'r');
  write_be(out, received);
  write_be(out, flushed);
  write_be(out, applied);
  write_be(out, static_cast<std::uint64_t>(now));
  out.push_back(reply_requested ? 1 : 0);
  return out;
}

std::string replication_slot_name(std::string_view task_resource_id) {
  std::string out = "dms_local_";
  for (const char c : task_resource_id) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(std::isalnum(u) ? static_cast<char>(std::tolower(u)) : '_');
  }
  if (out.size() > 63) out.resize(63);
  return out;
}

CreatedSlot ReplicationStream::create_slot(const std::string& slot, bool export_snapshot,
                                           bool temporary) {
  // The pre-15 spelling: every supported server still accepts it.
  const auto result = connection_.exec(fmt::format(
      "CREATE_REPLICATION_SLOT {} {}LOGICAL pgoutput {}", quote_ident(slot),
      temporary ? "TEMPORARY " : "", export_snapshot ? "EXPORT_SNAPSHOT" : "NOEXPORT_SNAPSHOT"));
  CreatedSlot out;
  // Columns: slot_name, consistent_point, snapshot_name, output_plugin.
  const auto point = parse_lsn(PQgetvalue(result.get(), 0, 1));
  if (!point) throw PgError("XX000", "CREATE_REPLICATION_SLOT returned no consistent point");
  out.consistent_point = *point;
  if (!PQgetisnull(result.get(), 0, 2)) out.snapshot_name = PQgetvalue(result.get(), 0, 2);
  return out;
}

void ReplicationStream::start(const std::string& slot, Lsn start,
                              const std::vector<std::string>& publications) {
  std::string names;
  for (const auto& publication : publications) {
    if (!names.empty()) names += ',';
    names += quote_ident(publication);
  }
  const auto sql =
      fmt::format("START_REPLICATION SLOT {} LOGICAL {} (proto_version '1', publication_names {})",
                  quote_ident(slot), format_lsn(start), quote_literal(names));
  PgResult result(PQexec(connection_.get(), sql.c_str()));
  if (!result || PQresultStatus(result.get()) != PGRES_COPY_BOTH) {
    throw connection_.error_from(result.get());
  }
  if (PQsetnonblocking(connection_.get(), 1) != 0) throw connection_.error_from(nullptr);
}

std::optional<std::string> ReplicationStream::take(bool consume) {
  PGconn* const conn = connection_.get();
  if (consume && PQconsumeInput(conn) == 0) throw connection_.error_from(nullptr);
  char* raw = nullptr;
  const int length = PQgetCopyData(conn, &raw, 1);
  const std::unique_ptr<char, FreeMem> buffer(raw);
  if (length > 0) return std::string(raw, static_cast<std::size_t>(length));
  if (length == -1) {
    // The server ended the COPY: its result says why (a dropped slot, a shutdown...).
    PgResult result(PQgetResult(conn));
    throw connection_.error_from(result.get());
  }
  if (length == -2) throw connection_.error_from(nullptr);
  return std::nullopt;
}

bool ReplicationStream::ready() {
  if (!next_) next_ = take(false);
  if (!next_) next_ = take(true);
  return next_.has_value();
}

std::optional<std::string> ReplicationStream::read(std::chrono::milliseconds wait,
                                                   const std::stop_token& stop) {
  if (next_) return std::exchange(next_, std::nullopt);
  PGconn* const conn = connection_.get();
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (auto frame = take(false)) return frame;
    // Nothing buffered: wait for the socket, in short slices so a stop is noticed quickly.
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline || stop.stop_requested()) return take(true);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    pollfd fd{PQsocket(conn), POLLIN, 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 100)));
    if (ready < 0 && errno != EINTR) throw PgError("08006", "replication: poll failed");
    if (ready > 0 && PQconsumeInput(conn) == 0) throw connection_.error_from(nullptr);
  }
}

void ReplicationStream::send_status(Lsn received, Lsn flushed, bool reply_requested) {
  const auto message =
      standby_status_update(received, flushed, flushed,
                            to_pg_timestamp(std::chrono::system_clock::now()), reply_requested);
  if (PQputCopyData(connection_.get(), message.data(), static_cast<int>(message.size())) != 1 ||
      PQflush(connection_.get()) < 0) {
    throw connection_.error_from(nullptr);
  }
}

}  // namespace dagster_dms::replicate
