#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "aws/clock.hpp"
#include "server/dms_api/control_plane.hpp"
#include "server/execution/task_executor.hpp"
#include "server/store/store.hpp"

namespace dagster_dms::server {

// The DMS control plane (AmazonDMSv20160101): routes each operation to the resource that owns
// it, holding the one mutex that serializes every operation; the data plane is reached only with
// that mutex released. Each resource keeps its own rules and lifecycle in its own file and
// registers its operations (resources.hpp).
class DmsService {
 public:
  DmsService(Store& store, TaskExecutor& executor, const aws::Clock& clock, ServiceOptions options);
  ~DmsService();
  DmsService(const DmsService&) = delete;
  DmsService& operator=(const DmsService&) = delete;

  // Runs one operation; throws ApiError. Unknown operations answer UnknownOperationException.
  nlohmann::json handle(const RequestContext& context, const std::string& operation,
                        const nlohmann::json& body);

  // At start-up: tasks and replications that were starting, running or stopping when the
  // previous process died come back `failed` with a message saying so, never silently
  // `running`; connection tests under way come back failed.
  void recover_interrupted_tasks();
  // At shutdown: running tasks are stopped and recorded as stopped; no new work starts.
  void shutdown();
  // Every replication instance of every account and region, as stored (the metrics publisher
  // reads which instances to publish instance metrics for).
  std::vector<Record> replication_instances();

  // For seeding (seed.hpp), under the service's lock: the resource of `kind` named
  // `identifier` in the context's account and region, if any.
  std::optional<Record> find_by_identifier(const RequestContext& context, ResourceKind kind,
                                           const std::string& identifier);
  // A seeded resource exists "from the start": no creating -> available wait.
  void make_usable_now(ResourceKind kind, const std::string& arn);

 private:
  ControlPlane plane_;
  OperationTable operations_;  // operation name -> the resource handler that answers it
};

}  // namespace dagster_dms::server
