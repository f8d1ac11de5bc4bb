#include "server/dms_api/events.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "server/dms_api/describe_page.hpp"
#include "server/dms_api/event_subscriptions.hpp"
#include "server/dms_api/resource_status.hpp"
#include "server/dms_api/resources.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

constexpr std::string_view kTaskSource = "replication-task";
constexpr std::string_view kInstanceSource = "replication-instance";

struct EventDefinition {
  std::string_view id;
  std::string_view category;
  std::string_view message;
};

// DMS's catalogue (EVT) for the state changes dms-local has, in DmsEvent's order: task events
// first, then instance events.
constexpr DmsEvent kFirstInstanceEvent = DmsEvent::kInstanceCreating;
constexpr std::array<EventDefinition, 14> kDefinitions{{
    {"DMS-EVENT-0074", "creation", "Replication task has been created."},
    {"DMS-EVENT-0069", "state change", "Replication task has started."},
    {"DMS-EVENT-0079", "state change", "Replication task has stopped."},
    {"DMS-EVENT-0078", "failure", "Replication task has failed."},
    {"DMS-EVENT-0080", "configuration change", "Replication task has been modified."},
    {"DMS-EVENT-0073", "deletion", "Replication task has been deleted."},
    {"DMS-EVENT-0067", "creation", "Replication instance is being created."},
    {"DMS-EVENT-0005", "creation", "Replication instance has been created."},
    {"DMS-EVENT-0012", "configuration change",
     "The replication instance class for this replication instance is being changed."},
    {"DMS-EVENT-0014", "configuration change",
     "The replication instance class for this replication instance has changed."},
    {"DMS-EVENT-0018", "configuration change",
     "The storage for the replication instance is being increased."},
    {"DMS-EVENT-0017", "configuration change",
     "The storage for the replication instance has been increased."},
    {"DMS-EVENT-0066", "deletion", "Replication instance is being deleted."},
    {"DMS-EVENT-0003", "deletion", "Replication instance has been deleted."},
}};
static_assert(static_cast<std::size_t>(DmsEvent::kInstanceDeleted) + 1 == kDefinitions.size());

std::string_view source_type_of(DmsEvent event) {
  return event < kFirstInstanceEvent ? kTaskSource : kInstanceSource;
}

// Every category of each source type, as DescribeEventCategories lists them (including those of
// events dms-local never raises, such as failover).
struct SourceCategories {
  std::string_view source_type;
  std::vector<std::string_view> categories;
};
const std::array<SourceCategories, 2> kCategories{
    SourceCategories{kInstanceSource,
                     {"low storage", "configuration change", "maintenance", "deletion", "creation",
                      "failover", "failure"}},
    SourceCategories{kTaskSource,
                     {"configuration change", "state change", "deletion", "creation", "failure"}},
};

const EventDefinition& definition_of(DmsEvent event) {
  return kDefinitions.at(static_cast<std::size_t>(event));
}

// Without StartTime, EndTime or Duration, DescribeEvents covers the past hour (the RDS-family
// default DMS shares).
constexpr std::int64_t kDefaultDurationMinutes = 60;

std::int64_t millis_of(const dms::Timestamp& time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

// The [first, last] milliseconds a DescribeEvents request covers.
std::pair<std::int64_t, std::int64_t> time_window(const dms::DescribeEventsMessage& request,
                                                  std::int64_t now_ms) {
  if (request.duration && *request.duration <= 0) {
    throw invalid_parameter(
        fmt::format("Duration must be a positive number of minutes, not {}.", *request.duration));
  }
  const std::int64_t duration_ms =
      request.duration.value_or(kDefaultDurationMinutes) * std::int64_t{60'000};
  std::int64_t first = 0;
  std::int64_t last = request.end_time ? millis_of(*request.end_time) : now_ms;
  if (request.start_time) {
    first = millis_of(*request.start_time);
    if (!request.end_time && request.duration) last = first + duration_ms;
  } else {
    first = last - duration_ms;
  }
  // A StartTime in the future lists nothing; one after the EndTime given is a mistake.
  if (request.start_time && request.end_time && first > last) {
    throw invalid_parameter("StartTime must be before EndTime.");
  }
  return {first, last};
}

const FilterSpec kEventFilters{{"replication-instance-id"}, {}};

nlohmann::json describe_events(ControlPlane& plane, const RequestContext& context,
                               const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeEventsMessage>(body);
  require_valid_event_selection(request.source_type, request.event_categories);
  if (request.source_identifier && !request.source_type) {
    throw invalid_parameter("SourceType must be given with SourceIdentifier.");
  }
  const auto [first, last] = time_window(request, plane.now_millis());
  std::vector<Record> selected;
  for (auto& event : plane.store.list(ResourceKind::kEvent, context.account, context.region)) {
    const auto at = event.internal.value("date_ms", std::int64_t{0});
    if (at < first || at > last) continue;
    if (request.source_type && event.doc.value("SourceType", "") != *request.source_type) {
      continue;
    }
    if (request.source_identifier &&
        event.doc.value("SourceIdentifier", "") != *request.source_identifier) {
      continue;
    }
    if (request.event_categories) {
      const auto category = event.doc["EventCategories"][0].get<std::string>();
      const auto& wanted = *request.event_categories;
      if (std::find(wanted.begin(), wanted.end(), category) == wanted.end()) continue;
    }
    selected.push_back(std::move(event));
  }
  return describe_page(
      selected, DescribeRequest::of(request), {kEventFilters, {}}, "Events",
      [](const Record& event, std::string_view /*filter: replication-instance-id*/) {
        return std::vector<std::string>{event.internal.value("instance_id", "")};
      },
      identifier_key, [](const Record& event) { return public_document<dms::Event>(event.doc); });
}

nlohmann::json describe_event_categories(ControlPlane& /*plane*/, const RequestContext& /*context*/,
                                         const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeEventCategoriesMessage>(body);
  validate_filters(request.filters, FilterSpec{});
  require_valid_event_selection(request.source_type, std::nullopt);
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& source : kCategories) {
    if (request.source_type && *request.source_type != source.source_type) continue;
    nlohmann::json categories = nlohmann::json::array();
    for (const auto category : source.categories) categories.push_back(category);
    groups.push_back({{"SourceType", source.source_type}, {"EventCategories", categories}});
  }
  return {{"EventCategoryGroupList", groups}};
}

// The replication instance an event concerns (the source itself, or a task's instance), for the
// replication-instance-id filter.
std::string instance_id_of(const ControlPlane& plane, const Record& source,
                           std::string_view source_type) {
  if (source_type == kInstanceSource) return source.identifier;
  const auto instance = plane.store.find_by_arn(ResourceKind::kInstance,
                                                source.doc.value("ReplicationInstanceArn", ""));
  return instance ? instance->identifier : std::string();
}

}  // namespace

void register_events(ControlPlane& plane, OperationTable& table) {
  add_operations(plane, table,
                 {{"DescribeEvents", describe_events},
                  {"DescribeEventCategories", describe_event_categories},
                  // The subscriptions events are delivered to (event_subscriptions.cpp).
                  {"CreateEventSubscription", create_event_subscription},
                  {"DescribeEventSubscriptions", describe_event_subscriptions},
                  {"ModifyEventSubscription", modify_event_subscription},
                  {"DeleteEventSubscription", delete_event_subscription}});
}

void require_valid_event_selection(const std::optional<std::string>& source_type,
                                   const std::optional<std::vector<std::string>>& categories) {
  const SourceCategories* source = nullptr;
  if (source_type) {
    for (const auto& candidate : kCategories) {
      if (candidate.source_type == *source_type) source = &candidate;
    }
    if (source == nullptr) {
      throw invalid_parameter(fmt::format(
          "Invalid SourceType {}; valid values: replication-instance | replication-task.",
          *source_type));
    }
  }
  if (!categories) return;
  for (const auto& category : *categories) {
    const bool known = std::any_of(kCategories.begin(), kCategories.end(), [&](const auto& s) {
      return (source == nullptr || &s == source) &&
             std::find(s.categories.begin(), s.categories.end(), category) != s.categories.end();
    });
    if (!known) {
      throw invalid_parameter(
          fmt::format("Invalid event category {}{}; DescribeEventCategories lists the valid ones.",
                      category, source_type ? " for source type " + *source_type : std::string()));
    }
  }
}

void record_event(ControlPlane& plane, const Record& source, DmsEvent event,
                  std::string_view detail) {
  const auto& definition = definition_of(event);
  const auto source_type = source_type_of(event);
  const auto sequence = plane.store.count(ResourceKind::kEvent, source.account, source.region) + 1;
  Record record;
  // Zero-padded: the store lists by identifier, so events list (and page) in the order they
  // happened.
  record.identifier = fmt::format("{:020d}", sequence);
  record.account = source.account;
  record.region = source.region;
  record.arn = make_arn(source.region, source.account, ResourceKind::kEvent, record.identifier);
  record.doc = {
      {"SourceIdentifier", source.identifier},
      {"SourceType", source_type},
      {"Message", detail.empty() ? std::string(definition.message)
                                 : fmt::format("{} {}", definition.message, detail)},
      {"EventCategories", {definition.category}},
      {"Date", plane.now_json()},
  };
  record.internal = {{"event_id", definition.id},
                     {"date_ms", plane.now_millis()},
                     {"instance_id", instance_id_of(plane, source, source_type)}};
  plane.store.insert(ResourceKind::kEvent, record);
  deliver_to_subscriptions(plane, record);
}

void record_run_start_event(ControlPlane& plane, ResourceKind kind, const Record& source) {
  if (kind == ResourceKind::kTask) record_event(plane, source, DmsEvent::kTaskStarted);
}

void record_run_end_event(ControlPlane& plane, ResourceKind kind, const Record& source, bool failed,
                          std::string_view stop_reason, const std::optional<std::string>& failure) {
  if (kind != ResourceKind::kTask) return;
  // A finished full-load task reads "...has stopped. Stop Reason FULL_LOAD_ONLY_FINISHED.": its
  // full-load completion.
  if (!failed) {
    record_event(plane, source, DmsEvent::kTaskStopped, fmt::format("{}.", stop_reason));
    return;
  }
  record_event(plane, source, DmsEvent::kTaskFailed,
               fmt::format("Reason: {} {}.", failure.value_or("unknown"), stop_reason));
}

void record_instance_changes_begun(ControlPlane& plane, Record& instance,
                                   const nlohmann::json& changes) {
  nlohmann::json finishing = nlohmann::json::array();
  if (changes.contains("ReplicationInstanceClass")) {
    record_event(plane, instance, DmsEvent::kInstanceClassChanging);
    finishing.push_back(static_cast<int>(DmsEvent::kInstanceClassChanged));
  }
  if (changes.contains("AllocatedStorage")) {
    record_event(plane, instance, DmsEvent::kInstanceStorageScaling);
    finishing.push_back(static_cast<int>(DmsEvent::kInstanceStorageScaled));
  }
  instance.internal["events_when_available"] = finishing;
}

void record_instance_available(ControlPlane& plane, Record& instance) {
  if (status_in<InstanceStatus>(instance.doc) == InstanceStatus::kCreating) {
    record_event(plane, instance, DmsEvent::kInstanceCreated);
    return;
  }
  for (const auto& event : instance.internal.value("events_when_available", nlohmann::json())) {
    record_event(plane, instance, static_cast<DmsEvent>(event.get<int>()));
  }
  instance.internal.erase("events_when_available");
}

}  // namespace dagster_dms::server
