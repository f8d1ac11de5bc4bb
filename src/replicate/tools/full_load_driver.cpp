// replicate_full_load_driver: runs one full load described by a JSON file and prints the result
// as JSON. It exists for the end-to-end tests of the data plane (not installed).
//
//   replicate_full_load_driver REQUEST.json
//
// REQUEST: {"source": {host, port, dbname, user, password},
//           "target": {"postgres": {...}} | {"files": {root, bucket, folder, max_file_size_kb,
//                                                      csv_null_value, add_column_name}},
//           "table_mappings": {...} | "...", "task_settings": {...} | "..."}
// Exit code: 0 finished (table errors included), 1 failed, 2 stopped, 64 bad usage.
#include <chrono>
#include <csignal>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stop_token>

#include "replicate/full_load.hpp"

namespace {

using dagster_dms::replicate::Clock;
namespace rep = dagster_dms::replicate;

std::stop_source g_stop;

rep::PgEndpoint endpoint_from(const nlohmann::json& j) {
  rep::PgEndpoint endpoint;
  endpoint.host = j.value("host", std::string("127.0.0.1"));
  endpoint.port = j.value("port", 5432);
  endpoint.dbname = j.value("dbname", std::string());
  endpoint.user = j.value("user", std::string());
  endpoint.password = dagster_dms::aws::Secret(j.value("password", std::string()));
  return endpoint;
}

std::string as_text(const nlohmann::json& j) {
  return j.is_string() ? j.get<std::string>() : j.dump();
}

double epoch(const std::optional<Clock::time_point>& t) {
  if (!t) return 0;
  return std::chrono::duration<double>(t->time_since_epoch()).count();
}

// Prints events as they happen, so a test can watch a long load.
class PrintingObserver : public rep::FullLoadObserver {
 public:
  void on_log(rep::LogSeverity severity, std::string_view component,
              std::string_view message) override {
    const char letter = severity == rep::LogSeverity::kError     ? 'E'
                        : severity == rep::LogSeverity::kWarning ? 'W'
                                                                 : 'I';
    std::cerr << '[' << component << "]" << letter << ":  " << message << '\n';
  }
  void on_progress(const rep::FullLoadProgress& progress) override {
    max_percent_seen = std::max(max_percent_seen, progress.percent);
    ++progress_events;
  }
  int max_percent_seen = 0;
  int progress_events = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: replicate_full_load_driver REQUEST.json\n";
    return 64;
  }
  nlohmann::json spec;
  try {
    std::ifstream in(argv[1]);
    spec = nlohmann::json::parse(in);
  } catch (const std::exception& error) {
    std::cerr << "cannot read request: " << error.what() << '\n';
    return 64;
  }
  rep::FullLoadRequest request;
  request.source = endpoint_from(spec.at("source"));
  const auto& target = spec.at("target");
  if (target.contains("postgres")) {
    request.target = rep::PostgresTarget{endpoint_from(target["postgres"])};
  } else {
    const auto& files = target.at("files");
    rep::FileTarget file_target;
    file_target.root = files.at("root").get<std::string>();
    file_target.bucket = files.value("bucket", std::string("bucket"));
    file_target.folder = files.value("folder", std::string());
    file_target.max_file_size_kb = files.value("max_file_size_kb", 1048576ULL);
    file_target.csv.null_value = files.value("csv_null_value", std::string());
    file_target.csv.add_column_name = files.value("add_column_name", false);
    request.target = file_target;
  }
  request.table_mappings = as_text(spec.at("table_mappings"));
  if (spec.contains("task_settings")) request.task_settings = as_text(spec["task_settings"]);
  request.stop = g_stop.get_token();
  std::signal(SIGTERM, [](int) { g_stop.request_stop(); });

  PrintingObserver observer;
  const auto started = std::chrono::steady_clock::now();
  const auto result = rep::run_full_load(request, observer);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  nlohmann::json out;
  out["outcome"] = result.outcome == rep::FullLoadOutcome::kFinished  ? "finished"
                   : result.outcome == rep::FullLoadOutcome::kStopped ? "stopped"
                                                                      : "failed";
  out["failure_message"] = result.failure_message;
  out["seconds"] = seconds;
  out["percent"] = result.progress.percent;
  out["max_percent_seen"] = observer.max_percent_seen;
  out["progress_events"] = observer.progress_events;
  out["rows_loaded"] = result.progress.rows_loaded;
  out["bytes_loaded"] = result.progress.bytes_loaded;
  out["tables_loaded"] = result.progress.tables_loaded;
  out["tables_errored"] = result.progress.tables_errored;
  out["tables"] = nlohmann::json::array();
  for (const auto& table : result.tables) {
    out["tables"].push_back({{"SchemaName", table.source.schema},
                             {"TableName", table.source.table},
                             {"TargetSchemaName", table.target.schema},
                             {"TargetTableName", table.target.table},
                             {"TableState", rep::table_state_name(table.state)},
                             {"FullLoadRows", table.full_load_rows},
                             {"EstimatedRows", table.estimated_rows},
                             {"FullLoadStartTime", epoch(table.full_load_start_time)},
                             {"FullLoadEndTime", epoch(table.full_load_end_time)},
                             {"Error", table.error_message}});
  }
  std::cout << out.dump(2) << '\n';
  return result.outcome == rep::FullLoadOutcome::kFinished  ? 0
         : result.outcome == rep::FullLoadOutcome::kStopped ? 2
                                                            : 1;
}
