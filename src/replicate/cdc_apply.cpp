#include "replicate/cdc_apply.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "replicate/ddl.hpp"

namespace dagster_dms::replicate {

namespace {

std::optional<std::string> param(const pgoutput::TupleValue& value) {
  if (value.kind == pgoutput::ValueKind::kText) return value.text;
  return std::nullopt;
}

}  // namespace

std::optional<std::size_t> ChangeApplier::on_relation(const pgoutput::Relation& relation) {
  relations_.erase(relation.id);
  const QualifiedName name{relation.schema, relation.name};
  const auto it = std::find_if(plans_.begin(), plans_.end(),
                               [&](const TablePlan& plan) { return plan.source == name; });
  if (it == plans_.end()) return std::nullopt;
  Binding bound;
  bound.plan = static_cast<std::size_t>(it - plans_.begin());
  for (const auto& column : relation.columns) {
    const auto mapped =
        std::find_if(it->columns.begin(), it->columns.end(),
                     [&](const MappedColumn& c) { return c.source.name == column.name; });
    bound.targets.push_back(mapped == it->columns.end() ? std::string() : mapped->target_name);
  }
  for (const auto& key : it->primary_key) {
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
  const auto* bound = binding(relation);
  if (bound == nullptr) return std::nullopt;
  return bound->plan;
}

const ChangeApplier::Binding* ChangeApplier::binding(std::uint32_t relation) const {
  const auto it = relations_.find(relation);
  return it == relations_.end() ? nullptr : &it->second;
}

void ChangeApplier::execute(const std::string& sql,
                            const std::vector<std::optional<std::string>>& params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    const auto name = fmt::format("dms_local_apply_{}", prepared_.size());
    PgResult result(PQprepare(target_.get(), name.c_str(), sql.c_str(), 0, nullptr));
    if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      throw target_.error_from(result.get());
    }
    it = prepared_.emplace(sql, name).first;
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& value : params) values.push_back(value ? value->c_str() : nullptr);
  PgResult result(PQexecPrepared(target_.get(), it->second.c_str(), static_cast<int>(values.size()),
                                 values.data(), nullptr, nullptr, 0));
  if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    throw target_.error_from(result.get());
  }
}

void ChangeApplier::begin(const pgoutput::Begin& begin) {
  target_.exec("BEGIN");
  open_ = true;
  commit_time_ = begin.commit_time;
}

void ChangeApplier::commit(Lsn end_lsn) {
  // In the same target transaction: the target's data and position always agree.
  if (positions_ != nullptr) positions_->record(end_lsn, commit_time_);
  target_.exec("COMMIT");
  open_ = false;
  durable_ = end_lsn;
}

void ChangeApplier::alter(std::size_t plan, const TargetAlteration& alteration) {
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
  if (!open_) return;
  open_ = false;
  PgResult ignored(PQexec(target_.get(), "ROLLBACK"));
}

std::string ChangeApplier::where_key(const Binding& bound, const pgoutput::Tuple& row,
                                     std::vector<std::optional<std::string>>& params) const {
  std::string sql;
  for (const auto index : bound.key) {
    if (index >= row.size()) throw PgError("XX000", "change row is shorter than its relation");
    params.push_back(param(row[index]));
    sql += fmt::format("{}{} = ${}", sql.empty() ? " WHERE " : " AND ",
                       quote_ident(bound.targets[index]), params.size());
  }
  return sql;
}

std::optional<std::size_t> ChangeApplier::apply(const pgoutput::Insert& change) {
  const auto* bound = binding(change.relation);
  if (bound == nullptr) return std::nullopt;
  std::string columns, values;
  std::vector<std::optional<std::string>> params;
  for (std::size_t i = 0; i < change.new_tuple.size() && i < bound->targets.size(); ++i) {
    if (bound->targets[i].empty()) continue;
    params.push_back(param(change.new_tuple[i]));
    columns += fmt::format("{}{}", columns.empty() ? "" : ", ", quote_ident(bound->targets[i]));
    values += fmt::format("{}${}", values.empty() ? "" : ", ", params.size());
  }
  const auto& plan = plans_[bound->plan];
  execute(
      fmt::format("INSERT INTO {} ({}) VALUES ({})", quote_qualified(plan.target), columns, values),
      params);
  return bound->plan;
}

std::optional<std::size_t> ChangeApplier::apply(const pgoutput::Update& change) {
  const auto* bound = binding(change.relation);
  if (bound == nullptr || bound->key.empty()) return std::nullopt;
  std::string sets;
  std::vector<std::optional<std::string>> params;
  for (std::size_t i = 0; i < change.new_tuple.size() && i < bound->targets.size(); ++i) {
    // An unchanged TOASTed value is not sent: the target keeps what it has.
    if (bound->targets[i].empty() ||
        change.new_tuple[i].kind == pgoutput::ValueKind::kUnchangedToast) {
      continue;
    }
    params.push_back(param(change.new_tuple[i]));
    sets += fmt::format("{}{} = ${}", sets.empty() ? "" : ", ", quote_ident(bound->targets[i]),
                        params.size());
  }
  if (sets.empty()) return bound->plan;
  // The old key when the key changed (or the whole old row under REPLICA IDENTITY FULL),
  // otherwise the new row carries the unchanged key.
  const auto& key_row = change.old_kind != 0 ? change.old_tuple : change.new_tuple;
  const auto where = where_key(*bound, key_row, params);
  const auto& plan = plans_[bound->plan];
  execute(fmt::format("UPDATE {} SET {}{}", quote_qualified(plan.target), sets, where), params);
  return bound->plan;
}

std::optional<std::size_t> ChangeApplier::apply(const pgoutput::Delete& change) {
  const auto* bound = binding(change.relation);
  if (bound == nullptr || bound->key.empty()) return std::nullopt;
  std::vector<std::optional<std::string>> params;
  const auto where = where_key(*bound, change.old_tuple, params);
  const auto& plan = plans_[bound->plan];
  execute(fmt::format("DELETE FROM {}{}", quote_qualified(plan.target), where), params);
  return bound->plan;
}

std::vector<std::size_t> ChangeApplier::apply(const pgoutput::Truncate& change) {
  std::vector<std::size_t> out;
  for (const auto relation : change.relations) {
    const auto* bound = binding(relation);
    if (bound == nullptr) continue;
    target_.exec(truncate_table_sql(plans_[bound->plan].target));
    out.push_back(bound->plan);
  }
  return out;
}

}  // namespace dagster_dms::replicate
