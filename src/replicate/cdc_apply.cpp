#include "replicate/cdc_apply.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "replicate/ddl.hpp"

namespace dagster_dms::replicate {

namespace {

const char* param(const pgoutput::TupleValue& value) {
  return value.kind == pgoutput::ValueKind::kText ? value.text.c_str() : nullptr;
}

}  // namespace

std::optional<std::size_t> ChangeApplier::on_relation(const pgoutput::Relation& relation) {
  finish_runs();
  relations_.erase(relation.id);
  auto matched = match_relation(plans_, relation);
  if (!matched) return std::nullopt;
  Binding bound;
  bound.plan = matched->plan;
  bound.targets = std::move(matched->targets);
  for (const auto& key : plans_[matched->plan].primary_key) {
    const auto at = std::find(bound.targets.begin(), bound.targets.end(), key);
    if (at == bound.targets.end()) {
      // A key column the source no longer sends: rows cannot be found, as without a key.
      bound.key.clear();
      break;
    }
    bound.key.push_back(static_cast<std::size_t>(at - bound.targets.begin()));
  }
  relations_[relation.id] = std::move(bound);
  return relations_[relation.id].plan;
}

std::optional<std::size_t> ChangeApplier::plan_of(std::uint32_t relation) const {
  const auto it = relations_.find(relation);
  if (it == relations_.end()) return std::nullopt;
  return it->second.plan;
}

ChangeApplier::Binding* ChangeApplier::binding(std::uint32_t relation) {
  const auto it = relations_.find(relation);
  return it == relations_.end() ? nullptr : &it->second;
}

void ChangeApplier::enter_pipeline() {
  if (pipeline_) return;
  if (PQenterPipelineMode(target_.get()) != 1) throw target_.error_from(nullptr);
  pipeline_ = true;
}

void ChangeApplier::send(const std::string& name, const std::vector<const char*>& values) {
  enter_pipeline();
  if (PQsendQueryPrepared(target_.get(), name.c_str(), static_cast<int>(values.size()),
                          values.data(), nullptr, nullptr, 0) != 1) {
    throw target_.error_from(nullptr);
  }
  if (++in_flight_ >= kMaxInFlight) settle(false);
}

const std::unordered_map<std::string, std::string>& ChangeApplier::column_types(std::size_t plan) {
  const auto known = column_types_.find(plan);
  if (known != column_types_.end()) return known->second;
  // Read synchronously: the answers sent for so far are read first.
  settle(true);
  const auto result = target_.exec_params(
      "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
      "WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped",
      {quote_qualified(plans_[plan].target)});
  auto& types = column_types_[plan];
  for (int row = 0; row < PQntuples(result.get()); ++row) {
    types.emplace(PQgetvalue(result.get(), row, 0), PQgetvalue(result.get(), row, 1));
  }
  return types;
}

std::string ChangeApplier::run_sql(const Binding& bound, const std::string& shape) {
  const auto& types = column_types(bound.plan);
  const auto column = [&](std::size_t index) {
    const auto& name = bound.targets[index];
    const auto type = types.find(name);
    if (type == types.end()) {
      throw PgError("42703", fmt::format("column \"{}\" of relation {} does not exist", name,
                                         quote_qualified(plans_[bound.plan].target)));
    }
    return RunColumn{name, type->second};
  };
  std::vector<RunColumn> keys;
  for (const auto index : bound.key) keys.push_back(column(index));
  const auto& table = plans_[bound.plan].target;
  // The shape names the columns sent: 'v' sent, '-' not (see the apply() overloads).
  std::vector<RunColumn> columns;
  for (std::size_t i = 1; i < shape.size(); ++i) {
    if (shape[i] == 'v') columns.push_back(column(i - 1));
  }
  switch (shape[0]) {
    case 'I':
      return insert_run_sql(table, columns);
    case 'U':
      return update_run_sql(table, columns, keys);
    default:
      return delete_run_sql(table, keys);
  }
}

void ChangeApplier::copy_row(Binding& bound) {
  PGconn* const conn = target_.get();
  if (copy_binding_ != &bound || copy_shape_ != shape_) {
    finish_runs();
    // COPY cannot share libpq's pipeline: the answers sent for so far are read first.
    settle(true);
    std::vector<std::string> columns;
    for (std::size_t i = 1; i < shape_.size(); ++i) {
      if (shape_[i] == 'v') columns.push_back(bound.targets[i - 1]);
    }
    const auto sql = copy_run_sql(plans_[bound.plan].target, columns);
    if (PQsendQuery(conn, sql.c_str()) != 1) throw target_.error_from(nullptr);
    PgResult started(PQgetResult(conn));
    if (!started || PQresultStatus(started.get()) != PGRES_COPY_IN) {
      failed_ = true;
      const auto error = target_.error_from(started.get());
      drain_results();
      throw error;
    }
    copy_binding_ = &bound;
    copy_shape_ = shape_;
  }
  copy_line_.clear();
  append_copy_text_row(copy_line_, values_);
  if (PQputCopyData(conn, copy_line_.data(), static_cast<int>(copy_line_.size())) != 1) {
    copy_binding_ = nullptr;
    failed_ = true;
    // The target may have refused a row already: its message says why.
    throw drain_results().value_or(target_.error_from(nullptr));
  }
  ++group_changes_;
  group_bytes_ += copy_line_.size();
}

void ChangeApplier::end_copy() {
  if (copy_binding_ == nullptr) return;
  copy_binding_ = nullptr;
  PGconn* const conn = target_.get();
  const bool ended = PQputCopyEnd(conn, nullptr) == 1;
  auto error = drain_results();
  if (!ended && !error) error = target_.error_from(nullptr);
  if (error) {
    failed_ = true;
    throw *error;
  }
}

std::optional<PgError> ChangeApplier::drain_results() {
  std::optional<PgError> error;
  while (PgResult result{PQgetResult(target_.get())}) {
    const auto status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_COPY_IN && !error) {
      error = target_.error_from(result.get());
    }
  }
  return error;
}

void ChangeApplier::add_to_run(Binding& bound, const std::vector<const char*>* update_key) {
  end_copy();
  // A run updates each row once: a second change to a row starts a new run.
  const bool joins = run_binding_ == &bound && run_.continues(shape_) &&
                     (update_key == nullptr || run_.remember_key(*update_key));
  if (!joins) {
    send_run();
    run_.start(shape_, values_.size());
    run_binding_ = &bound;
    if (update_key != nullptr) run_.remember_key(*update_key);
  }
  const auto before = run_.bytes();
  run_.add(values_);
  ++group_changes_;
  group_bytes_ += run_.bytes() - before;
  if (run_.rows() >= kMaxRunRows || run_.bytes() >= kMaxRunBytes) send_run();
}

void ChangeApplier::send_run() {
  if (run_.rows() == 0) return;
  // run_binding_ is in relations_: a run is sent before its binding is replaced.
  auto& bound = *run_binding_;
  const auto& name =
      statement(bound, "S" + run_.shape(), [&] { return run_sql(bound, run_.shape()); });
  send(name, run_.parameters());
  run_.clear();
}

void ChangeApplier::send_text(const char* sql) {
  enter_pipeline();
  if (PQsendQueryParams(target_.get(), sql, 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
    throw target_.error_from(nullptr);
  }
  ++in_flight_;
}

void ChangeApplier::sync(std::optional<Lsn> commits) {
  if (PQpipelineSync(target_.get()) != 1) throw target_.error_from(nullptr);
  in_flight_ = 0;
  syncs_.push_back(commits);
}

void ChangeApplier::settle(bool leave) {
  if (!pipeline_) return;
  if (in_flight_ > 0) sync(std::nullopt);
  collect(true);
  if (leave) {
    if (PQexitPipelineMode(target_.get()) != 1) throw target_.error_from(nullptr);
    pipeline_ = false;
  }
}

void ChangeApplier::collect(bool wait) {
  PGconn* const conn = target_.get();
  int idle = 0;
  while (!syncs_.empty()) {
    if (!wait) {
      if (PQconsumeInput(conn) != 1) {
        failed_ = true;
        throw target_.error_from(nullptr);
      }
      if (PQisBusy(conn) == 1) break;
    }
    PgResult result(PQgetResult(conn));
    if (!result) {
      // Each statement's answers end with a null; two in a row mean nothing more is coming.
      if (++idle > 1 || PQstatus(conn) == CONNECTION_BAD) {
        failed_ = true;
        auto error = error_.value_or(target_.error_from(nullptr));
        error_.reset();
        throw error;
      }
      continue;
    }
    idle = 0;
    const auto status = PQresultStatus(result.get());
    if (status == PGRES_PIPELINE_SYNC) {
      // Everything before this sync is answered: a COMMIT among it is durable unless a
      // statement failed (the target then skipped the rest, COMMIT included).
      if (!error_ && syncs_.front()) durable_ = *syncs_.front();
      syncs_.pop_front();
      continue;
    }
    // After a failure the target skips the rest up to the sync: PGRES_PIPELINE_ABORTED.
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK &&
        status != PGRES_PIPELINE_ABORTED && !error_) {
      error_ = target_.error_from(result.get());
    }
  }
  if (error_) {
    failed_ = true;
    auto error = *error_;
    error_.reset();
    throw error;
  }
}

template <typename Build>
const std::string& ChangeApplier::statement(Binding& bound, const std::string& shape, Build build) {
  auto& name = bound.statements[shape];
  if (name.empty()) {
    const auto sql = build();
    auto prepared = fmt::format("dms_local_apply_{}", statements_prepared_++);
    enter_pipeline();
    if (PQsendPrepare(target_.get(), prepared.c_str(), sql.c_str(), 0, nullptr) != 1) {
      throw target_.error_from(nullptr);
    }
    ++in_flight_;
    name = std::move(prepared);
  }
  return name;
}

void ChangeApplier::begin(const pgoutput::Begin& begin) {
  if (!target_open_) {
    send_text("BEGIN");
    target_open_ = true;
    group_started_ = Clock::now();
  }
  open_ = true;
  commit_time_ = begin.commit_time;
}

void ChangeApplier::commit(Lsn end_lsn) {
  open_ = false;
  committed_since_flush_ = true;
  ++grouped_;
  group_end_ = end_lsn;
  group_commit_time_ = commit_time_;
}

bool ChangeApplier::group_due() const {
  const auto age = Clock::now() - group_started_;
  if (tuning_.batch_apply) {
    if (age >= tuning_.batch_timeout_max) return true;
    if (tuning_.batch_split_size > 0 && group_changes_ >= tuning_.batch_split_size) return true;
    if (group_bytes_ >= tuning_.batch_memory_limit_bytes) return true;
    return !backlog_ && age >= tuning_.batch_timeout_min;
  }
  // Source transactions with no change to apply count too: the group's position moves on.
  const auto size = std::max<std::uint64_t>(group_changes_, static_cast<std::uint64_t>(grouped_));
  return !backlog_ || size >= tuning_.min_transaction_size || age >= tuning_.commit_timeout;
}

bool ChangeApplier::holding() const {
  // COMMIT answers are due: the engine reads on at once, and waits for them when it finds
  // nothing (flush() on a quiet stream).
  if (!syncs_.empty()) return true;
  if (grouped_ == 0) return false;
  return !tuning_.batch_apply || Clock::now() - group_started_ >= tuning_.batch_timeout_min;
}

void ChangeApplier::flush(bool force) {
  const bool after_commit = std::exchange(committed_since_flush_, false);
  if (grouped_ > 0 && !open_ && (force || group_due())) commit_group();
  if (syncs_.empty() || open_) return;
  // Right after a source transaction's commit the stream may already hold the next one: its
  // statements then go out behind this COMMIT while the target works on it, and the answers
  // are read as they come. Forced, or on a quiet stream, wait for them.
  collect(force || !after_commit);
}

void ChangeApplier::commit_group() {
  finish_runs();
  enter_pipeline();
  // In the same target transaction: the target's data and position always agree.
  if (positions_ != nullptr) positions_->record(group_end_, group_commit_time_);
  send_text("COMMIT");
  // durable_ moves once the answers are read (collect()).
  sync(group_end_);
  target_open_ = false;
  grouped_ = 0;
  group_changes_ = 0;
  group_bytes_ = 0;
}

void ChangeApplier::alter(std::size_t plan, const TargetAlteration& alteration) {
  finish_runs();
  settle(true);
  // Statements cast to the column types they were built with; the relation that follows this
  // change rebinds the table and builds them again.
  column_types_.erase(plan);
  const auto& table = plans_[plan].target;
  for (const auto& name : alteration.dropped) {
    target_.exec(drop_column_sql(table, name));
  }
  for (const auto& column : alteration.added) {
    target_.exec(add_column_sql(table, column));
  }
  for (const auto& column : alteration.retyped) {
    target_.exec(alter_column_type_sql(table, column));
  }
}

void ChangeApplier::rollback() noexcept {
  // Whole source transactions waiting for their COMMIT stay for flush().
  if (!open_ && !failed_) return;
  PGconn* const conn = target_.get();
  if (copy_binding_ != nullptr) {
    copy_binding_ = nullptr;
    if (PQputCopyEnd(conn, "the source transaction was not applied") == 1) drain_results();
  }
  if (pipeline_) {
    // Reads every answer still due, to leave pipeline mode: the groups committed before a
    // failure still count as durable.
    try {
      if (in_flight_ > 0) sync(std::nullopt);
      collect(true);
    } catch (const std::exception&) {
      // The failure was reported where it happened; a lost connection ends here too.
    }
    syncs_.clear();
    in_flight_ = 0;
    PQexitPipelineMode(conn);
    pipeline_ = false;
  }
  open_ = false;
  failed_ = false;
  grouped_ = 0;
  group_changes_ = 0;
  group_bytes_ = 0;
  if (target_open_) {
    target_open_ = false;
    PgResult ignored(PQexec(conn, "ROLLBACK"));
  }
}

void ChangeApplier::key_values(const Binding& bound, const pgoutput::Tuple& row) {
  for (const auto index : bound.key) {
    if (index >= row.size()) throw PgError("XX000", "change row is shorter than its relation");
    values_.push_back(param(row[index]));
  }
}

std::string ChangeApplier::where_key(const Binding& bound, std::size_t first) const {
  std::string sql;
  for (const auto index : bound.key) {
    sql += fmt::format("{}{} = ${}", sql.empty() ? " WHERE " : " AND ",
                       quote_ident(bound.targets[index]), first++);
  }
  return sql;
}

std::optional<std::size_t> ChangeApplier::apply(const pgoutput::Insert& change) {
  auto* bound = binding(change.relation);
  if (bound == nullptr) return std::nullopt;
  const auto width = std::min(change.new_tuple.size(), bound->targets.size());
  shape_.assign(1, 'I');
  values_.clear();
  for (std::size_t i = 0; i < width; ++i) {
    const bool sent = !bound->targets[i].empty();
    shape_ += sent ? 'v' : '-';
    if (sent) values_.push_back(param(change.new_tuple[i]));
  }
  // Inserts go as a run, which shares the pipeline with the transaction's other statements (no
  // wait for the target). Once a backlog has filled a run's worth of the target transaction they
  // stream in with COPY, which costs a wait for the answers sent before it: worth it for a
  // drain, not for the short bursts of a paced stream, whose latency it would add to.
  const bool copying = copy_binding_ == bound && copy_shape_ == shape_;
  if (copying || (backlog_ && group_changes_ >= kMaxRunRows)) {
    copy_row(*bound);
  } else {
    add_to_run(*bound);
  }
  return bound->plan;
}

bool ChangeApplier::same_key(const Binding& bound, const pgoutput::Tuple& old_row,
                             const pgoutput::Tuple& new_row) {
  for (const auto index : bound.key) {
    if (index >= old_row.size() || index >= new_row.size()) return false;
    const auto& before = old_row[index];
    const auto& after = new_row[index];
    if (after.kind == pgoutput::ValueKind::kUnchangedToast) continue;
    if (before.kind != after.kind || before.text != after.text) return false;
  }
  return true;
}

std::optional<std::size_t> ChangeApplier::apply(const pgoutput::Update& change) {
  auto* bound = binding(change.relation);
  if (bound == nullptr || bound->key.empty()) return std::nullopt;
  const auto width = std::min(change.new_tuple.size(), bound->targets.size());
  // An unchanged TOASTed value is not sent: the target keeps what it has.
  const auto sent = [&](std::size_t i) {
    return !bound->targets[i].empty() &&
           change.new_tuple[i].kind != pgoutput::ValueKind::kUnchangedToast;
  };
  shape_.assign(1, 'U');
  values_.clear();
  for (std::size_t i = 0; i < width; ++i) {
    shape_ += sent(i) ? 'v' : '-';
    if (sent(i)) values_.push_back(param(change.new_tuple[i]));
  }
  if (values_.empty()) return bound->plan;
  const auto set_count = values_.size();
  // The old key when the key changed (or the whole old row under REPLICA IDENTITY FULL),
  // otherwise the new row carries the unchanged key.
  const bool has_old = change.old_kind != 0;
  key_values(*bound, has_old ? change.old_tuple : change.new_tuple);
  if (!has_old || same_key(*bound, change.old_tuple, change.new_tuple)) {
    const std::vector<const char*> key(values_.begin() + static_cast<std::ptrdiff_t>(set_count),
                                       values_.end());
    add_to_run(*bound, &key);
    return bound->plan;
  }
  // The key itself changes: on its own, so rows that take over each other's keys in one source
  // transaction (a swap through a third key) are updated in the source's order.
  finish_runs();
  const auto& name = statement(*bound, shape_, [&] {
    std::string sets;
    std::size_t n = 0;
    for (std::size_t i = 0; i < width; ++i) {
      if (!sent(i)) continue;
      sets +=
          fmt::format("{}{} = ${}", sets.empty() ? "" : ", ", quote_ident(bound->targets[i]), ++n);
    }
    return fmt::format("UPDATE {} SET {}{}", quote_qualified(plans_[bound->plan].target), sets,
                       where_key(*bound, set_count + 1));
  });
  send(name, values_);
  ++group_changes_;
  return bound->plan;
}

std::optional<std::size_t> ChangeApplier::apply(const pgoutput::Delete& change) {
  auto* bound = binding(change.relation);
  if (bound == nullptr || bound->key.empty()) return std::nullopt;
  shape_.assign(1, 'D');
  values_.clear();
  key_values(*bound, change.old_tuple);
  add_to_run(*bound);
  return bound->plan;
}

std::vector<std::size_t> ChangeApplier::apply(const pgoutput::Truncate& change) {
  std::vector<std::size_t> out;
  for (const auto relation : change.relations) {
    const auto* bound = binding(relation);
    if (bound == nullptr) continue;
    finish_runs();
    settle(true);
    target_.exec(truncate_table_sql(plans_[bound->plan].target));
    out.push_back(bound->plan);
  }
  return out;
}

}  // namespace dagster_dms::replicate
