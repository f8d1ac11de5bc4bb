#include "server/execution/run_validation.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace dagster_dms::server {

namespace {

namespace rep = replicate;
using SteadyClock = std::chrono::steady_clock;

}  // namespace

RunValidation::RunValidation(std::optional<RunValidationContext> context)
    : context_(std::move(context)) {
  if (context_) {
    budget_ = std::make_unique<rep::ValidationBudget>(context_->settings.failure_max_count);
  }
}

RunValidation::~RunValidation() {
  stop();
}

void RunValidation::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void RunValidation::set_listener(Listener on_change, LogSink log) {
  const std::lock_guard lock(mutex_);
  on_change_ = std::move(on_change);
  log_ = std::move(log);
}

void RunValidation::tables_known(const std::vector<rep::TableStatus>& tables) {
  if (!enabled()) return;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& table : tables) {
      tables_[table.source] = table;
      auto& state = states_[table.source];
      if (table.state == rep::TableState::kError) {
        state = {};
        state.state = rep::ValidationState::kTableError;
        state.details = "The table's load failed: some of its data was never migrated.";
      } else if (state.state == rep::ValidationState::kNotEnabled) {
        state.state = rep::ValidationState::kPendingValidation;
      }
    }
  }
}

void RunValidation::queue(const std::vector<rep::TableStatus>& tables, std::chrono::seconds delay) {
  if (!enabled()) return;
  tables_known(tables);
  {
    const std::lock_guard lock(mutex_);
    const auto due = SteadyClock::now() + delay;
    for (const auto& table : tables) {
      if (table.state == rep::TableState::kError) continue;
      const bool waiting = std::any_of(jobs_.begin(), jobs_.end(), [&](const Job& job) {
        return job.table.source == table.source;
      });
      if (!waiting) jobs_.push_back({table, due});
    }
  }
  wake_.notify_all();
}

std::vector<std::string> RunValidation::revalidate(const std::vector<dms::TableToReload>& tables) {
  std::vector<std::string> answers(tables.size());
  if (!enabled()) {
    std::fill(answers.begin(), answers.end(), "the task's run does not validate data");
    return answers;
  }
  {
    const std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < tables.size(); ++i) {
      const rep::QualifiedName name{tables[i].schema_name, tables[i].table_name};
      const auto known = tables_.find(name);
      if (known == tables_.end()) {
        answers[i] = "not a table of this run";
        continue;
      }
      auto& state = states_[name];
      state.state = rep::ValidationState::kPendingRevalidation;
      std::erase_if(jobs_, [&](const Job& job) { return job.table.source == name; });
      jobs_.push_back({known->second, SteadyClock::now()});
    }
  }
  // No notify(): the caller holds the control plane's request, which shows the new state itself.
  wake_.notify_all();
  return answers;
}

void RunValidation::changed(const rep::TableStatus& table, std::int64_t changes) {
  if (!enabled() || changes <= 0) return;
  {
    const std::lock_guard lock(mutex_);
    tables_[table.source] = table;
    auto& state = states_[table.source];
    if (state.state == rep::ValidationState::kTableError) return;
    state.state = rep::ValidationState::kPendingRecords;
    state.pending_records += changes;
    const auto waiting = std::find_if(jobs_.begin(), jobs_.end(), [&](const Job& job) {
      return job.table.source == table.source;
    });
    // Changed rows wait ValidationQueryCdcDelaySeconds, so the apply of a busy table can catch
    // up before its rows are compared; an earlier due comparison keeps its time.
    if (waiting == jobs_.end()) {
      jobs_.push_back(
          {table, SteadyClock::now() + std::chrono::seconds(context_->settings.cdc_delay_seconds)});
    }
  }
  // No notify(): the reporter publishes the run's tables right after telling us.
  wake_.notify_all();
}

void RunValidation::validate_waiting(const std::stop_token& stop) {
  while (auto job = next_job(stop, false)) run_job(*job, stop);
}

void RunValidation::start_background() {
  if (!enabled() || thread_.joinable()) return;
  thread_ = std::jthread([this](const std::stop_token& stop) {
    while (auto job = next_job(stop, true)) run_job(*job, stop);
  });
}

std::optional<RunValidation::Job> RunValidation::next_job(const std::stop_token& stop, bool block) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    if (jobs_.empty()) {
      if (!block) return std::nullopt;
      wake_.wait(lock, stop, [&] { return !jobs_.empty(); });
      continue;
    }
    const auto first = std::min_element(jobs_.begin(), jobs_.end(),
                                        [](const Job& a, const Job& b) { return a.due < b.due; });
    if (first->due <= SteadyClock::now()) {
      auto job = *first;
      jobs_.erase(first);
      return job;
    }
    const auto due = first->due;
    const auto count = jobs_.size();
    // Wakes at the due time, or earlier when a job is added (it may be due sooner).
    wake_.wait_until(lock, stop, due, [&] { return jobs_.size() != count; });
  }
  return std::nullopt;
}

void RunValidation::run_job(const Job& job, const std::stop_token& stop) {
  const auto& context = *context_;
  LogSink log;
  {
    const std::lock_guard lock(mutex_);
    log = log_;
    auto& state = states_[job.table.source];
    if (budget_->exhausted()) {
      // FailureMaxCount passed: the task's validation is suspended for every table left.
      state.state = rep::ValidationState::kSuspendedRecords;
      state.suspended_records = std::max<std::int64_t>(job.table.full_load_rows, 0);
      state.pending_records = 0;
      state.details = fmt::format(
          "Validation suspended: more than FailureMaxCount ({}) records failed in this task.",
          budget_->max());
    } else {
      state.state = rep::ValidationState::kPreparingTable;
    }
  }
  notify();
  if (budget_->exhausted()) return;
  rep::TableValidationRequest request;
  request.source = context.source;
  request.target = context.target;
  request.source_table = job.table.source;
  request.target_table = job.table.target;
  request.task_name = context.task_name;
  request.control_schema = context.control_schema;
  request.table_mappings = context.table_mappings;
  request.settings = context.settings;
  request.stop = stop;
  request.on_progress = [&](const rep::TableValidation& progress) {
    set_state(job.table.source, progress);
  };
  request.log = log;
  const auto result = rep::validate_table(request, *budget_);
  set_state(job.table.source, result);
}

void RunValidation::set_state(const rep::QualifiedName& source, const rep::TableValidation& state) {
  {
    const std::lock_guard lock(mutex_);
    states_[source] = state;
  }
  notify();
}

void RunValidation::notify() const {
  Listener listener;
  {
    const std::lock_guard lock(mutex_);
    listener = on_change_;
  }
  if (listener) listener();
}

rep::TableValidation RunValidation::totals() const {
  rep::TableValidation out;
  const std::lock_guard lock(mutex_);
  for (const auto& [name, state] : states_) {
    out.pending_records += state.pending_records;
    out.failed_records += state.failed_records;
    out.suspended_records += state.suspended_records;
    out.compared_records += state.compared_records;
    out.source_query_seconds = std::max(out.source_query_seconds, state.source_query_seconds);
    out.target_query_seconds = std::max(out.target_query_seconds, state.target_query_seconds);
  }
  return out;
}

rep::TableValidation RunValidation::state_of(const rep::QualifiedName& source) const {
  rep::TableValidation out;
  if (!enabled()) return out;
  const std::lock_guard lock(mutex_);
  const auto found = states_.find(source);
  if (found != states_.end()) return found->second;
  out.state = rep::ValidationState::kPendingValidation;
  return out;
}

}  // namespace dagster_dms::server
