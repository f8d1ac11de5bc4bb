#pragma once

// The run lifecycle a replication task and a serverless replication share: start a run, hand it
// to the data plane, apply what the data plane reports, stop it, and settle runs interrupted by
// a restart or a shutdown. What differs between the two resources is said by a Shape:
//
//   using Status = TaskStatus;                  // the resource's status enum (kStarting, kRunning,
//                                               // kStopping, kStopped, kFailed)
//   static constexpr ResourceKind kKind;
//   static constexpr std::string_view kNoun;    // "task": "only a running task can be stopped"
//   static constexpr const char* kStatsMember;  // ReplicationTaskStats, ReplicationStats
//   static std::string what(const Record&);     // "Replication task x", for messages
//   static nlohmann::json& run_state(Record&);  // the object holding Status and StopReason
//   static bool can_start(Status);
//   static void clear_failure(nlohmann::json& state);
//   static void record_failure(nlohmann::json& state, const std::string& message);
//   static void touch(nlohmann::json& state, const nlohmann::json& now);  // any run change
//   static void mark_ended(nlohmann::json& state, const nlohmann::json& now);
//   static void record_checkpoint(Record&, const std::string& recovery_checkpoint);
//   // The run goes to the data plane: the status it shows then, and what it runs.
//   static void hand_over(Record&, const nlohmann::json& now);
//   static void stopped_before_hand_over(nlohmann::json& state);
//   static TaskRun run_of(const Store&, const Record&);
#include <fmt/format.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/dms_api/control_plane.hpp"
#include "server/dms_api/events.hpp"
#include "server/dms_api/resource_status.hpp"
#include "server/dms_api/run_types.hpp"

namespace dagster_dms::server {

// The stop reasons the control plane itself gives; a data plane's own (FULL_LOAD_ONLY_FINISHED,
// ...) come with on_finished.
inline constexpr std::string_view kStopReasonNormal = "Stop Reason NORMAL";
inline constexpr std::string_view kStopReasonFatal = "Stop Reason FATAL_ERROR";
inline constexpr std::string_view kStopReasonRecoverable = "Stop Reason RECOVERABLE_ERROR";

// What a Shape does when it has nothing to add to a step.
struct RunShapeDefaults {
  static void touch(nlohmann::json& /*state*/, const nlohmann::json& /*now*/) {}
  static void mark_ended(nlohmann::json& /*state*/, const nlohmann::json& /*now*/) {}
  static void record_checkpoint(Record& /*record*/, const std::string& /*checkpoint*/) {}
  static void stopped_before_hand_over(nlohmann::json& /*state*/) {}
};

template <class Shape>
class RunLifecycle {
 public:
  using Status = typename Shape::Status;

  explicit RunLifecycle(ControlPlane& plane) : plane_(plane) {}

  // Start*, after the resource's own checks and changes to `record`: refuses a resource that
  // cannot start now or a start type its run count forbids, then records a new run in
  // `starting` (fresh statistics unless it resumes) and stores it. The data plane gets the run
  // task_start_delay later.
  // `now` is the run's StartDate.
  void start(Record& record, std::string_view start_type, const nlohmann::json& now) const {
    auto& state = Shape::run_state(record);
    const auto status = status_in<Status>(state);
    if (!Shape::can_start(status)) {
      throw invalid_state(
          fmt::format("{} is {}; it cannot be started now.", Shape::what(record), to_wire(status)));
    }
    const auto runs = record.internal.value("runs", std::int64_t{0});
    check_start_type(Shape::what(record), start_type, runs);

    const auto run_id = record.internal.value("run_id", std::int64_t{0}) + 1;
    record.internal["run_id"] = run_id;
    record.internal["runs"] = runs + 1;
    set_status(state, Status::kStarting);
    state.erase("StopReason");
    Shape::clear_failure(state);
    Shape::touch(state, now);
    auto& stats = stats_of(state);
    if (start_type != kStartTypeResume) {
      stats = {{"FullLoadProgressPercent", 0}, {"TablesLoaded", 0},
               {"TablesLoading", 0},           {"TablesQueued", 0},
               {"TablesErrored", 0},           {"FreshStartDate", now}};
      plane_.store.replace_table_statistics(record.arn, {});
    }
    stats.erase("StopDate");
    stats.erase("ElapsedTimeMillis");
    stats["StartDate"] = now;
    plane_.store.update(Shape::kKind, record);
    record_run_start_event(plane_, Shape::kKind, record);

    // A lifecycle is only a view of the plane: work scheduled for later carries a copy.
    plane_.after_unlock([lifecycle = *this, arn = record.arn, run_id] {
      lifecycle.plane_.scheduler.schedule(
          lifecycle.plane_.options.task_start_delay,
          [lifecycle, arn, run_id] { lifecycle.hand_over(arn, run_id); });
    });
  }

  // Stop*: a running or starting run becomes `stopping`; the data plane is asked to end it once
  // the lock is released (a run it does not have yet ends when it would be handed over).
  void stop(Record& record) const {
    auto& state = Shape::run_state(record);
    const auto status = status_in<Status>(state);
    if (status != Status::kRunning && status != Status::kStarting) {
      throw invalid_state(fmt::format("{} is {}; only a running {} can be stopped.",
                                      Shape::what(record), to_wire(status), Shape::kNoun));
    }
    set_status(state, Status::kStopping);
    Shape::touch(state, plane_.now_json());
    plane_.store.update(Shape::kKind, record);
    if (executing(record)) {
      plane_.after_unlock([&plane = plane_, arn = record.arn] { plane.executor.stop(arn); });
    }
  }

  // Delete*: refused while a run is under way ("<what> is running; <advice>."); the data plane
  // releases what earlier runs left on the endpoints (a CDC slot and its publications, which
  // would otherwise hold WAL forever) once the lock is released.
  void remove(const Record& record, std::string_view advice) const {
    Record copy = record;
    const auto status = status_in<Status>(Shape::run_state(copy));
    if (is_active(status)) {
      throw invalid_state(
          fmt::format("{} is {}; {}.", Shape::what(record), to_wire(status), advice));
    }
    if (record.internal.value("runs", std::int64_t{0}) > 0) {
      plane_.after_unlock([&plane = plane_, run = Shape::run_of(plane_.store, record)] {
        plane.executor.task_deleted(run);
      });
    }
    plane_.store.remove(Shape::kKind, record.arn);
  }

  // At start-up, with the lock held: runs that were under way when the previous process died
  // come back `failed` with a message saying so, never silently `running`.
  void fail_interrupted_runs() const {
    for (auto& record : plane_.store.list_all(Shape::kKind)) {
      auto& state = Shape::run_state(record);
      const auto status = status_in<Status>(state);
      if (!is_active(status)) continue;
      end(record, Status::kFailed, kStopReasonFatal,
          fmt::format("The {} was {} when dms-local stopped unexpectedly; start it again with "
                      "resume-processing or reload-target.",
                      Shape::kNoun, to_wire(status)));
      forget_current_run(record);
      plane_.store.update(Shape::kKind, record);
    }
  }

  // At shutdown, with the lock held: runs under way are recorded as stopped; the ARNs of those
  // the data plane has are added to `executing` (the caller stops them once unlocked).
  void stop_for_shutdown(std::vector<std::string>& executing_arns) const {
    for (auto& record : plane_.store.list_all(Shape::kKind)) {
      if (!is_active(status_in<Status>(Shape::run_state(record)))) continue;
      if (executing(record)) executing_arns.push_back(record.arn);
      end(record, Status::kStopped, kStopReasonNormal, std::nullopt);
      forget_current_run(record);
      plane_.store.update(Shape::kKind, record);
    }
  }

  [[nodiscard]] static bool is_active(Status status) {
    return status == Status::kStarting || status == Status::kRunning || status == Status::kStopping;
  }

 private:
  class Callbacks;

  static nlohmann::json& stats_of(nlohmann::json& state) {
    auto& stats = state[Shape::kStatsMember];
    if (!stats.is_object()) stats = nlohmann::json::object();
    return stats;
  }

  // Whether the data plane has the record's current run: from hand-over on, whatever the status
  // shows (a CDC task run is still `starting` until its slot holds a position).
  static bool executing(const Record& record) {
    return record.internal.value("executing_run", std::int64_t{-1}) ==
           record.internal.value("run_id", std::int64_t{0});
  }

  // Later reports from the data plane belong to a run that is over.
  static void forget_current_run(Record& record) {
    record.internal["run_id"] = record.internal.value("run_id", std::int64_t{0}) + 1;
  }

  // Marks a run over: status, stop reason, failure and the stop date and elapsed time, always
  // from StartDate (a data plane's last progress report may be older than the end).
  void end(Record& record, Status status, std::string_view stop_reason,
           const std::optional<std::string>& failure) const {
    nlohmann::json& state = Shape::run_state(record);
    const nlohmann::json now = plane_.now_json();
    set_status(state, status);
    state["StopReason"] = std::string(stop_reason);
    if (failure) Shape::record_failure(state, *failure);
    Shape::mark_ended(state, now);
    record_run_end_event(plane_, Shape::kKind, record, status == Status::kFailed, stop_reason,
                         failure);
    nlohmann::json& stats = stats_of(state);
    stats["StopDate"] = now;
    if (stats.contains("StartDate")) {
      stats["ElapsedTimeMillis"] = static_cast<std::int64_t>(
          (now.get<double>() - stats["StartDate"].get<double>()) * 1000.0);
    }
  }

  // task_start_delay after a start: the run goes to the data plane, unless it was stopped or
  // replaced meanwhile.
  void hand_over(const std::string& arn, std::int64_t run_id) const {
    TaskRun run;
    {
      const std::lock_guard lock(plane_.mutex);
      if (plane_.shutting_down) return;
      auto record = current_run_record(arn, run_id);
      if (!record) return;
      auto& state = Shape::run_state(*record);
      const auto status = status_in<Status>(state);
      if (status == Status::kStopping) {
        // Stopped before the data plane got it: nothing ran.
        end(*record, Status::kStopped, kStopReasonNormal, std::nullopt);
        Shape::stopped_before_hand_over(state);
        plane_.store.update(Shape::kKind, *record);
        return;
      }
      if (status != Status::kStarting) return;
      Shape::hand_over(*record, plane_.now_json());
      record->internal["executing_run"] = run_id;
      plane_.store.update(Shape::kKind, *record);
      run = Shape::run_of(plane_.store, *record);
    }
    plane_.executor.start(run, std::make_shared<Callbacks>(*this, arn, run_id));
    // A Stop* between the unlock above and the start reached an executor that did not know the
    // run yet, which ignores it: ask again now that it does.
    bool stop_again = false;
    {
      const std::lock_guard lock(plane_.mutex);
      auto record = current_run_record(arn, run_id);
      stop_again = record && status_in<Status>(Shape::run_state(*record)) == Status::kStopping;
    }
    if (stop_again) plane_.executor.stop(arn);
  }

  std::optional<Record> current_run_record(const std::string& arn, std::int64_t run_id) const {
    auto record = plane_.store.find_by_arn(Shape::kKind, arn);
    if (!record || record->internal.value("run_id", std::int64_t{0}) != run_id) {
      return std::nullopt;
    }
    return record;
  }

  // Applies a data-plane report if run `run_id` is still the record's current run.
  template <class Change>
  void apply_report(const std::string& arn, std::int64_t run_id, const Change& change) const {
    const std::lock_guard lock(plane_.mutex);
    auto record = current_run_record(arn, run_id);
    if (!record) return;
    plane_.store.transaction([&] {
      change(*record);
      plane_.store.update(Shape::kKind, *record);
    });
  }

  void report_end(const std::string& arn, std::int64_t run_id, Status status,
                  std::string_view stop_reason, const std::optional<std::string>& failure) const {
    apply_report(arn, run_id, [&](Record& record) {
      if (!is_active(status_in<Status>(Shape::run_state(record)))) return;
      end(record, status, stop_reason, failure);
    });
  }

  ControlPlane& plane_;
};

// Routes a run's reports to its record, tagged with the run they belong to so reports of an
// earlier run (after a stop and a new start) are ignored.
template <class Shape>
class RunLifecycle<Shape>::Callbacks final : public TaskCallbacks {
 public:
  Callbacks(RunLifecycle lifecycle, std::string arn, std::int64_t run_id)
      : lifecycle_(lifecycle), arn_(std::move(arn)), run_id_(run_id) {}

  void on_progress(const dms::ReplicationTaskStats& stats) override {
    // A serverless replication's ReplicationStats has the same members.
    nlohmann::json given;
    dms::to_json(given, stats);
    lifecycle_.apply_report(arn_, run_id_, [&](Record& record) {
      auto& state = Shape::run_state(record);
      if (status_in<Status>(state) != Status::kRunning) return;
      stats_of(state).update(given);
    });
  }

  void on_table_statistics(const std::vector<dms::TableStatistics>& tables) override {
    std::vector<nlohmann::json> documents;
    for (const auto& table : tables) {
      nlohmann::json document;
      dms::to_json(document, table);
      documents.push_back(std::move(document));
    }
    lifecycle_.apply_report(arn_, run_id_, [&](Record& record) {
      lifecycle_.plane_.store.replace_table_statistics(record.arn, documents);
    });
  }

  void on_finished(const std::string& stop_reason) override {
    lifecycle_.report_end(arn_, run_id_, Status::kStopped, stop_reason, std::nullopt);
  }
  void on_failed(const std::string& message) override {
    lifecycle_.report_end(arn_, run_id_, Status::kFailed, kStopReasonFatal, message);
  }
  void on_failed_recoverable(const std::string& message) override {
    lifecycle_.report_end(arn_, run_id_, Status::kFailed, kStopReasonRecoverable, message);
  }
  void on_stopped() override {
    lifecycle_.report_end(arn_, run_id_, Status::kStopped, kStopReasonNormal, std::nullopt);
  }

  void on_running() override {
    lifecycle_.apply_report(arn_, run_id_, [&](Record& record) {
      auto& state = Shape::run_state(record);
      if (status_in<Status>(state) == Status::kStarting) set_status(state, Status::kRunning);
    });
  }

  void on_checkpoint(const std::string& recovery_checkpoint) override {
    lifecycle_.apply_report(arn_, run_id_, [&](Record& record) {
      Shape::record_checkpoint(record, recovery_checkpoint);
    });
  }

 private:
  const RunLifecycle lifecycle_;
  std::string arn_;
  std::int64_t run_id_;
};

}  // namespace dagster_dms::server
