#include "replicate/premigration_assessments.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include "replicate/catalog.hpp"
#include "replicate/table_mapping.hpp"
#include "replicate/task_settings_defaults.hpp"

namespace dagster_dms::replicate {

namespace {

constexpr std::string_view kApplicationName = "dms-local-premigration-assessment";

bool is_postgres(std::string_view engine) {
  return engine == "postgres" || engine == "aurora-postgresql";
}

bool captures_changes(std::string_view migration_type) {
  return migration_type == "cdc" || migration_type == "full-load-and-cdc";
}

bool loads_tables(std::string_view migration_type) {
  return migration_type == "full-load" || migration_type == "full-load-and-cdc";
}

// The source tables a task selects, with what the assessments need to know of each.
struct ScopedTable {
  TablePlan plan;
  bool has_primary_key = false;
  bool has_unique_constraint = false;  // a unique index without a predicate
  bool replica_identity_full = false;
};

// Types DMS reads as LOBs from a PostgreSQL source (DMS-BEHAVIOUR §3.5): text and bytea, the
// document types, arrays and composite types.
bool is_lob(const SourceColumn& column) {
  static const std::set<std::string, std::less<>> kLobTypes{
      "text", "bytea", "json", "jsonb", "xml", "tsvector", "tsquery", "hstore"};
  return column.is_array || kLobTypes.contains(column.type);
}

// Types DMS does not migrate from a PostgreSQL source: OID large objects are dropped, and full
// text search and range types are listed as not migrating (DMS-BEHAVIOUR §3.5).
bool is_unsupported(const SourceColumn& column) {
  static const std::set<std::string, std::less<>> kUnsupported{
      "oid",           "lo",           "tsvector",       "tsquery",
      "int4range",     "int8range",    "numrange",       "tsrange",
      "tstzrange",     "daterange",    "int4multirange", "int8multirange",
      "nummultirange", "tsmultirange", "tstzmultirange", "datemultirange",
      "txid_snapshot", "pg_snapshot",  "pg_lsn"};
  return kUnsupported.contains(column.type);
}

// Types DMS migrates by turning them into strings: enums and other user-defined types become
// character varying, network addresses STRING(n).
bool is_converted(const SourceColumn& column) {
  static const std::set<std::string, std::less<>> kConverted{"inet", "cidr", "macaddr", "macaddr8"};
  return (column.user_defined && !is_lob(column)) || kConverted.contains(column.type);
}

nlohmann::json table_detail(const ScopedTable& table) {
  return {{"schema", table.plan.source.schema}, {"table", table.plan.source.table}};
}

nlohmann::json column_detail(const ScopedTable& table, const SourceColumn& column) {
  auto detail = table_detail(table);
  detail["column"] = column.name;
  detail["type"] = column.type;
  return detail;
}

std::string table_list(const nlohmann::json& details) {
  std::string out;
  for (const auto& detail : details) {
    if (!out.empty()) out += ", ";
    out += detail.value("schema", "") + "." + detail.value("table", "");
    if (detail.contains("column")) out += "." + detail.value("column", "");
  }
  return out;
}

AssessmentResult verdict(const std::string& name, nlohmann::json details,
                         AssessmentStatus when_found, const std::string& passed,
                         const std::string& found) {
  AssessmentResult result{name, AssessmentStatus::kPassed, passed, std::move(details)};
  if (!result.details.empty()) {
    result.status = when_found;
    result.message = fmt::format("{}: {}", found, table_list(result.details));
  }
  return result;
}

std::string setting(PgConnection& connection, const std::string& name) {
  const auto result =
      connection.exec_params("SELECT current_setting($1, true)", {std::optional(name)});
  if (PQntuples(result.get()) != 1 || PQgetisnull(result.get(), 0, 0) != 0) return {};
  return PQgetvalue(result.get(), 0, 0);
}

long long number(const std::string& text) {
  return std::strtoll(text.c_str(), nullptr, 10);
}

struct Assessment {
  std::string_view name;
  bool (*applies)(const AssessmentScope& scope);
};

bool from_postgres(const AssessmentScope& scope) {
  return is_postgres(scope.source_engine);
}
bool postgres_cdc(const AssessmentScope& scope) {
  return is_postgres(scope.source_engine) && captures_changes(scope.migration_type);
}
bool postgres_to_postgres(const AssessmentScope& scope) {
  return is_postgres(scope.source_engine) && is_postgres(scope.target_engine);
}
bool postgres_full_load(const AssessmentScope& scope) {
  return is_postgres(scope.source_engine) && loads_tables(scope.migration_type);
}

// Every assessment dms-local runs, in the order a run executes them.
constexpr std::array kAssessments{
    Assessment{"table-with-no-primary-key-or-unique-constraint", postgres_cdc},
    Assessment{"unsupported-data-types-in-source", from_postgres},
    Assessment{"table-with-lob-but-without-primary-key-or-unique-constraint", from_postgres},
    Assessment{"full-lob-not-nullable-at-target", postgres_to_postgres},
    Assessment{"postgres-check-dbversion", from_postgres},
    Assessment{"postgres-check-wallevel", postgres_cdc},
    Assessment{"postgres-check-maxwalsenders", postgres_cdc},
    Assessment{"postgres-check-replication-slots-count", postgres_cdc},
    Assessment{"postgres-check-walsenderstimeout", postgres_cdc},
    Assessment{"postgres-check-pk", postgres_cdc},
    Assessment{"postgres-check-pk-lob", from_postgres},
    Assessment{"postgres-check-table-with-array", postgres_full_load},
    Assessment{"postgres-check-preparedtxn", postgres_cdc},
    Assessment{"postgres-check-longrunningtxn", postgres_cdc},
    Assessment{"postgres-check-select-object-privileges", postgres_full_load},
    Assessment{"postgres-check-target-privileges", postgres_to_postgres},
};

}  // namespace

std::string_view assessment_status_name(AssessmentStatus status) {
  switch (status) {
    case AssessmentStatus::kPassed:
      return "passed";
    case AssessmentStatus::kFailed:
      return "failed";
    case AssessmentStatus::kWarning:
      return "warning";
    case AssessmentStatus::kError:
      return "error";
    case AssessmentStatus::kSkipped:
      return "skipped";
    case AssessmentStatus::kCancelled:
      return "cancelled";
  }
  return "error";
}

std::vector<std::string> applicable_assessments(const AssessmentScope& scope) {
  const bool everything =
      scope.source_engine.empty() && scope.target_engine.empty() && scope.migration_type.empty();
  std::vector<std::string> names;
  for (const auto& assessment : kAssessments) {
    if (everything || assessment.applies(scope)) names.emplace_back(assessment.name);
  }
  return names;
}

struct AssessmentSession::State {
  AssessmentInputs inputs;
  std::optional<PgConnection> source;
  std::optional<PgConnection> target;
  std::optional<std::vector<ScopedTable>> tables;
  nlohmann::json settings;

  PgConnection& source_connection() {
    if (!source || !source->healthy()) {
      source.reset();
      source.emplace(open_task_source(inputs.source, kApplicationName));
    }
    return *source;
  }

  PgConnection& target_connection() {
    if (!inputs.target) throw std::runtime_error("the target is not a PostgreSQL database");
    if (!target || !target->healthy()) {
      target.reset();
      target.emplace(PgConnection::open(*inputs.target, kApplicationName));
    }
    return *target;
  }

  // The selected tables, read once per run.
  const std::vector<ScopedTable>& scoped_tables() {
    if (tables) return *tables;
    auto& connection = source_connection();
    const auto mapping = TableMapping::parse(inputs.table_mappings);
    const auto catalog = read_catalog(connection, false);
    std::set<QualifiedName> unique;
    std::set<QualifiedName> identity_full;
    const auto keys = connection.exec(
        "SELECT n.nspname, c.relname, bool_or(i.indisunique AND i.indpred IS NULL AND NOT "
        "i.indisprimary), c.relreplident = 'f' FROM pg_class c JOIN pg_namespace n ON n.oid = "
        "c.relnamespace LEFT JOIN pg_index i ON i.indrelid = c.oid WHERE c.relkind IN ('r', 'p') "
        "GROUP BY n.nspname, c.relname, c.relreplident");
    for (int row = 0; row < PQntuples(keys.get()); ++row) {
      QualifiedName name{PQgetvalue(keys.get(), row, 0), PQgetvalue(keys.get(), row, 1)};
      if (std::string_view(PQgetvalue(keys.get(), row, 2)) == "t") unique.insert(name);
      if (std::string_view(PQgetvalue(keys.get(), row, 3)) == "t") identity_full.insert(name);
    }
    std::map<QualifiedName, const SourceTable*> by_name;
    for (const auto& table : catalog) by_name[table.name] = &table;
    auto& out = tables.emplace();
    for (auto& plan : plan_tables(mapping, catalog)) {
      ScopedTable scoped;
      const auto found = by_name.find(plan.source);
      scoped.has_primary_key = found != by_name.end() && !found->second->primary_key.empty();
      scoped.has_unique_constraint = unique.contains(plan.source);
      scoped.replica_identity_full = identity_full.contains(plan.source);
      scoped.plan = std::move(plan);
      out.push_back(std::move(scoped));
    }
    return out;
  }

  // Collects, over the selected tables, the details `pick` returns.
  nlohmann::json each_table(
      const std::function<void(const ScopedTable&, nlohmann::json& details)>& pick) {
    nlohmann::json details = nlohmann::json::array();
    for (const auto& table : scoped_tables()) pick(table, details);
    return details;
  }

  // The selected tables `keep` picks, as details.
  nlohmann::json tables_where(bool (*keep)(const ScopedTable&)) {
    return each_table([keep](const ScopedTable& table, nlohmann::json& details) {
      if (keep(table)) details.push_back(table_detail(table));
    });
  }

  AssessmentResult run(const std::string& name) {
    if (name == "table-with-no-primary-key-or-unique-constraint") {
      return verdict(
          name, tables_where([](const ScopedTable& table) {
            return !table.has_primary_key && !table.has_unique_constraint;
          }),
          AssessmentStatus::kFailed,
          "Every selected source table has a primary key or a unique constraint.",
          "Source tables without a primary key or unique constraint; DMS cannot apply their "
          "UPDATEs and DELETEs during CDC, so add a primary key or unique constraint to");
    }
    if (name == "unsupported-data-types-in-source") {
      nlohmann::json converted = nlohmann::json::array();
      auto unsupported =
          each_table([&converted](const ScopedTable& table, nlohmann::json& details) {
            for (const auto& column : table.plan.columns) {
              if (is_unsupported(column.source))
                details.push_back(column_detail(table, column.source));
              if (is_converted(column.source)) {
                converted.push_back(column_detail(table, column.source));
              }
            }
          });
      if (!unsupported.empty()) {
        return verdict(name, std::move(unsupported), AssessmentStatus::kFailed, "",
                       "Source columns of data types DMS does not migrate; exclude or convert");
      }
      return verdict(name, std::move(converted), AssessmentStatus::kWarning,
                     "No selected source column has a data type DMS does not support.",
                     "Source columns DMS migrates as character strings");
    }
    if (name == "table-with-lob-but-without-primary-key-or-unique-constraint") {
      return verdict(
          name, each_table([](const ScopedTable& table, nlohmann::json& details) {
            if (table.has_primary_key || table.has_unique_constraint) return;
            for (const auto& column : table.plan.columns) {
              if (is_lob(column.source)) details.push_back(column_detail(table, column.source));
            }
          }),
          AssessmentStatus::kFailed,
          "Every selected source table with LOB columns has a primary key or unique constraint.",
          "LOB columns in source tables without a primary key or unique constraint; DMS "
          "cannot migrate them, so add a key to the table of");
    }
    if (name == "full-lob-not-nullable-at-target") return full_lob_not_nullable(name);
    if (name == "postgres-check-dbversion") {
      const auto version = number(setting(source_connection(), "server_version_num"));
      const auto major = version / 10000;
      AssessmentResult result{
          name, AssessmentStatus::kPassed, fmt::format("Source PostgreSQL {} is supported.", major),
          nlohmann::json::array(
              {{{"setting", "server_version_num"}, {"value", std::to_string(version)}}})};
      if (version < 90400) {
        result.status = AssessmentStatus::kFailed;
        result.message = fmt::format(
            "Source PostgreSQL version {} is older than 9.4, the oldest DMS supports; upgrade "
            "the source.",
            version);
      }
      return result;
    }
    if (name == "postgres-check-wallevel") {
      const auto level = setting(source_connection(), "wal_level");
      return setting_verdict(
          name, "wal_level", level, level == "logical", "wal_level is logical.",
          fmt::format("wal_level is {}; CDC needs logical: set wal_level = logical on the "
                      "source and restart it.",
                      level));
    }
    if (name == "postgres-check-maxwalsenders") {
      const auto senders = setting(source_connection(), "max_wal_senders");
      return setting_verdict(
          name, "max_wal_senders", senders, number(senders) > 1,
          fmt::format("max_wal_senders is {}.", senders),
          fmt::format("max_wal_senders is {}; DMS needs more than 1 for CDC: raise it on the "
                      "source and restart it.",
                      senders));
    }
    if (name == "postgres-check-replication-slots-count") {
      auto& connection = source_connection();
      const auto slots = number(setting(connection, "max_replication_slots"));
      const auto used = connection.exec("SELECT count(*) FROM pg_replication_slots");
      const auto in_use = number(PQgetvalue(used.get(), 0, 0));
      return setting_verdict(
          name, "max_replication_slots", std::to_string(slots), in_use < slots,
          fmt::format("{} of {} replication slots are free.", slots - in_use, slots),
          fmt::format("All {} replication slots (max_replication_slots) are in use; drop an "
                      "unused slot or raise max_replication_slots so the task can create its own.",
                      slots));
    }
    if (name == "postgres-check-walsenderstimeout") {
      auto& connection = source_connection();
      const auto result =
          connection.exec("SELECT setting FROM pg_settings WHERE name = 'wal_sender_timeout'");
      const auto millis = PQntuples(result.get()) == 1 ? number(PQgetvalue(result.get(), 0, 0)) : 0;
      return setting_verdict(
          name, "wal_sender_timeout", std::to_string(millis), millis == 0 || millis >= 10000,
          fmt::format("wal_sender_timeout is {} ms.", millis),
          fmt::format("wal_sender_timeout is {} ms; DMS CDC needs 0 or at least 10000 ms.",
                      millis));
    }
    if (name == "postgres-check-pk") {
      return verdict(
          name, tables_where([](const ScopedTable& table) {
            return !table.has_primary_key && !table.replica_identity_full;
          }),
          AssessmentStatus::kFailed,
          "Every selected source table has a primary key or REPLICA IDENTITY FULL.",
          "Source tables without a primary key (and without REPLICA IDENTITY FULL), whose "
          "changes DMS cannot replicate");
    }
    if (name == "postgres-check-pk-lob") {
      return verdict(name, each_table([](const ScopedTable& table, nlohmann::json& details) {
                       for (const auto& column : table.plan.columns) {
                         const auto& key = table.plan.primary_key;
                         if (is_lob(column.source) &&
                             std::find(key.begin(), key.end(), column.target_name) != key.end()) {
                           details.push_back(column_detail(table, column.source));
                         }
                       }
                     }),
                     AssessmentStatus::kFailed,
                     "No selected source table has a LOB column in its primary key.",
                     "Primary key columns of a LOB type, which DMS cannot replicate");
    }
    if (name == "postgres-check-table-with-array") {
      return verdict(name, each_table([](const ScopedTable& table, nlohmann::json& details) {
                       if (table.has_primary_key) return;
                       for (const auto& column : table.plan.columns) {
                         if (column.source.is_array)
                           details.push_back(column_detail(table, column.source));
                       }
                     }),
                     AssessmentStatus::kFailed,
                     "No selected source table without a primary key has an ARRAY column.",
                     "ARRAY columns in tables without a primary key, which the full load skips");
    }
    if (name == "postgres-check-preparedtxn") {
      const auto result = source_connection().exec("SELECT gid FROM pg_prepared_xacts");
      nlohmann::json details = nlohmann::json::array();
      for (int row = 0; row < PQntuples(result.get()); ++row) {
        details.push_back({{"prepared_transaction", PQgetvalue(result.get(), row, 0)}});
      }
      AssessmentResult out{name, AssessmentStatus::kPassed,
                           "No prepared transaction is open on the source.", details};
      if (!details.empty()) {
        out.status = AssessmentStatus::kFailed;
        out.message = fmt::format(
            "{} prepared transaction(s) are open on the source; creating the replication slot "
            "waits for them: COMMIT PREPARED or ROLLBACK PREPARED them first.",
            details.size());
      }
      return out;
    }
    if (name == "postgres-check-longrunningtxn") {
      const auto result = source_connection().exec(
          "SELECT pid, extract(epoch FROM now() - xact_start)::bigint FROM pg_stat_activity "
          "WHERE xact_start < now() - interval '10 minutes' AND pid <> pg_backend_pid()");
      nlohmann::json details = nlohmann::json::array();
      for (int row = 0; row < PQntuples(result.get()); ++row) {
        details.push_back({{"pid", number(PQgetvalue(result.get(), row, 0))},
                           {"seconds", number(PQgetvalue(result.get(), row, 1))}});
      }
      AssessmentResult out{name, AssessmentStatus::kPassed,
                           "No source transaction has been open for more than 10 minutes.",
                           details};
      if (!details.empty()) {
        out.status = AssessmentStatus::kWarning;
        out.message = fmt::format(
            "{} source transaction(s) have been open for more than 10 minutes; a CDC task "
            "waits for them when it starts.",
            details.size());
      }
      return out;
    }
    if (name == "postgres-check-select-object-privileges") {
      auto& connection = source_connection();
      return verdict(
          name, each_table([&connection](const ScopedTable& table, nlohmann::json& details) {
            const auto result = connection.exec_params(
                "SELECT has_table_privilege(format('%I.%I', $1::text, $2::text), 'SELECT')",
                {table.plan.source.schema, table.plan.source.table});
            if (std::string_view(PQgetvalue(result.get(), 0, 0)) != "t") {
              details.push_back(table_detail(table));
            }
          }),
          AssessmentStatus::kFailed, "The source user may SELECT every selected table.",
          "The source user lacks SELECT on these tables; GRANT it SELECT on");
    }
    if (name == "postgres-check-target-privileges") return target_privileges(name);
    return {name, AssessmentStatus::kSkipped,
            fmt::format("dms-local does not run the individual assessment {}.", name),
            nlohmann::json::array()};
  }

  static AssessmentResult setting_verdict(const std::string& name, const std::string& setting_name,
                                          const std::string& value, bool passed,
                                          std::string passed_message, std::string failed_message) {
    return {name, passed ? AssessmentStatus::kPassed : AssessmentStatus::kFailed,
            passed ? std::move(passed_message) : std::move(failed_message),
            nlohmann::json::array({{{"setting", setting_name}, {"value", value}}})};
  }

  // With LOB support in full or inline mode, DMS writes a LOB column's row first with the column
  // NULL: an existing target column that is NOT NULL fails those rows.
  AssessmentResult full_lob_not_nullable(const std::string& name) {
    const auto merged = with_default_task_settings(
        inputs.task_settings.empty() ? nlohmann::json::object()
                                     : nlohmann::json::parse(inputs.task_settings));
    const auto metadata = merged.value("TargetMetadata", nlohmann::json::object());
    const bool full_or_inline =
        metadata.value("SupportLobs", true) &&
        (metadata.value("FullLobMode", false) || metadata.value("InlineLobMaxSize", 0) > 0);
    if (!full_or_inline) {
      return {name, AssessmentStatus::kPassed,
              "The task uses limited LOB mode; target LOB columns may be NOT NULL.",
              nlohmann::json::array()};
    }
    auto& target = target_connection();
    return verdict(
        name, each_table([&target](const ScopedTable& table, nlohmann::json& details) {
          for (const auto& column : table.plan.columns) {
            if (!is_lob(column.source)) continue;
            const auto result = target.exec_params(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name "
                "= $2 AND column_name = $3 AND is_nullable = 'NO'",
                {table.plan.target.schema, table.plan.target.table, column.target_name});
            if (PQntuples(result.get()) > 0) {
              details.push_back({{"schema", table.plan.target.schema},
                                 {"table", table.plan.target.table},
                                 {"column", column.target_name}});
            }
          }
        }),
        AssessmentStatus::kFailed, "No target LOB column is NOT NULL.",
        "Target LOB columns are NOT NULL, which full and inline LOB modes cannot load; drop the "
        "constraint on");
  }

  // The target user must be able to create the target tables (and its control tables): CREATE on
  // the database, and CREATE and USAGE on each target schema that already exists.
  AssessmentResult target_privileges(const std::string& name) {
    auto& target = target_connection();
    nlohmann::json details = nlohmann::json::array();
    const auto database =
        target.exec("SELECT has_database_privilege(current_database(), 'CREATE')");
    if (std::string_view(PQgetvalue(database.get(), 0, 0)) != "t") {
      details.push_back({{"privilege", "CREATE"}, {"on", "database"}});
    }
    std::set<std::string> schemas;
    for (const auto& table : scoped_tables()) schemas.insert(table.plan.target.schema);
    for (const auto& schema : schemas) {
      const auto result = target.exec_params(
          "SELECT has_schema_privilege(oid, 'CREATE') AND has_schema_privilege(oid, 'USAGE') "
          "FROM pg_namespace WHERE nspname = $1",
          {schema});
      if (PQntuples(result.get()) == 1 && std::string_view(PQgetvalue(result.get(), 0, 0)) != "t") {
        details.push_back({{"privilege", "CREATE, USAGE"}, {"on", "schema"}, {"schema", schema}});
      }
    }
    AssessmentResult out{name, AssessmentStatus::kPassed,
                         "The target user may create tables in the target database and schemas.",
                         details};
    if (!details.empty()) {
      out.status = AssessmentStatus::kFailed;
      std::string what;
      for (const auto& detail : details) {
        if (!what.empty()) what += ", ";
        what += detail.value("privilege", "") + " on " +
                (detail.contains("schema") ? "schema " + detail.value("schema", "")
                                           : std::string("the database"));
      }
      out.message = fmt::format(
          "The target user lacks {}; grant them so DMS can create the target tables.", what);
    }
    return out;
  }
};

AssessmentSession::AssessmentSession(AssessmentInputs inputs) : state_(std::make_unique<State>()) {
  state_->inputs = std::move(inputs);
}

AssessmentSession::~AssessmentSession() = default;

AssessmentResult AssessmentSession::run(const std::string& name) {
  try {
    return state_->run(name);
  } catch (const std::exception& error) {
    return {name, AssessmentStatus::kError,
            fmt::format("The individual assessment could not run: {}", error.what()),
            nlohmann::json::array()};
  }
}

}  // namespace dagster_dms::replicate
