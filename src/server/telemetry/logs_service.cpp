#include "server/telemetry/logs_service.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "dms/model/logs_model.hpp"
#include "server/front/api_error.hpp"
#include "server/telemetry/log_filter_pattern.hpp"

namespace dagster_dms::server {

namespace lg = dms::logs;

namespace {

constexpr std::string_view kPageToken = "dms-local-1:";
// FilterLogEvents reads this many events per batch, and at most kScanBudget per call: a search
// through a large group answers with a nextToken (possibly with no events), as CloudWatch does.
constexpr std::int64_t kScanBatch = 1000;
constexpr std::int64_t kScanBudget = 100000;

ApiError invalid(const std::string& message) {
  return {400, "InvalidParameterException", message};
}
ApiError missing_resource(const std::string& message) {
  return {400, "ResourceNotFoundException", message};
}

template <class T>
T parse_logs(const nlohmann::json& body) {
  if (!body.is_object())
    throw ApiError(400, "SerializationException", "Start of structure expected");
  T value;
  try {
    from_json(body, value);
  } catch (const aws::Error& error) {
    throw invalid(error.what());
  }
  return value;
}

std::int64_t limit_of(const std::optional<std::int64_t>& limit, std::int64_t max,
                      std::int64_t fallback) {
  const auto value = limit.value_or(fallback);
  if (value < 1 || value > max) {
    throw invalid(fmt::format(
        "1 validation error detected: Value '{}' at 'limit' failed to satisfy constraint: Member "
        "must have value between 1 and {}",
        value, max));
  }
  return value;
}

// logGroupName, or logGroupIdentifier (a name or an ARN, "arn:...:log-group:NAME[:*]").
std::string group_of(const std::optional<std::string>& name,
                     const std::optional<std::string>& identifier) {
  if (name && identifier) {
    throw invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.");
  }
  if (name) return *name;
  if (identifier) {
    std::string value = *identifier;
    const auto marker = value.find(":log-group:");
    if (marker != std::string::npos) value = value.substr(marker + 11);
    if (value.size() > 2 && value.ends_with(":*")) value.resize(value.size() - 2);
    return value;
  }
  throw invalid("Either logGroupName or logGroupIdentifier must be provided.");
}

std::size_t parse_index_token(const std::optional<std::string>& token, std::size_t size) {
  if (!token) return 0;
  std::size_t value = 0;
  const std::string_view text(*token);
  if (text.rfind(kPageToken, 0) == 0) {
    const auto digits = text.substr(kPageToken.size());
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error == std::errc() && end == digits.data() + digits.size() && value <= size) return value;
  }
  throw invalid("The specified nextToken is invalid.");
}

std::string group_arn(const RequestContext& context, const std::string& group) {
  return fmt::format("arn:aws:logs:{}:{}:log-group:{}", context.region, context.account, group);
}

}  // namespace

nlohmann::json LogsService::handle(const RequestContext& context, const std::string& operation,
                                   const nlohmann::json& body) {
  if (operation == "GetLogEvents") return get_log_events(context, body);
  if (operation == "FilterLogEvents") return filter_log_events(context, body);
  if (operation == "DescribeLogStreams") return describe_log_streams(context, body);
  if (operation == "DescribeLogGroups") return describe_log_groups(context, body);
  throw ApiError(400, "UnknownOperationException",
                 fmt::format("Operation {} is not supported by dms-local; it serves GetLogEvents, "
                             "FilterLogEvents, DescribeLogStreams and DescribeLogGroups.",
                             operation));
}

nlohmann::json LogsService::get_log_events(const RequestContext& context,
                                           const nlohmann::json& body) {
  const auto input = parse_logs<lg::GetLogEventsRequest>(body);
  const auto group = group_of(input.log_group_name, input.log_group_identifier);
  const auto limit = limit_of(input.limit, 10000, 10000);
  const auto streams = store_.streams(context.account, context.region, group);
  if (streams.empty()) throw missing_resource("The specified log group does not exist.");
  if (std::none_of(streams.begin(), streams.end(),
                   [&](const auto& stream) { return stream.name == input.log_stream_name; })) {
    throw missing_resource("The specified log stream does not exist.");
  }

  // Tokens are a direction and an event position: f/N reads events after N, b/N events before N.
  bool forward = input.start_from_head.value_or(false);
  std::optional<std::int64_t> position;
  if (input.next_token) {
    const std::string& token = *input.next_token;
    std::int64_t value = 0;
    const char* first = token.data() + 2;
    const char* last = token.data() + token.size();
    const bool ok = token.size() > 2 && (token[0] == 'f' || token[0] == 'b') && token[1] == '/' &&
                    std::from_chars(first, last, value).ptr == last && value >= 0;
    if (!ok) throw invalid("The specified nextToken is invalid.");
    forward = token[0] == 'f';
    position = value;
  }
  LogEventQuery query;
  query.streams = {input.log_stream_name};
  query.start_ms = input.start_time;
  query.end_ms = input.end_time;
  query.limit = limit;
  query.backward = !forward;
  if (forward) {
    query.after_id = position.value_or(0);
  } else {
    query.before_id = position;
  }
  const auto events = store_.events(context.account, context.region, group, query);

  nlohmann::json out_events = nlohmann::json::array();
  for (const auto& event : events) {
    out_events.push_back({{"timestamp", event.timestamp_ms},
                          {"message", event.message},
                          {"ingestionTime", event.ingestion_ms}});
  }
  // An empty page hands back the position it was given, which is how a reader knows it is at
  // the end (for now).
  const std::int64_t here = position.value_or(0);
  const std::int64_t after = events.empty() ? here : events.back().id;
  const std::int64_t before = events.empty() ? here : events.front().id;
  return {{"events", std::move(out_events)},
          {"nextForwardToken", fmt::format("f/{:056d}", after)},
          {"nextBackwardToken", fmt::format("b/{:056d}", before)}};
}

nlohmann::json LogsService::filter_log_events(const RequestContext& context,
                                              const nlohmann::json& body) {
  const auto input = parse_logs<lg::FilterLogEventsRequest>(body);
  const auto group = group_of(input.log_group_name, input.log_group_identifier);
  const auto limit = limit_of(input.limit, 10000, 10000);
  if (input.log_stream_names && input.log_stream_name_prefix) {
    throw invalid("Parameters logStreamNames and logStreamNamePrefix are mutually exclusive.");
  }
  LogFilterPattern pattern;
  try {
    pattern = LogFilterPattern::parse(input.filter_pattern.value_or(""));
  } catch (const std::invalid_argument& error) {
    throw invalid(error.what());
  }
  const auto streams = store_.streams(context.account, context.region, group);
  if (streams.empty()) throw missing_resource("The specified log group does not exist.");

  std::int64_t after_id = 0;
  if (input.next_token) {
    const std::string_view token(*input.next_token);
    const auto digits = token.substr(std::min(token.size(), kPageToken.size()));
    const auto [end, error] =
        std::from_chars(digits.data(), digits.data() + digits.size(), after_id);
    if (token.rfind(kPageToken, 0) != 0 || error != std::errc() ||
        end != digits.data() + digits.size()) {
      throw invalid("The specified nextToken is invalid.");
    }
  }

  LogEventQuery query;
  query.streams = input.log_stream_names.value_or(std::vector<std::string>{});
  query.stream_prefix = input.log_stream_name_prefix;
  query.start_ms = input.start_time;
  query.end_ms = input.end_time;
  query.limit = kScanBatch;

  nlohmann::json events = nlohmann::json::array();
  std::optional<std::int64_t> resume_after;
  std::int64_t scanned = 0;
  for (;;) {
    query.after_id = after_id;
    const auto batch = store_.events(context.account, context.region, group, query);
    for (const auto& event : batch) {
      after_id = event.id;
      if (!pattern.matches(event.message)) continue;
      events.push_back({{"logStreamName", event.stream},
                        {"timestamp", event.timestamp_ms},
                        {"message", event.message},
                        {"ingestionTime", event.ingestion_ms},
                        {"eventId", std::to_string(event.id)}});
      if (static_cast<std::int64_t>(events.size()) == limit) break;
    }
    scanned += static_cast<std::int64_t>(batch.size());
    if (static_cast<std::int64_t>(batch.size()) < kScanBatch &&
        static_cast<std::int64_t>(events.size()) < limit) {
      break;  // read to the end
    }
    if (static_cast<std::int64_t>(events.size()) == limit || scanned >= kScanBudget) {
      resume_after = after_id;
      break;
    }
  }

  nlohmann::json searched = nlohmann::json::array();
  for (const auto& stream : streams) {
    const bool named =
        query.streams.empty() ||
        std::find(query.streams.begin(), query.streams.end(), stream.name) != query.streams.end();
    const bool prefixed = !query.stream_prefix || stream.name.rfind(*query.stream_prefix, 0) == 0;
    if (named && prefixed) {
      searched.push_back({{"logStreamName", stream.name}, {"searchedCompletely", !resume_after}});
    }
  }
  nlohmann::json out{{"events", std::move(events)}, {"searchedLogStreams", std::move(searched)}};
  if (resume_after) out["nextToken"] = fmt::format("{}{}", kPageToken, *resume_after);
  return out;
}

nlohmann::json LogsService::describe_log_streams(const RequestContext& context,
                                                 const nlohmann::json& body) {
  const auto input = parse_logs<lg::DescribeLogStreamsRequest>(body);
  const auto group = group_of(input.log_group_name, input.log_group_identifier);
  const auto limit = limit_of(input.limit, 50, 50);
  const auto order = input.order_by.value_or("LogStreamName");
  if (order != "LogStreamName" && order != "LastEventTime") {
    throw invalid(fmt::format(
        "1 validation error detected: Value '{}' at 'orderBy' failed to satisfy constraint: "
        "Member must satisfy enum value set: [LogStreamName, LastEventTime]",
        order));
  }
  if (order == "LastEventTime" && input.log_stream_name_prefix) {
    throw invalid("Cannot order by LastEventTime with a logStreamNamePrefix.");
  }
  auto streams = store_.streams(context.account, context.region, group);
  if (streams.empty()) throw missing_resource("The specified log group does not exist.");
  if (input.log_stream_name_prefix) {
    std::erase_if(streams, [&](const auto& stream) {
      return stream.name.rfind(*input.log_stream_name_prefix, 0) != 0;
    });
  }
  if (order == "LastEventTime") {
    std::stable_sort(streams.begin(), streams.end(), [](const auto& a, const auto& b) {
      return a.last_event_ms < b.last_event_ms;
    });
  }
  if (input.descending.value_or(false)) std::reverse(streams.begin(), streams.end());

  const auto begin = parse_index_token(input.next_token, streams.size());
  const auto end = std::min(streams.size(), begin + static_cast<std::size_t>(limit));
  nlohmann::json out_streams = nlohmann::json::array();
  for (std::size_t i = begin; i < end; ++i) {
    const auto& stream = streams[i];
    out_streams.push_back(
        {{"logStreamName", stream.name},
         {"creationTime", stream.creation_ms},
         {"firstEventTimestamp", stream.first_event_ms},
         {"lastEventTimestamp", stream.last_event_ms},
         {"lastIngestionTime", stream.last_ingestion_ms},
         {"arn", fmt::format("{}:log-stream:{}", group_arn(context, group), stream.name)},
         {"storedBytes", 0}});
  }
  nlohmann::json out{{"logStreams", std::move(out_streams)}};
  if (end < streams.size()) out["nextToken"] = fmt::format("{}{}", kPageToken, end);
  return out;
}

nlohmann::json LogsService::describe_log_groups(const RequestContext& context,
                                                const nlohmann::json& body) {
  const auto input = parse_logs<lg::DescribeLogGroupsRequest>(body);
  const auto limit = limit_of(input.limit, 50, 50);
  if (input.log_group_name_prefix && input.log_group_name_pattern) {
    throw invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive.");
  }
  auto groups = store_.groups(context.account, context.region);
  std::erase_if(groups, [&](const auto& group) {
    if (input.log_group_name_prefix && group.name.rfind(*input.log_group_name_prefix, 0) != 0) {
      return true;
    }
    return input.log_group_name_pattern &&
           group.name.find(*input.log_group_name_pattern) == std::string::npos;
  });
  const auto begin = parse_index_token(input.next_token, groups.size());
  const auto end = std::min(groups.size(), begin + static_cast<std::size_t>(limit));
  nlohmann::json out_groups = nlohmann::json::array();
  for (std::size_t i = begin; i < end; ++i) {
    const auto& group = groups[i];
    const auto arn = group_arn(context, group.name);
    out_groups.push_back({{"logGroupName", group.name},
                          {"creationTime", group.creation_ms},
                          {"metricFilterCount", 0},
                          {"arn", arn + ":*"},
                          {"logGroupArn", arn},
                          {"storedBytes", group.stored_bytes},
                          {"logGroupClass", "STANDARD"}});
  }
  nlohmann::json out{{"logGroups", std::move(out_groups)}};
  if (end < groups.size()) out["nextToken"] = fmt::format("{}{}", kPageToken, end);
  return out;
}

}  // namespace dagster_dms::server
