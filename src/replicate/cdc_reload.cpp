#include "replicate/cdc_reload.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <future>

namespace dagster_dms::replicate {

namespace {

constexpr std::string_view kApplicationName = "dms-local reload";

std::string names_of(const std::vector<QualifiedName>& tables) {
  std::string out;
  for (const auto& table : tables) out += (out.empty() ? "" : ", ") + table.display();
  return out;
}

// A reloaded table keeps the change counters it had: they count what the stream brought, which
// the reload does not undo.
void keep_counters(TableStatus& loaded, const TableStatus& known) {
  loaded.target = known.target;
  copy_change_counters(loaded, known, [](auto& to, const auto& from) { to = from; });
}

TableStatus* find(std::vector<TableStatus>& tables, const QualifiedName& name) {
  const auto found = std::find_if(tables.begin(), tables.end(),
                                  [&](const TableStatus& table) { return table.source == name; });
  return found == tables.end() ? nullptr : &*found;
}

// Passes the copy's table changes and log lines on to the run's observer; its table plan and
// overall progress stay out of the task's (those are the first load's).
class CopyObserver final : public FullLoadObserver {
 public:
  CopyObserver(CdcObserver& observer, const std::vector<TableStatus>& tables)
      : observer_(observer), tables_(tables) {}

  void on_table_changed(const TableStatus& table) override {
    auto shown = table;
    const auto known = std::find_if(tables_.begin(), tables_.end(),
                                    [&](const TableStatus& t) { return t.source == table.source; });
    if (known != tables_.end()) keep_counters(shown, *known);
    observer_.on_table_changed(shown);
  }
  void on_log(LogSeverity severity, std::string_view component, std::string_view message) override {
    observer_.on_log(severity, component, message);
  }

 private:
  CdcObserver& observer_;
  const std::vector<TableStatus>& tables_;
};

}  // namespace

std::string reload_slot_name(const std::string& slot) {
  return slot.substr(0, 56) + "_reload";
}

void TableReloader::poll(const std::function<void()>& settle) {
  if (waiting() || !request_.take_reloads) return;
  auto asked = request_.take_reloads();
  if (asked.empty()) return;
  tables_ = std::move(asked);
  settle();
  try {
    snapshot_.emplace(PgConnection::open(request_.load.source, kApplicationName, true));
    point_ = snapshot_->create_slot(reload_slot_name(request_.slot), /*export_snapshot=*/true,
                                    /*temporary=*/true);
    observer_.on_log(LogSeverity::kInfo, "TASK_MANAGER",
                     fmt::format("Reload for table(s) {} requested: they are copied as of stream "
                                 "position {}; replication goes on for every table.",
                                 names_of(tables_), format_lsn(point_.consistent_point)));
  } catch (const std::exception& error) {
    snapshot_.reset();
    failure_ = fmt::format(
        "Cannot reload table(s) {}: a temporary replication slot could not be created on the "
        "source (is max_replication_slots reached?): {}",
        names_of(tables_), error.what());
    observer_.on_log(LogSeverity::kError, "SOURCE_CAPTURE", failure_);
  }
}

bool TableReloader::due(Lsn position) const {
  return waiting() && (!failure_.empty() || position >= point_.consistent_point);
}

std::vector<TableStatus> TableReloader::run(std::vector<TableStatus>& tables,
                                            const std::function<void()>& keep_alive) {
  std::vector<TableStatus> loaded;
  if (failure_.empty()) {
    FullLoadRequest load = request_.load;
    load.only_tables = tables_;
    load.source_snapshot = point_.snapshot_name;
    CopyObserver observer(observer_, tables);
    // On its own thread, so that this one can keep the stream's connection alive: a copy may
    // last longer than the server's wal_sender_timeout.
    auto copy = std::async(std::launch::async, [&] { return run_full_load(load, observer); });
    while (copy.wait_for(std::chrono::seconds(1)) != std::future_status::ready) keep_alive();
    auto result = copy.get();
    if (result.outcome == FullLoadOutcome::kFailed) failure_ = result.failure_message;
    loaded = std::move(result.tables);
  }
  snapshot_.reset();  // the temporary slot goes with its connection

  std::vector<TableStatus> reloaded;
  for (const auto& name : tables_) {
    auto* known = find(tables, name);
    if (known == nullptr) continue;
    if (auto* done = find(loaded, name)) {
      keep_counters(*done, *known);
      *known = *done;
    } else {
      known->state = TableState::kError;
      known->error_message = failure_.empty() ? "the table was not reloaded" : failure_;
    }
    known->last_update_time = Clock::now();
    reloaded.push_back(*known);
  }
  if (request_.reloads_finished) request_.reloads_finished(tables_);
  tables_.clear();
  failure_.clear();
  return reloaded;
}

}  // namespace dagster_dms::replicate
