#include "replicate/copy_stream.hpp"

#include <poll.h>

#include <memory>

namespace dagster_dms::replicate {
namespace {

struct FreeMem {
  void operator()(char* buffer) const { PQfreemem(buffer); }
};

// Collects the results after a COPY; the first failure becomes a PgError.
void finish_results(PgConnection& connection) {
  std::optional<PgError> error;
  while (PgResult result{PQgetResult(connection.get())}) {
    const auto status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && !error) {
      error = connection.error_from(result.get());
    }
  }
  if (error) throw *error;
}

void cancel_query(PgConnection& connection) {
  std::unique_ptr<PGcancel, decltype(&PQfreeCancel)> cancel(PQgetCancel(connection.get()),
                                                            &PQfreeCancel);
  if (cancel) {
    char message[256];
    PQcancel(cancel.get(), message, sizeof message);
  }
  // Drain whatever is still in flight so the connection state is defined.
  for (;;) {
    char* raw = nullptr;
    const int n = PQgetCopyData(connection.get(), &raw, 0);
    std::unique_ptr<char, FreeMem> buffer(raw);
    if (n < 0) break;
  }
  while (PgResult result{PQgetResult(connection.get())}) {
  }
}

}  // namespace

CopyOutcome stream_copy_out(PgConnection& source, const std::string& copy_sql, RowSink& sink,
                            std::stop_token stop, const std::function<void(std::int64_t)>& on_rows,
                            std::int64_t report_every) {
  if (PQsendQuery(source.get(), copy_sql.c_str()) != 1) throw source.error_from(nullptr);
  {
    // The first result says whether the COPY started (errors such as a missing table land here).
    PgResult started{PQgetResult(source.get())};
    if (!started || PQresultStatus(started.get()) != PGRES_COPY_OUT) {
      const auto error = source.error_from(started.get());
      while (PgResult rest{PQgetResult(source.get())}) {
      }
      throw error;
    }
  }
  CopyOutcome outcome;
  for (;;) {
    char* raw = nullptr;
    const int n = PQgetCopyData(source.get(), &raw, /*async=*/1);
    std::unique_ptr<char, FreeMem> buffer(raw);
    if (n > 0) {
      sink.write_row(std::string_view(buffer.get(), static_cast<std::size_t>(n)));
      ++outcome.rows;
      outcome.bytes += static_cast<std::uint64_t>(n);
      if (outcome.rows % report_every == 0) {
        if (on_rows) on_rows(outcome.rows);
        if (stop.stop_requested()) {
          cancel_query(source);
          outcome.cancelled = true;
          return outcome;
        }
      }
      continue;
    }
    if (n == 0) {
      // Nothing buffered: wait (briefly, so a stop request is seen) for the socket.
      if (stop.stop_requested()) {
        cancel_query(source);
        outcome.cancelled = true;
        return outcome;
      }
      pollfd fd{PQsocket(source.get()), POLLIN, 0};
      ::poll(&fd, 1, 200);
      if (PQconsumeInput(source.get()) != 1) throw source.error_from(nullptr);
      continue;
    }
    if (n == -1) break;  // the COPY is complete
    throw source.error_from(nullptr);
  }
  finish_results(source);
  if (on_rows) on_rows(outcome.rows);
  return outcome;
}

PgCopyInSink::PgCopyInSink(PgConnection& target, const std::string& copy_sql) : target_(target) {
  PgResult result{PQexec(target_.get(), copy_sql.c_str())};
  if (!result || PQresultStatus(result.get()) != PGRES_COPY_IN) {
    throw target_.error_from(result.get());
  }
  open_ = true;
}

PgCopyInSink::~PgCopyInSink() {
  if (open_) abort("load abandoned");
}

void PgCopyInSink::write_row(std::string_view row) {
  if (PQputCopyData(target_.get(), row.data(), static_cast<int>(row.size())) != 1) {
    throw target_.error_from(nullptr);
  }
}

void PgCopyInSink::finish() {
  open_ = false;
  if (PQputCopyEnd(target_.get(), nullptr) != 1) throw target_.error_from(nullptr);
  finish_results(target_);
}

void PgCopyInSink::abort(const std::string& reason) noexcept {
  if (!open_) return;
  open_ = false;
  if (PQputCopyEnd(target_.get(), reason.c_str()) == 1) {
    while (PgResult result{PQgetResult(target_.get())}) {
    }
  }
}

}  // namespace dagster_dms::replicate
