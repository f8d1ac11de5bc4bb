#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include "replicate/pg_connection.hpp"

namespace dagster_dms::replicate {

// Receives the rows of a COPY OUT stream, one complete row (newline included) per call.
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual void write_row(std::string_view row) = 0;
};

struct CopyOutcome {
  std::int64_t rows = 0;
  std::uint64_t bytes = 0;
  bool cancelled = false;
};

// Runs `copy_sql` (a `COPY ... TO STDOUT`) on the source and hands each row to `sink` as it
// arrives, so no table is ever held in memory. The socket is read without blocking, so a stop
// request is noticed within a fraction of a second even while the source is slow; on stop the
// source query is cancelled and the connection is left for the caller to discard.
// `on_rows(total)` is called every `report_every` rows. Throws PgError on a source error.
CopyOutcome stream_copy_out(PgConnection& source, const std::string& copy_sql, RowSink& sink,
                            std::stop_token stop, const std::function<void(std::int64_t)>& on_rows,
                            std::int64_t report_every = 10000);

// A `COPY ... FROM STDIN` on a target connection, fed row by row. libpq buffers the rows and
// sends them in large packets.
class PgCopyInSink : public RowSink {
 public:
  // Starts the COPY; throws PgError if the target refuses it (missing table, bad column...).
  PgCopyInSink(PgConnection& target, const std::string& copy_sql);
  ~PgCopyInSink() override;
  PgCopyInSink(const PgCopyInSink&) = delete;
  PgCopyInSink& operator=(const PgCopyInSink&) = delete;

  void write_row(std::string_view row) override;
  // Ends the COPY and checks the target's verdict; throws PgError if it rejected the data.
  void finish();
  // Ends the COPY with an error so the target discards what it received.
  void abort(const std::string& reason) noexcept;

 private:
  PgConnection& target_;
  bool open_ = false;
};

}  // namespace dagster_dms::replicate
