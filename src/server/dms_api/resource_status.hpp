#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace dagster_dms::server {

// The status of each DMS resource, typed. The wire strings live only in the tables below; the
// handlers compare and assign enum values.

// ReplicationTask.Status.
enum class TaskStatus {
  kCreating,
  kReady,
  kStarting,
  kRunning,
  kStopping,
  kStopped,
  kFailed,
  kDeleting,
  kMoving,
  kModifying,
  kTesting,
};

// ReplicationInstance.ReplicationInstanceStatus.
enum class InstanceStatus { kCreating, kAvailable, kModifying, kDeleting, kRebooting, kFailed };

// Endpoint.Status.
enum class EndpointStatus { kCreating, kActive, kDeleting };

// Replication.Status (DMS Serverless; the replication of one replication config).
enum class ReplicationStatus { kCreated, kStarting, kRunning, kStopping, kStopped, kFailed };

// Replication.ProvisionData.ProvisionState: the serverless capacity behind a replication.
enum class ProvisionState { kProvisioning, kProvisioned, kDeprovisioning, kDeprovisioned, kFailed };

// Connection.Status: the last TestConnection of one endpoint from one instance.
enum class ConnectionStatus { kTesting, kSuccessful, kFailed, kDeleting };

// Where a status is kept in its resource's document and how each value is spelled on the wire.
template <class Status>
struct StatusWire;

template <>
struct StatusWire<TaskStatus> {
  static constexpr std::string_view member = "Status";
  static constexpr std::array<std::pair<TaskStatus, std::string_view>, 11> names{{
      {TaskStatus::kCreating, "creating"},
      {TaskStatus::kReady, "ready"},
      {TaskStatus::kStarting, "starting"},
      {TaskStatus::kRunning, "running"},
      {TaskStatus::kStopping, "stopping"},
      {TaskStatus::kStopped, "stopped"},
      {TaskStatus::kFailed, "failed"},
      {TaskStatus::kDeleting, "deleting"},
      {TaskStatus::kMoving, "moving"},
      {TaskStatus::kModifying, "modifying"},
      {TaskStatus::kTesting, "testing"},
  }};
};

template <>
struct StatusWire<InstanceStatus> {
  static constexpr std::string_view member = "ReplicationInstanceStatus";
  static constexpr std::array<std::pair<InstanceStatus, std::string_view>, 6> names{{
      {InstanceStatus::kCreating, "creating"},
      {InstanceStatus::kAvailable, "available"},
      {InstanceStatus::kModifying, "modifying"},
      {InstanceStatus::kDeleting, "deleting"},
      {InstanceStatus::kRebooting, "rebooting"},
      {InstanceStatus::kFailed, "failed"},
  }};
};

template <>
struct StatusWire<EndpointStatus> {
  static constexpr std::string_view member = "Status";
  static constexpr std::array<std::pair<EndpointStatus, std::string_view>, 3> names{{
      {EndpointStatus::kCreating, "creating"},
      {EndpointStatus::kActive, "active"},
      {EndpointStatus::kDeleting, "deleting"},
  }};
};

template <>
struct StatusWire<ReplicationStatus> {
  static constexpr std::string_view member = "Status";
  static constexpr std::array<std::pair<ReplicationStatus, std::string_view>, 6> names{{
      {ReplicationStatus::kCreated, "created"},
      {ReplicationStatus::kStarting, "starting"},
      {ReplicationStatus::kRunning, "running"},
      {ReplicationStatus::kStopping, "stopping"},
      {ReplicationStatus::kStopped, "stopped"},
      {ReplicationStatus::kFailed, "failed"},
  }};
};

template <>
struct StatusWire<ProvisionState> {
  static constexpr std::string_view member = "ProvisionState";
  static constexpr std::array<std::pair<ProvisionState, std::string_view>, 5> names{{
      {ProvisionState::kProvisioning, "provisioning"},
      {ProvisionState::kProvisioned, "provisioned"},
      {ProvisionState::kDeprovisioning, "deprovisioning"},
      {ProvisionState::kDeprovisioned, "deprovisioned"},
      {ProvisionState::kFailed, "failed-provision"},
  }};
};

template <>
struct StatusWire<ConnectionStatus> {
  static constexpr std::string_view member = "Status";
  static constexpr std::array<std::pair<ConnectionStatus, std::string_view>, 4> names{{
      {ConnectionStatus::kTesting, "testing"},
      {ConnectionStatus::kSuccessful, "successful"},
      {ConnectionStatus::kFailed, "failed"},
      {ConnectionStatus::kDeleting, "deleting"},
  }};
};

template <class Status>
[[nodiscard]] constexpr std::string_view to_wire(Status status) {
  for (const auto& [value, name] : StatusWire<Status>::names) {
    if (value == status) return name;
  }
  return {};  // unreachable: every enumerator has a name
}

template <class Status>
[[nodiscard]] constexpr std::optional<Status> status_from_wire(std::string_view name) {
  for (const auto& [value, wire] : StatusWire<Status>::names) {
    if (wire == name) return value;
  }
  return std::nullopt;
}

// Throws std::logic_error: a stored document holds only statuses dms-local wrote.
[[noreturn]] void throw_unreadable_status(std::string_view member, const nlohmann::json& holder);

// The status kept in `holder` (a resource's document, or a serverless replication's), if any.
template <class Status>
[[nodiscard]] std::optional<Status> find_status(const nlohmann::json& holder) {
  if (!holder.is_object()) return std::nullopt;
  const auto found = holder.find(StatusWire<Status>::member);
  if (found == holder.end() || !found->is_string()) return std::nullopt;
  return status_from_wire<Status>(found->template get<std::string>());
}

// The same for a status every stored resource of its kind has.
template <class Status>
[[nodiscard]] Status status_in(const nlohmann::json& holder) {
  if (const auto status = find_status<Status>(holder)) return *status;
  throw_unreadable_status(StatusWire<Status>::member, holder);
}

template <class Status>
void set_status(nlohmann::json& holder, Status status) {
  holder[std::string(StatusWire<Status>::member)] = std::string(to_wire(status));
}

}  // namespace dagster_dms::server
