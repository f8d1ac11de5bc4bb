#include "replicate/validation_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "replicate/ddl.hpp"
#include "replicate/table_mapping.hpp"
#include "replicate/thread_pool.hpp"
#include "replicate/validation_failures.hpp"
#include "replicate/validation_rules.hpp"

namespace dagster_dms::replicate {

namespace {

using Key = std::vector<std::string>;

// A key range (lower, upper]: no bound on a side that is empty.
struct Partition {
  std::optional<Key> lower;
  std::optional<Key> upper;
};

bool collatable(std::string_view type) {
  return type == "text" || type == "name" || type.substr(0, 9) == "character";
}

const SourceColumn* column_named(const SourceTable& table, const std::string& name) {
  for (const auto& column : table.columns) {
    if (column.name == name) return &column;
  }
  return nullptr;
}

// A LOB column, which SkipLobColumns leaves out of the comparison.
bool is_lob(std::string_view type) {
  return type == "text" || type == "bytea" || type == "json" || type == "jsonb" || type == "xml";
}

// The SQL of one side of the comparison: its table, key and compared columns as that side
// types them.
class SideQuery {
 public:
  SideQuery(const SourceTable& table, const std::vector<std::string>& key,
            const std::vector<std::string>& columns, const std::string& filter) {
    table_ = quote_qualified(table.name);
    if (!filter.empty()) where_ = fmt::format("({})", filter);
    for (const auto& name : key) {
      const auto* column = column_named(table, name);
      const std::string type = column ? column->type : "text";
      const bool collate = collatable(type);
      order_.push_back(quote_ident(name) + (collate ? " COLLATE \"C\"" : ""));
      casts_.push_back(fmt::format("::{}{}", type, collate ? " COLLATE \"C\"" : ""));
      select_.push_back(quote_ident(name) + "::text");
    }
    for (const auto& name : columns) select_.push_back(quote_ident(name) + "::text");
  }

  [[nodiscard]] std::string count() const {
    return fmt::format("SELECT count(*) FROM {}{}", table_,
                       where_.empty() ? "" : " WHERE " + where_);
  }

  // Every `size`th key in key order: the upper bounds of the partitions.
  [[nodiscard]] std::string boundaries() const {
    std::string keys, order;
    for (std::size_t i = 0; i < casts_.size(); ++i) {
      keys += fmt::format("{}k{}", i == 0 ? "" : ", ", i);
    }
    std::string inner;
    for (std::size_t i = 0; i < order_.size(); ++i) {
      inner += fmt::format("{}{} AS k{}", i == 0 ? "" : ", ", select_[i], i);
    }
    return fmt::format(
        "SELECT {} FROM (SELECT {}, row_number() OVER (ORDER BY {}) AS n FROM {}{}) AS numbered "
        "WHERE n % $1::bigint = 0 ORDER BY n",
        keys, inner, join(order_), table_, where_.empty() ? "" : " WHERE " + where_);
  }

  // The rows of a partition with its bounds as parameters, lower first.
  [[nodiscard]] std::string rows(const Partition& partition) const {
    std::vector<std::string> conditions;
    if (!where_.empty()) conditions.push_back(where_);
    int parameter = 1;
    const auto bound = [&](const char* op) {
      std::vector<std::string> values;
      for (const auto& cast : casts_) values.push_back(fmt::format("(${}{})", parameter++, cast));
      conditions.push_back(fmt::format("({}) {} ({})", join(order_), op, join(values)));
    };
    if (partition.lower) bound(">");
    if (partition.upper) bound("<=");
    return fmt::format("SELECT {} FROM {}{}{} ORDER BY {}", join(select_), table_,
                       conditions.empty() ? "" : " WHERE ", join(conditions, " AND "),
                       join(order_));
  }

 private:
  static std::string join(const std::vector<std::string>& parts, std::string_view with = ", ") {
    std::string out;
    for (const auto& part : parts) out += (out.empty() ? "" : std::string(with)) + part;
    return out;
  }

  std::string table_;
  std::string where_;  // the selection filter; empty: every row
  std::vector<std::string> order_, casts_, select_;
};

std::vector<std::optional<std::string>> bound_parameters(const Partition& partition) {
  std::vector<std::optional<std::string>> out;
  for (const auto* bound : {&partition.lower, &partition.upper}) {
    if (!*bound) continue;
    for (const auto& part : **bound) out.emplace_back(part);
  }
  return out;
}

std::vector<ValidationRow> fetch_rows(PgConnection& connection, const SideQuery& query,
                                      const Partition& partition, std::size_t key_columns) {
  const auto result = connection.exec_params(query.rows(partition), bound_parameters(partition));
  const int rows = PQntuples(result.get());
  const int fields = PQnfields(result.get());
  std::vector<ValidationRow> out(static_cast<std::size_t>(rows));
  for (int r = 0; r < rows; ++r) {
    auto& row = out[static_cast<std::size_t>(r)];
    for (int f = 0; f < fields; ++f) {
      const bool null = PQgetisnull(result.get(), r, f) != 0;
      std::string value = null ? std::string() : std::string(PQgetvalue(result.get(), r, f));
      if (static_cast<std::size_t>(f) < key_columns) {
        row.key.push_back(std::move(value));
      } else {
        row.values.push_back(null ? std::nullopt : std::optional(std::move(value)));
      }
    }
  }
  return out;
}

std::optional<SourceTable> find_table(PgConnection& connection, const QualifiedName& name) {
  for (auto& table : read_catalog(connection, false)) {
    if (table.name == name) return std::move(table);
  }
  return std::nullopt;
}

// The validation of one table while workers compare its partitions.
class TableRun {
 public:
  TableRun(const TableValidationRequest& request, ValidationBudget& budget, std::int64_t rows)
      : request_(request), budget_(budget) {
    state_.state = ValidationState::kPreparingTable;
    state_.pending_records = rows;
  }

  // A partition compared: `rows` source rows, these failures. False once the table's or the
  // task's failure limit is passed: the remaining partitions are not compared.
  bool compared(std::int64_t rows, const std::vector<RowFailure>& failures, double source_seconds,
                double target_seconds) {
    const std::lock_guard lock(mutex_);
    state_.compared_records += rows;
    state_.source_query_seconds = source_seconds;
    state_.target_query_seconds = target_seconds;
    state_.pending_records = std::max<std::int64_t>(0, state_.pending_records - rows);
    state_.failed_records += static_cast<std::int64_t>(failures.size());
    const bool task_ok = budget_.spend(static_cast<std::int64_t>(failures.size()));
    if (state_.failed_records > request_.settings.table_failure_max_count) {
      suspend(
          fmt::format("Validation suspended: more than TableFailureMaxCount ({}) records "
                      "failed in this table.",
                      request_.settings.table_failure_max_count));
    } else if (!task_ok) {
      suspend(
          fmt::format("Validation suspended: more than FailureMaxCount ({}) records failed "
                      "in this task.",
                      budget_.max()));
    }
    if (request_.on_progress) request_.on_progress(state_);
    return !suspended_;
  }

  [[nodiscard]] bool suspended() const {
    const std::lock_guard lock(mutex_);
    return suspended_;
  }

  // The table's final state: pending rows left by a suspension count as suspended.
  TableValidation finish(bool stopped) {
    const std::lock_guard lock(mutex_);
    if (suspended_) {
      state_.suspended_records += state_.pending_records;
      state_.pending_records = 0;
    }
    if (stopped && !suspended_) {
      state_.state = ValidationState::kPendingValidation;
    } else if (suspended_) {
      // A limit was passed: the table's validation is suspended, whatever failed before it.
      state_.state = ValidationState::kSuspendedRecords;
    } else if (state_.failed_records > 0) {
      state_.state = ValidationState::kMismatchedRecords;
    } else if (state_.suspended_records > 0) {
      state_.state = ValidationState::kSuspendedRecords;
    } else {
      state_.state = ValidationState::kValidated;
    }
    return state_;
  }

 private:
  void suspend(std::string details) {
    if (suspended_) return;
    suspended_ = true;
    state_.details = std::move(details);
    if (request_.log) request_.log(LogSeverity::kWarning, state_.details);
  }

  const TableValidationRequest& request_;
  ValidationBudget& budget_;
  mutable std::mutex mutex_;
  TableValidation state_;
  bool suspended_ = false;
};

}  // namespace

TableValidation validate_table(const TableValidationRequest& request, ValidationBudget& budget) {
  const auto fail = [&](ValidationState state, std::string details) {
    TableValidation out;
    out.state = state;
    out.details = std::move(details);
    if (request.log) request.log(LogSeverity::kError, out.details);
    return out;
  };
  const auto name =
      fmt::format("'{}'.'{}'", request.source_table.schema, request.source_table.table);
  try {
    auto source = open_task_source(request.source, "dms-local validator");
    auto target = open_task_target(request.target, "dms-local validator");
    const auto source_table = find_table(source, request.source_table);
    if (!source_table) {
      return fail(ValidationState::kError,
                  fmt::format("Table {} does not exist on the source.", name));
    }
    if (source_table->primary_key.empty()) {
      TableValidation out;
      out.state = ValidationState::kNoPrimaryKey;
      out.details = "The table has no primary key; DMS validates only tables with one.";
      if (request.log) {
        request.log(LogSeverity::kWarning,
                    fmt::format("Table {} has no primary key and is not validated.", name));
      }
      return out;
    }
    const auto target_table = find_table(target, request.target_table);
    if (!target_table) {
      return fail(ValidationState::kTableError,
                  fmt::format("Table {} does not exist on the target.", name));
    }
    // The table as the task maps it: which rows it selects, what its columns are called on the
    // target.
    std::optional<TablePlan> plan;
    if (!request.table_mappings.empty()) {
      for (auto& planned :
           plan_tables(TableMapping::parse(request.table_mappings), {*source_table})) {
        if (planned.source == request.source_table) plan = std::move(planned);
      }
    }
    const auto target_name = [&](const std::string& source_name) -> std::optional<std::string> {
      if (!plan) return source_name;
      for (const auto& column : plan->columns) {
        if (column.source.name == source_name) return column.target_name;
      }
      return std::nullopt;  // removed by a transformation
    };
    const auto& key = source_table->primary_key;
    std::vector<std::string> target_key;
    for (const auto& key_column : key) {
      const auto mapped = target_name(key_column);
      if (!mapped || column_named(*target_table, *mapped) == nullptr) {
        return fail(
            ValidationState::kError,
            fmt::format("Key column {} of table {} is not on the target.", key_column, name));
      }
      target_key.push_back(*mapped);
    }
    // Compared: the source's non-key columns the target also has.
    std::vector<std::string> columns, target_columns;
    std::vector<ComparedColumn> rules;
    for (const auto& column : source_table->columns) {
      if (std::find(key.begin(), key.end(), column.name) != key.end()) continue;
      const auto mapped = target_name(column.name);
      if (!mapped || column_named(*target_table, *mapped) == nullptr) continue;
      if (request.settings.skip_lob_columns && is_lob(column.type)) continue;
      columns.push_back(column.name);
      target_columns.push_back(*mapped);
      rules.push_back({column.name, compare_as(column.type)});
    }
    const SideQuery source_query(*source_table, key, columns, plan ? plan->source_filter : "");
    const SideQuery target_query(*target_table, target_key, target_columns, "");

    const auto counted = source.exec(source_query.count());
    const std::int64_t rows = std::stoll(PQgetvalue(counted.get(), 0, 0));
    std::vector<Partition> partitions;
    {
      const auto bounds = source.exec_params(source_query.boundaries(),
                                             {std::to_string(request.settings.partition_size)});
      std::optional<Key> lower;
      for (int r = 0; r < PQntuples(bounds.get()); ++r) {
        Key upper;
        for (int f = 0; f < PQnfields(bounds.get()); ++f)
          upper.emplace_back(PQgetvalue(bounds.get(), r, f));
        partitions.push_back({lower, upper});
        lower = std::move(upper);
      }
      // The last range is open: it also catches target rows past the source's last key.
      partitions.push_back({lower, std::nullopt});
    }
    if (request.log) {
      request.log(LogSeverity::kInfo,
                  fmt::format("Validation of table {} started: {} rows in {} partition(s).", name,
                              rows, partitions.size()));
    }

    TableRun run(request, budget, rows);
    ValidationFailureTable failures_table(target, request.control_schema, request.task_name);
    std::mutex next_mutex;
    std::size_t next = 0;
    std::mutex record_mutex;
    const auto workers = std::min<std::size_t>(
        partitions.size(), static_cast<std::size_t>(std::max(1, request.settings.thread_count)));
    run_workers(workers, [&](std::size_t) {
      auto worker_source = open_task_source(request.source, "dms-local validator");
      auto worker_target = open_task_target(request.target, "dms-local validator");
      while (!request.stop.stop_requested() && !run.suspended()) {
        std::size_t index = 0;
        {
          const std::lock_guard lock(next_mutex);
          if (next >= partitions.size()) return;
          index = next++;
        }
        const auto& partition = partitions[index];
        const auto started = std::chrono::steady_clock::now();
        const auto source_rows = fetch_rows(worker_source, source_query, partition, key.size());
        const auto source_done = std::chrono::steady_clock::now();
        const auto target_rows = fetch_rows(worker_target, target_query, partition, key.size());
        const std::chrono::duration<double> source_seconds = source_done - started;
        const std::chrono::duration<double> target_seconds =
            std::chrono::steady_clock::now() - source_done;
        auto failures = compare_partition(rules, source_rows, target_rows);
        {
          // Failures go through the table's one writer connection, a batch at a time.
          const std::lock_guard lock(record_mutex);
          failures_table.record(request.source_table, failures);
        }
        if (!run.compared(static_cast<std::int64_t>(source_rows.size()), failures,
                          source_seconds.count(), target_seconds.count())) {
          return;
        }
      }
    });
    const auto result = run.finish(request.stop.stop_requested());
    if (request.log) {
      request.log(result.failed_records > 0 ? LogSeverity::kWarning : LogSeverity::kInfo,
                  fmt::format("Validation of table {} finished: {}; {} failed, {} suspended "
                              "records.",
                              name, validation_state_name(result.state), result.failed_records,
                              result.suspended_records));
    }
    return result;
  } catch (const std::exception& error) {
    return fail(ValidationState::kError,
                fmt::format("Validation of table {} failed: {}", name, first_line(error.what())));
  }
}

}  // namespace dagster_dms::replicate
