#include "server/telemetry/cloudwatch_service.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "dms/model/cloudwatch_model.hpp"
#include "server/front/api_error.hpp"
#include "server/telemetry/metric_aggregation.hpp"
#include "server/telemetry/metric_data_pages.hpp"

namespace dagster_dms::server {

namespace cw = dms::cloudwatch;

namespace {

// GetMetricData's default and ceiling for MaxDatapoints; GetMetricStatistics' datapoint limit.
constexpr std::int64_t kDefaultMaxDatapoints = 100800;
constexpr std::int64_t kStatisticsDatapointLimit = 1440;
constexpr std::size_t kMaxQueries = 500;
constexpr std::size_t kListMetricsPage = 500;
constexpr std::string_view kListToken = "dms-local-1:";

ApiError invalid_value(const std::string& message) {
  return {400, "InvalidParameterValueException", message};
}
ApiError invalid_combination_cw(const std::string& message) {
  return {400, "InvalidParameterCombinationException", message};
}
ApiError missing_parameter(const std::string& message) {
  return {400, "MissingRequiredParameterException", message};
}

template <class T>
T parse_cloudwatch(const nlohmann::json& body) {
  if (!body.is_object())
    throw ApiError(400, "SerializationException", "Start of structure expected");
  T value;
  try {
    from_json(body, value);
  } catch (const aws::Error& error) {
    const std::string message = error.what();
    if (message.rfind("missing required member ", 0) == 0) {
      throw missing_parameter(fmt::format("The parameter {} is required.", message.substr(24)));
    }
    throw invalid_value(message);
  }
  return value;
}

std::int64_t millis(dms::Timestamp when) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
}

nlohmann::json seconds_json(std::int64_t ms) {
  return dms::timestamp_to_json(dms::Timestamp(std::chrono::milliseconds(ms)));
}

MetricKey key_of(const cw::Metric& metric) {
  MetricKey key;
  key.namespace_ = metric.namespace_.value_or("");
  key.metric_name = metric.metric_name.value_or("");
  for (const auto& dimension : metric.dimensions.value_or(std::vector<cw::Dimension>{})) {
    key.dimensions.emplace_back(dimension.name, dimension.value);
  }
  key.sort_dimensions();
  return key;
}

void require_time_range(dms::Timestamp start, dms::Timestamp end) {
  if (start >= end) {
    throw invalid_value("The parameter StartTime must be less than the parameter EndTime.");
  }
}

bool valid_query_id(const std::string& id) {
  if (id.empty() || id.size() > 255 || id[0] < 'a' || id[0] > 'z') return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

std::optional<std::string> cloudwatch_query_code(std::string_view exception_name) {
  static const std::map<std::string, std::string, std::less<>> kCodes = {
      {"InvalidParameterValueException", "InvalidParameterValue"},
      {"InvalidParameterCombinationException", "InvalidParameterCombination"},
      {"MissingRequiredParameterException", "MissingParameter"},
      {"InternalServiceFault", "InternalServiceError"},
      {"UnknownOperationException", "InvalidAction"},
      {"AccessDeniedException", "AccessDenied"},
  };
  const auto found = kCodes.find(exception_name);
  if (found == kCodes.end()) return std::nullopt;
  return found->second;
}

bool is_cloudwatch_timestamp_member(std::string_view member) {
  return member == "Timestamps" || member == "Timestamp";
}

nlohmann::json CloudWatchService::handle(const RequestContext& context,
                                         const std::string& operation, const nlohmann::json& body) {
  if (operation == "GetMetricData") return get_metric_data(context, body);
  if (operation == "GetMetricStatistics") return get_metric_statistics(context, body);
  if (operation == "ListMetrics") return list_metrics(context, body);
  throw ApiError(400, "UnknownOperationException",
                 fmt::format("Operation {} is not supported by dms-local; it serves "
                             "GetMetricData, GetMetricStatistics and ListMetrics.",
                             operation));
}

nlohmann::json CloudWatchService::get_metric_data(const RequestContext& context,
                                                  const nlohmann::json& body) {
  const auto input = parse_cloudwatch<cw::GetMetricDataInput>(body);
  if (input.metric_data_queries.empty()) {
    throw missing_parameter("The parameter MetricDataQueries is required.");
  }
  if (input.metric_data_queries.size() > kMaxQueries) {
    throw invalid_value(fmt::format(
        "The collection MetricDataQueries must not have a size greater than {}.", kMaxQueries));
  }
  require_time_range(input.start_time, input.end_time);
  const std::string scan_by = input.scan_by.value_or("TimestampDescending");
  if (scan_by != "TimestampDescending" && scan_by != "TimestampAscending") {
    throw invalid_value(fmt::format(
        "The value {} for parameter ScanBy is invalid. Valid values: TimestampDescending, "
        "TimestampAscending.",
        scan_by));
  }
  const std::int64_t max_datapoints = input.max_datapoints.value_or(kDefaultMaxDatapoints);
  if (max_datapoints <= 0) {
    throw invalid_value("The parameter MaxDatapoints must be greater than 0.");
  }

  std::set<std::string> ids;
  std::vector<MetricDataSeries> answers;
  for (std::size_t i = 0; i < input.metric_data_queries.size(); ++i) {
    const auto& query = input.metric_data_queries[i];
    const auto member = fmt::format("MetricDataQueries.member.{}", i + 1);
    if (!valid_query_id(query.id)) {
      throw invalid_value(fmt::format(
          "The value {} for parameter {}.Id is invalid: it must start with a lowercase letter "
          "and hold only letters, digits and underscores.",
          query.id, member));
    }
    if (!ids.insert(query.id).second) {
      throw invalid_value(
          fmt::format("The value {} for parameter {}.Id is not unique.", query.id, member));
    }
    if (query.expression) {
      throw invalid_value(fmt::format(
          "dms-local does not evaluate metric math: {} (Id {}) has an Expression. Use MetricStat "
          "queries and compute the expression in the client.",
          member, query.id));
    }
    if (!query.metric_stat) {
      throw invalid_combination_cw(
          fmt::format("Exactly one of MetricStat and Expression must be set in {}.", member));
    }
    const auto& stat = *query.metric_stat;
    if (auto problem = period_problem(stat.period, member + ".MetricStat.Period")) {
      throw invalid_value(*problem);
    }
    const auto statistic = parse_statistic(stat.stat);
    if (!statistic) {
      throw invalid_value(fmt::format(
          "The value {} for parameter {}.MetricStat.Stat is not supported by dms-local: use "
          "Average, Sum, Minimum, Maximum or SampleCount.",
          stat.stat, member));
    }
    if (!query.return_data.value_or(true)) continue;

    const auto series = store_.series(context.account, context.region, key_of(stat.metric),
                                      millis(input.start_time), millis(input.end_time));
    MetricDataSeries answer;
    answer.id = query.id;
    answer.label = query.label.value_or(stat.metric.metric_name.value_or(""));
    if (!stat.unit || *stat.unit == series.unit) {
      for (const auto& bucket : aggregate(series.samples, stat.period)) {
        answer.timestamps_ms.push_back(bucket.start_ms);
        answer.values.push_back(bucket.value(*statistic));
      }
    }
    if (scan_by == "TimestampDescending") {
      std::reverse(answer.timestamps_ms.begin(), answer.timestamps_ms.end());
      std::reverse(answer.values.begin(), answer.values.end());
    }
    answers.push_back(std::move(answer));
  }

  MetricDataPage page;
  try {
    page = page_metric_data(answers, static_cast<std::size_t>(max_datapoints), input.next_token);
  } catch (const std::invalid_argument&) {
    throw ApiError(400, "InvalidNextToken", "The service couldn't process the NextToken.");
  }
  nlohmann::json results = nlohmann::json::array();
  for (std::size_t i = 0; i < page.results.size(); ++i) {
    const auto& series = page.results[i];
    nlohmann::json timestamps = nlohmann::json::array();
    for (const auto ms : series.timestamps_ms) timestamps.push_back(seconds_json(ms));
    results.push_back({{"Id", series.id},
                       {"Label", series.label},
                       {"Timestamps", std::move(timestamps)},
                       {"Values", series.values},
                       {"StatusCode", page.complete[i] ? "Complete" : "PartialData"}});
  }
  nlohmann::json out{{"MetricDataResults", std::move(results)},
                     {"Messages", nlohmann::json::array()}};
  if (page.next_token) out["NextToken"] = *page.next_token;
  return out;
}

nlohmann::json CloudWatchService::get_metric_statistics(const RequestContext& context,
                                                        const nlohmann::json& body) {
  const auto input = parse_cloudwatch<cw::GetMetricStatisticsInput>(body);
  require_time_range(input.start_time, input.end_time);
  if (auto problem = period_problem(input.period, "Period")) throw invalid_value(*problem);
  const auto& statistics = input.statistics;
  const bool extended = input.extended_statistics && !input.extended_statistics->empty();
  if (statistics && !statistics->empty() && extended) {
    throw invalid_combination_cw(
        "The parameters Statistics and ExtendedStatistics are mutually exclusive.");
  }
  if (extended) {
    throw invalid_value(
        "dms-local does not compute ExtendedStatistics (percentiles); use Statistics.");
  }
  if (!statistics || statistics->empty()) {
    throw invalid_combination_cw("Must specify either Statistics or ExtendedStatistics.");
  }
  if (statistics->size() > 5) {
    throw invalid_value("The collection Statistics must not have a size greater than 5.");
  }
  std::vector<Statistic> wanted;
  for (std::size_t i = 0; i < statistics->size(); ++i) {
    const auto statistic = parse_statistic((*statistics)[i]);
    if (!statistic) {
      throw invalid_value(fmt::format(
          "The parameter Statistics.member.{} must be a value in the set [ Average, Sum, "
          "SampleCount, Maximum, Minimum ].",
          i + 1));
    }
    wanted.push_back(*statistic);
  }
  const auto span_ms = millis(input.end_time) - millis(input.start_time);
  const auto requested = static_cast<std::int64_t>(
      std::ceil(static_cast<double>(span_ms) / (static_cast<double>(input.period) * 1000.0)));
  if (requested > kStatisticsDatapointLimit) {
    throw invalid_combination_cw(fmt::format(
        "You have requested up to {} datapoints, which exceeds the limit of 1,440. You may "
        "reduce the datapoints requested by increasing Period, or decreasing the time range.",
        requested));
  }

  cw::Metric metric;
  metric.namespace_ = input.namespace_;
  metric.metric_name = input.metric_name;
  metric.dimensions = input.dimensions;
  const auto series = store_.series(context.account, context.region, key_of(metric),
                                    millis(input.start_time), millis(input.end_time));
  nlohmann::json datapoints = nlohmann::json::array();
  if (!input.unit || *input.unit == series.unit) {
    for (const auto& bucket : aggregate(series.samples, input.period)) {
      nlohmann::json point{{"Timestamp", seconds_json(bucket.start_ms)}};
      for (const auto statistic : wanted) {
        point[std::string(statistic_name(statistic))] = bucket.value(statistic);
      }
      point["Unit"] = series.unit.empty() ? "None" : series.unit;
      datapoints.push_back(std::move(point));
    }
  }
  return {{"Label", input.metric_name}, {"Datapoints", std::move(datapoints)}};
}

nlohmann::json CloudWatchService::list_metrics(const RequestContext& context,
                                               const nlohmann::json& body) {
  const auto input = parse_cloudwatch<cw::ListMetricsInput>(body);
  std::int64_t since_ms = 0;
  if (input.recently_active) {
    if (*input.recently_active != "PT3H") {
      throw invalid_value(
          fmt::format("The value {} for parameter RecentlyActive is invalid. Valid value: PT3H.",
                      *input.recently_active));
    }
    since_ms = millis(clock_.now()) - 3 * 3600 * 1000;
  }
  std::vector<MetricKey> matching;
  for (auto& key : store_.metrics(context.account, context.region, since_ms)) {
    if (input.namespace_ && key.namespace_ != *input.namespace_) continue;
    if (input.metric_name && key.metric_name != *input.metric_name) continue;
    bool match = true;
    for (const auto& filter : input.dimensions.value_or(std::vector<cw::DimensionFilter>{})) {
      const auto found = std::find_if(key.dimensions.begin(), key.dimensions.end(),
                                      [&](const auto& pair) { return pair.first == filter.name; });
      if (found == key.dimensions.end() || (filter.value && found->second != *filter.value)) {
        match = false;
        break;
      }
    }
    if (match) matching.push_back(std::move(key));
  }

  std::size_t begin = 0;
  if (input.next_token) {
    const auto& token = *input.next_token;
    std::size_t parsed = 0;
    bool ok = token.rfind(kListToken, 0) == 0;
    if (ok) {
      try {
        std::size_t used = 0;
        parsed = std::stoul(token.substr(kListToken.size()), &used);
        ok = used == token.size() - kListToken.size() && parsed <= matching.size();
      } catch (const std::exception&) {
        ok = false;
      }
    }
    if (!ok) throw ApiError(400, "InvalidNextToken", "The service couldn't process the NextToken.");
    begin = parsed;
  }
  const std::size_t end = std::min(matching.size(), begin + kListMetricsPage);
  nlohmann::json metrics = nlohmann::json::array();
  for (std::size_t i = begin; i < end; ++i) {
    nlohmann::json dimensions = nlohmann::json::array();
    for (const auto& [name, value] : matching[i].dimensions) {
      dimensions.push_back({{"Name", name}, {"Value", value}});
    }
    metrics.push_back({{"Namespace", matching[i].namespace_},
                       {"MetricName", matching[i].metric_name},
                       {"Dimensions", std::move(dimensions)}});
  }
  nlohmann::json out{{"Metrics", std::move(metrics)}};
  if (end < matching.size()) out["NextToken"] = fmt::format("{}{}", kListToken, end);
  return out;
}

}  // namespace dagster_dms::server
