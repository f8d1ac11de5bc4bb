#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aws/clock.hpp"
#include "dms/model/dms_model.hpp"
#include "server/execution/task_executor.hpp"
#include "server/front/api_error.hpp"
#include "server/runtime/background_work.hpp"
#include "server/runtime/logger.hpp"
#include "server/runtime/scheduler.hpp"
#include "server/store/store.hpp"

namespace dagster_dms::server {

class LogStore;

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
  // Where event-subscription deliveries are logged (dms-local has no SNS); unset: not logged.
  Logger* logger = nullptr;
  // The task logs (CloudWatch Logs), for DescribeReplicationInstanceTaskLogs; unset: every
  // task's log size reads 0.
  const LogStore* task_logs = nullptr;
};

class ControlPlane;

// Whose request this is: resources live per account and per region.
struct RequestContext {
  std::string account;
  std::string region;
};

// One DMS operation: the request body in, the response body out; throws ApiError.
using OperationHandler =
    std::function<nlohmann::json(const RequestContext& context, const nlohmann::json& body)>;
// Operation name (CreateEndpoint, ...) -> the resource handler that answers it.
using OperationTable = std::map<std::string, OperationHandler, std::less<>>;

// An operation's handler, given the control plane it works on.
using ResourceHandler = nlohmann::json (*)(ControlPlane& plane, const RequestContext& context,
                                           const nlohmann::json& body);
// Adds {operation name, handler} pairs to the table, each bound to `plane`.
void add_operations(ControlPlane& plane, OperationTable& table,
                    std::initializer_list<std::pair<const char*, ResourceHandler>> operations);

// A stored document as the API answers it: through the typed model, so the answer has exactly
// the API's shape (and nothing the store keeps beside it).
template <class Model>
nlohmann::json public_document(const nlohmann::json& stored) {
  Model model;
  dms::from_json(stored, model);
  nlohmann::json out;
  dms::to_json(out, model);
  return out;
}

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

// What every DMS resource's handlers share: the store, the clock, the data plane and the one
// mutex that serializes the control plane's writers. Handlers run with `mutex` held (DmsService
// takes it), except that a Describe/List operation is first tried without it inside a
// Store::ReadScope: a handler that then needs to write (a due status change, deferred work)
// throws WriteInReadScope and is run again as a writer. Anything that calls into the data plane
// is deferred with after_unlock().
class ControlPlane {
 public:
  // A time-based status change that is due (`ready_at_ms` has passed), such as creating ->
  // available. Returns whether it changed the record.
  using DueTransition = std::function<bool(Record& record)>;

  ControlPlane(Store& store, TaskExecutor& executor, const aws::Clock& clock,
               ServiceOptions options);

  Store& store;
  TaskExecutor& executor;
  const ServiceOptions options;
  std::mutex mutex;
  bool shutting_down = false;  // under `mutex`: no new run or test result is recorded
  Scheduler scheduler;         // stopped before the resources its work uses go away
  BackgroundWork background;   // connection tests, stopped likewise

  // A resource kind's time-based transitions (a kind may have several, each for its own
  // statuses), applied whenever one of its records is read.
  void on_due(ResourceKind kind, DueTransition transition);

  // The resource `arn` of `kind` in the caller's account and region, with due transitions
  // applied; ResourceNotFoundFault otherwise.
  Record require(const RequestContext& context, ResourceKind kind, const std::string& arn);
  // Every resource of `kind` in the caller's account and region, with due transitions applied.
  std::vector<Record> list_refreshed(const RequestContext& context, ResourceKind kind);
  std::vector<Record> list_all_refreshed(ResourceKind kind);
  // A new resource of `kind` in the caller's account and region, with its ARN (made from
  // `resource_identifier`, or a random resource id); ResourceAlreadyExistsFault when that ARN
  // is in use. Not stored yet.
  Record new_record(const RequestContext& context, ResourceKind kind, std::string identifier,
                    const std::optional<std::string>& resource_identifier);
  // The Tags member of a Create* request; empty keys are refused.
  void put_request_tags(const std::string& arn, const std::optional<std::vector<dms::Tag>>& tags);

  [[nodiscard]] nlohmann::json now_json() const;
  [[nodiscard]] std::int64_t now_millis() const;

  // Work to run once the mutex is released (calls into the data plane).
  void after_unlock(std::function<void()> work) {
    if (Store::reading()) throw WriteInReadScope();
    deferred_.push_back(std::move(work));
  }
  // The deferred work of the operation that just ended (and none left behind).
  std::vector<std::function<void()>> take_deferred();
  void drop_deferred() { deferred_.clear(); }

 private:
  void refresh(ResourceKind kind, Record& record);

  const aws::Clock& clock_;
  std::map<ResourceKind, std::vector<DueTransition>> due_transitions_;
  std::vector<std::function<void()>> deferred_;
};

}  // namespace dagster_dms::server
