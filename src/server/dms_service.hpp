#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aws/clock.hpp"
#include "dms/model/dms_model.hpp"
#include "server/api_error.hpp"
#include "server/scheduler.hpp"
#include "server/store.hpp"
#include "server/task_executor.hpp"

namespace dagster_dms::server {

struct ServiceOptions {
  // How long an instance stays `creating` and a task `creating` before they are usable.
  std::chrono::milliseconds instance_create_delay{1000};
  std::chrono::milliseconds task_create_delay{1000};
  // How long a started task shows `starting` before the data plane gets it.
  std::chrono::milliseconds task_start_delay{500};
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
  // Applies a data-plane report if run `run_id` is still the task's current run.
  void apply_report(const std::string& task_arn, std::int64_t run_id,
                    const std::function<void(Record&)>& change);
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
  Scheduler scheduler_;  // last: its thread stops before the members it uses go away
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

// Endpoint passwords and other secrets never leave the service: moved from `doc` to `internal`.
void move_secrets(nlohmann::json& doc, nlohmann::json& internal);

}  // namespace dagster_dms::server
