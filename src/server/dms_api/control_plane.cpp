#include "server/dms_api/control_plane.hpp"

#include <fmt/format.h>

namespace dagster_dms::server {

ControlPlane::ControlPlane(Store& store, TaskExecutor& executor, const aws::Clock& clock,
                           ServiceOptions options)
    : store(store), executor(executor), options(std::move(options)), clock_(clock) {}

void ControlPlane::on_due(ResourceKind kind, DueTransition transition) {
  due_transitions_[kind].push_back(std::move(transition));
}

Record ControlPlane::require(const RequestContext& context, ResourceKind kind,
                             const std::string& arn) {
  auto record = store.find_by_arn(kind, arn);
  if (!record || record->account != context.account || record->region != context.region) {
    switch (kind) {
      case ResourceKind::kEndpoint:
        throw not_found(fmt::format("Endpoint {} not found", arn));
      case ResourceKind::kInstance:
        throw not_found(fmt::format("Replication instance {} not found", arn));
      case ResourceKind::kTask:
        throw not_found(fmt::format("Replication Task {} not found", arn));
      case ResourceKind::kConnection:
        throw not_found(fmt::format("Connection {} not found", arn));
      case ResourceKind::kReplicationConfig:
        throw not_found(fmt::format("Replication config {} not found", arn));
      case ResourceKind::kSubnetGroup:
        throw not_found(fmt::format("Replication subnet group {} not found", arn));
      case ResourceKind::kCertificate:
        throw not_found(fmt::format("Certificate {} not found", arn));
      case ResourceKind::kAssessmentRun:
        throw not_found(fmt::format("Assessment run {} not found", arn));
      case ResourceKind::kEvent:  // events and event subscriptions are not named by ARN
      case ResourceKind::kEventSubscription:
        throw not_found(fmt::format("{} not found", arn));
    }
  }
  refresh(kind, *record);
  return *record;
}

std::vector<Record> ControlPlane::list_refreshed(const RequestContext& context, ResourceKind kind) {
  auto records = store.list(kind, context.account, context.region);
  for (auto& record : records) refresh(kind, record);
  return records;
}

std::vector<Record> ControlPlane::list_all_refreshed(ResourceKind kind) {
  auto records = store.list_all(kind);
  for (auto& record : records) refresh(kind, record);
  return records;
}

void ControlPlane::refresh(ResourceKind kind, Record& record) {
  const auto transitions = due_transitions_.find(kind);
  if (transitions == due_transitions_.end()) return;
  if (now_millis() < record.internal.value("ready_at_ms", std::int64_t{0})) return;
  for (const auto& transition : transitions->second) {
    if (transition(record)) {
      store.update(kind, record);
      return;
    }
  }
}

Record ControlPlane::new_record(const RequestContext& context, ResourceKind kind,
                                std::string identifier,
                                const std::optional<std::string>& resource_identifier) {
  Record record;
  record.identifier = std::move(identifier);
  record.account = context.account;
  record.region = context.region;
  const auto resource_id = resource_identifier.value_or(random_resource_id());
  record.arn = make_arn(context.region, context.account, kind, resource_id);
  if (store.find_by_arn(kind, record.arn)) {
    throw already_exists(fmt::format("ResourceIdentifier {} is already in use", resource_id));
  }
  return record;
}

void ControlPlane::put_request_tags(const std::string& arn,
                                    const std::optional<std::vector<dms::Tag>>& tags) {
  if (!tags) return;
  Store::Tags pairs;
  for (const auto& tag : *tags) {
    if (!tag.key || tag.key->empty()) throw invalid_parameter("Tag keys must not be empty.");
    pairs.emplace_back(*tag.key, tag.value.value_or(""));
  }
  store.put_tags(arn, pairs);
}

nlohmann::json ControlPlane::now_json() const {
  return dms::timestamp_to_json(clock_.now());
}

std::int64_t ControlPlane::now_millis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
      .count();
}

void add_operations(ControlPlane& plane, OperationTable& table,
                    std::initializer_list<std::pair<const char*, ResourceHandler>> operations) {
  for (const auto& [name, handler] : operations) {
    table.emplace(name, [&plane, handler = handler](const RequestContext& context,
                                                    const nlohmann::json& body) {
      return handler(plane, context, body);
    });
  }
}

std::vector<std::function<void()>> ControlPlane::take_deferred() {
  std::vector<std::function<void()>> taken;
  taken.swap(deferred_);
  return taken;
}

}  // namespace dagster_dms::server
