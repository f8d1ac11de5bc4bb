#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aws/clock.hpp"
#include "dms/model/dms_model.hpp"
#include "server/execution/task_executor.hpp"
#include "server/front/api_error.hpp"
#include "server/runtime/background_work.hpp"
#include "server/runtime/scheduler.hpp"
#include "server/store/store.hpp"

namespace dagster_dms::server {

struct ServiceOptions {
  // How long an instance stays `creating` (or `modifying` after a change applied immediately)
  // and a task `creating` before they are usable.
  std::chrono::milliseconds instance_create_delay{1000};
  std::chrono::milliseconds task_create_delay{1000};
  // How long a started task shows `starting` before the data plane gets it.
  std::chrono::milliseconds task_start_delay{500};
  // Where s3 endpoints live locally (--s3-root), for TestConnection; unset: s3 tests fail.
  std::optional<std::filesystem::path> s3_root;
  // TestConnection's connect timeout for database endpoints.
  std::chrono::seconds connection_test_timeout{5};
};

// Whose request this is: resources live per account and per region.
struct RequestContext {
  std::string account;
  std::string region;
};

// The DMS control plane (AmazonDMSv20160101): validation, state, lifecycle. One mutex serializes
// every operation; the data plane is reached only with that mutex released.
class DmsService {
 public:
  DmsService(Store& store, TaskExecutor& executor, const aws::Clock& clock, ServiceOptions options);
  ~DmsService();
  DmsService(const DmsService&) = delete;
  DmsService& operator=(const DmsService&) = delete;

  // Runs one operation; throws ApiError. Unknown operations answer UnknownOperationException.
  nlohmann::json handle(const RequestContext& context, const std::string& operation,
                        const nlohmann::json& body);

  // At start-up: tasks that were starting, running or stopping when the previous process died
  // come back `failed` with a message saying so, never silently `running`.
  void recover_interrupted_tasks();
  // At shutdown: running tasks are stopped and recorded as stopped; no new work starts.
  void shutdown();
  // Every replication instance of every account and region, as stored (the metrics publisher
  // reads which instances to publish instance metrics for).
  std::vector<Record> replication_instances();

 private:
  using Handler = nlohmann::json (DmsService::*)(const RequestContext&, const nlohmann::json&);
  friend class RunCallbacks;
  friend class ReplicationRunCallbacks;
  friend class SeedLoader;

  // Endpoints (dms_handlers_endpoints.cpp).
  nlohmann::json create_endpoint(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json describe_endpoints(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json modify_endpoint(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json delete_endpoint(const RequestContext& context, const nlohmann::json& body);
  // Replication instances (dms_handlers_instances.cpp).
  nlohmann::json create_instance(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json describe_instances(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json modify_instance(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json delete_instance(const RequestContext& context, const nlohmann::json& body);
  // Replication tasks (dms_handlers_tasks.cpp).
  nlohmann::json create_task(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json describe_tasks(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json modify_task(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json delete_task(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json describe_table_statistics(const RequestContext& context,
                                           const nlohmann::json& body);
  // Start/stop and the data plane's reports (task_lifecycle.cpp).
  nlohmann::json start_task(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json stop_task(const RequestContext& context, const nlohmann::json& body);
  void begin_run(const std::string& task_arn, std::int64_t run_id);
  // The task with its endpoints and their passwords, as a data plane needs it.
  TaskRun task_run_of(const Record& record);
  // The EngineName of a task's source endpoint (empty when it is gone).
  std::string source_engine_of(const Record& task);
  // Applies a data-plane report if run `run_id` is still the task's current run.
  void apply_report(const std::string& task_arn, std::int64_t run_id,
                    const std::function<void(Record&)>& change);
  // TestConnection, DescribeConnections (dms_handlers_connections.cpp).
  nlohmann::json test_connection(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json describe_connections(const RequestContext& context, const nlohmann::json& body);
  void finish_connection_test(const std::string& key, std::int64_t test_id,
                              const std::optional<std::string>& failure);
  // At start-up: a test that was running when the process died comes back failed.
  void recover_interrupted_connections_locked();
  // Connections of an endpoint or instance that is being deleted.
  void remove_connections(const RequestContext& context, const std::string& arn);
  // ReloadTables, ReloadReplicationTables (dms_handlers_reload.cpp).
  nlohmann::json reload_tables(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json reload_replication_tables(const RequestContext& context,
                                           const nlohmann::json& body);
  void reload_known_tables(const std::string& arn, const std::string& what,
                           const std::vector<dms::TableToReload>& tables);
  // Serverless replication configs (dms_handlers_replications.cpp).
  nlohmann::json create_replication_config(const RequestContext& context,
                                           const nlohmann::json& body);
  nlohmann::json describe_replication_configs(const RequestContext& context,
                                              const nlohmann::json& body);
  nlohmann::json modify_replication_config(const RequestContext& context,
                                           const nlohmann::json& body);
  nlohmann::json delete_replication_config(const RequestContext& context,
                                           const nlohmann::json& body);
  nlohmann::json describe_replications(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json describe_replication_table_statistics(const RequestContext& context,
                                                       const nlohmann::json& body);
  // Serverless start/stop and the data plane's reports (replication_lifecycle.cpp).
  nlohmann::json start_replication(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json stop_replication(const RequestContext& context, const nlohmann::json& body);
  void begin_replication_run(const std::string& config_arn, std::int64_t run_id);
  // A config as the task a data plane runs, with its endpoints and their passwords.
  TaskRun replication_run_of(const Record& record);
  void apply_replication_report(const std::string& config_arn, std::int64_t run_id,
                                const std::function<void(Record&)>& change);
  // The serverless parts of recover_interrupted_tasks() and shutdown(), with the lock held.
  void recover_interrupted_replications_locked();
  void stop_replications_for_shutdown_locked(std::vector<std::string>& running);
  // Tags and account attributes (dms_handlers_tags.cpp).
  nlohmann::json add_tags(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json remove_tags(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json list_tags(const RequestContext& context, const nlohmann::json& body);
  nlohmann::json describe_account_attributes(const RequestContext& context,
                                             const nlohmann::json& body);

  // Shared helpers (dms_service.cpp).
  // The resource `arn` of `kind` in the caller's account and region, with lazy status changes
  // applied; ResourceNotFoundFault otherwise.
  Record require(const RequestContext& context, ResourceKind kind, const std::string& arn);
  // Applies the time-based transitions (creating -> available/ready) that are due.
  void refresh(ResourceKind kind, Record& record);
  std::vector<Record> list_refreshed(const RequestContext& context, ResourceKind kind);
  void put_request_tags(const std::string& arn, const std::optional<std::vector<dms::Tag>>& tags);
  [[nodiscard]] nlohmann::json now_json() const;
  [[nodiscard]] std::int64_t now_millis() const;
  // Work to run once the service mutex is released (calls into the data plane).
  void after_unlock(std::function<void()> work) { deferred_.push_back(std::move(work)); }

  Store& store_;
  TaskExecutor& executor_;
  const aws::Clock& clock_;
  ServiceOptions options_;
  std::mutex mutex_;
  std::vector<std::function<void()>> deferred_;
  bool shutting_down_ = false;
  Scheduler scheduler_;        // its thread stops before the members it uses go away
  BackgroundWork background_;  // last, for the same reason (connection tests)
};

// Request parsing with the generated models; a malformed member becomes
// InvalidParameterValueException naming the member.
template <class T>
T parse_request(const nlohmann::json& body) {
  T value;
  try {
    from_json(body, value);
  } catch (const aws::Error& error) {
    throw invalid_parameter(error.what());
  }
  return value;
}

// A serverless replication's public document (stored with its config).
nlohmann::json public_replication(const Record& config);

// The password stored for an endpoint (top level, or only inside PostgreSQLSettings).
std::optional<std::string> stored_password(const Record& endpoint);

// Endpoint passwords and other secrets never leave the service: moved from `doc` to `internal`.
void move_secrets(nlohmann::json& doc, nlohmann::json& internal);

}  // namespace dagster_dms::server
