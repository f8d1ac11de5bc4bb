#include "server/dms_api/event_subscriptions.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>

#include "server/dms_api/describe_page.hpp"
#include "server/dms_api/events.hpp"
#include "server/dms_api/identifiers.hpp"
#include "server/dms_api/resources.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

// DMS's quota of event subscriptions per account and region.
constexpr std::int64_t kSubscriptionQuota = 20;
constexpr std::size_t kNameMax = 255;

const FilterSpec kSubscriptionFilters{{"event-subscription-arn", "event-subscription-id"}, {}};

ApiError invalid_topic(const std::string& message) {
  return {400, "SNSInvalidTopicFault", message};
}

// arn:<partition>:sns:<region>:<account>:<topic>; SNSInvalidTopicFault otherwise.
void require_sns_topic(const std::string& topic_arn) {
  std::vector<std::string> parts;
  std::size_t begin = 0;
  for (std::size_t colon = 0; (colon = topic_arn.find(':', begin)) != std::string::npos;
       begin = colon + 1) {
    parts.push_back(topic_arn.substr(begin, colon - begin));
  }
  parts.push_back(topic_arn.substr(begin));
  if (parts.size() != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[3].empty() ||
      parts[4].empty() || parts[5].empty()) {
    throw invalid_topic(fmt::format(
        "SnsTopicArn {} is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>).",
        topic_arn));
  }
}

// SourceIds name existing resources of the subscription's SourceType.
void require_sources(const ControlPlane& plane, const RequestContext& context,
                     const std::optional<std::string>& source_type,
                     const std::optional<std::vector<std::string>>& source_ids) {
  if (!source_ids || source_ids->empty()) return;
  if (!source_type) throw invalid_parameter("SourceType must be given with SourceIds.");
  const auto kind =
      *source_type == "replication-task" ? ResourceKind::kTask : ResourceKind::kInstance;
  for (const auto& id : *source_ids) {
    if (!plane.store.find_by_identifier(kind, context.account, context.region,
                                        kind == ResourceKind::kInstance ? to_lower(id) : id)) {
      throw not_found(fmt::format("Source {} of type {} not found", id, *source_type));
    }
  }
}

Record require_subscription(const ControlPlane& plane, const RequestContext& context,
                            const std::string& name) {
  auto record = plane.store.find_by_identifier(ResourceKind::kEventSubscription, context.account,
                                               context.region, name);
  if (!record) throw not_found(fmt::format("Event subscription {} not found", name));
  return *record;
}

nlohmann::json public_subscription(const Record& record) {
  return public_document<dms::EventSubscription>(record.doc);
}

void set_list(nlohmann::json& doc, const char* member,
              const std::optional<std::vector<std::string>>& values) {
  if (values && !values->empty()) {
    doc[member] = *values;
  } else {
    doc.erase(member);
  }
}

bool lists(const nlohmann::json& doc, const char* member, const std::string& value) {
  if (!doc.contains(member)) return true;  // no list: every value
  const auto& values = doc[member];
  return std::find(values.begin(), values.end(), value) != values.end();
}

}  // namespace

nlohmann::json describe_event_subscriptions(ControlPlane& plane, const RequestContext& context,
                                            const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeEventSubscriptionsMessage>(body);
  auto records =
      request.subscription_name
          ? std::vector<Record>{require_subscription(plane, context, *request.subscription_name)}
          : plane.store.list(ResourceKind::kEventSubscription, context.account, context.region);
  return describe_page(
      records, DescribeRequest::of(request), {kSubscriptionFilters, {}}, "EventSubscriptionsList",
      [](const Record& record, std::string_view name) {
        return std::vector<std::string>{name == "event-subscription-arn" ? record.arn
                                                                         : record.identifier};
      },
      identifier_key, public_subscription);
}

nlohmann::json modify_event_subscription(ControlPlane& plane, const RequestContext& context,
                                         const nlohmann::json& body) {
  const auto request = parse_request<dms::ModifyEventSubscriptionMessage>(body);
  auto record = require_subscription(plane, context, request.subscription_name);
  if (request.sns_topic_arn) {
    require_sns_topic(*request.sns_topic_arn);
    record.doc["SnsTopicArn"] = *request.sns_topic_arn;
  }
  const auto source_type = request.source_type
                               ? request.source_type
                               : (record.doc.contains("SourceType")
                                      ? std::optional<std::string>(record.doc["SourceType"])
                                      : std::nullopt);
  require_valid_event_selection(source_type, request.event_categories);
  if (request.source_type && *request.source_type != record.doc.value("SourceType", "")) {
    // The source ids were of the old type.
    record.doc["SourceType"] = *request.source_type;
    record.doc.erase("SourceIdsList");
    if (!request.event_categories) record.doc.erase("EventCategoriesList");
  }
  if (request.event_categories) {
    set_list(record.doc, "EventCategoriesList", request.event_categories);
  }
  if (request.enabled) record.doc["Enabled"] = *request.enabled;
  plane.store.update(ResourceKind::kEventSubscription, record);
  return {{"EventSubscription", public_subscription(record)}};
}

nlohmann::json delete_event_subscription(ControlPlane& plane, const RequestContext& context,
                                         const nlohmann::json& body) {
  const auto request = parse_request<dms::DeleteEventSubscriptionMessage>(body);
  auto record = require_subscription(plane, context, request.subscription_name);
  plane.store.remove(ResourceKind::kEventSubscription, record.arn);
  record.doc["Status"] = "deleting";
  return {{"EventSubscription", public_subscription(record)}};
}

nlohmann::json create_event_subscription(ControlPlane& plane, const RequestContext& context,
                                         const nlohmann::json& body) {
  const auto request = parse_request<dms::CreateEventSubscriptionMessage>(body);
  require_valid_identifier("SubscriptionName", request.subscription_name, kNameMax);
  require_sns_topic(request.sns_topic_arn);
  require_valid_event_selection(request.source_type, request.event_categories);
  require_sources(plane, context, request.source_type, request.source_ids);
  if (plane.store.find_by_identifier(ResourceKind::kEventSubscription, context.account,
                                     context.region, request.subscription_name)) {
    throw already_exists(
        fmt::format("Event subscription {} already exists", request.subscription_name));
  }
  if (plane.store.count(ResourceKind::kEventSubscription, context.account, context.region) >=
      kSubscriptionQuota) {
    throw quota_exceeded(
        fmt::format("Account quota EventSubscriptions ({}) exceeded; delete subscriptions first.",
                    kSubscriptionQuota));
  }
  auto record = plane.new_record(context, ResourceKind::kEventSubscription,
                                 request.subscription_name, request.subscription_name);
  record.doc = {
      {"CustomerAwsId", context.account},
      {"CustSubscriptionId", request.subscription_name},
      {"SnsTopicArn", request.sns_topic_arn},
      {"Status", "active"},
      {"SubscriptionCreationTime",
       fmt::format("{:%Y-%m-%d %H:%M:%S}",
                   fmt::gmtime(static_cast<std::time_t>(plane.now_millis() / 1000)))},
      {"Enabled", request.enabled.value_or(true)},
  };
  if (request.source_type) record.doc["SourceType"] = *request.source_type;
  set_list(record.doc, "SourceIdsList", request.source_ids);
  set_list(record.doc, "EventCategoriesList", request.event_categories);
  plane.put_request_tags(record.arn, request.tags);
  plane.store.insert(ResourceKind::kEventSubscription, record);
  return {{"EventSubscription", public_subscription(record)}};
}

void deliver_to_subscriptions(ControlPlane& plane, const Record& event) {
  const auto& doc = event.doc;
  const std::string source_type = doc.value("SourceType", "");
  const std::string category = doc["EventCategories"][0];
  for (const auto& subscription :
       plane.store.list(ResourceKind::kEventSubscription, event.account, event.region)) {
    const auto& wanted = subscription.doc;
    if (!wanted.value("Enabled", true)) continue;
    if (wanted.contains("SourceType") && wanted["SourceType"] != source_type) continue;
    if (!lists(wanted, "SourceIdsList", doc.value("SourceIdentifier", ""))) continue;
    if (!lists(wanted, "EventCategoriesList", category)) continue;
    if (plane.options.logger == nullptr) continue;
    plane.options.logger->log(
        LogLevel::kInfo,
        fmt::format("event subscription {}: delivered to SNS topic {} (logged only; dms-local "
                    "has no SNS): Event Source: {}, Identifier: {}, Event ID: {}, Message: {}",
                    subscription.identifier, wanted.value("SnsTopicArn", ""), source_type,
                    doc.value("SourceIdentifier", ""), event.internal.value("event_id", ""),
                    doc.value("Message", "")));
  }
}

}  // namespace dagster_dms::server
