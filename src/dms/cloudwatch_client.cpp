#include "dms/cloudwatch_client.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "aws/service_info.hpp"

namespace dagster_dms::dms {

using namespace cloudwatch;

CloudWatchClient::CloudWatchClient(std::shared_ptr<aws::Session> session)
    : rpc_(std::move(session), aws::cloudwatch_service()) {}

GetMetricDataOutput CloudWatchClient::get_metric_data_all(
    GetMetricDataInput input, const PageCallback<GetMetricDataOutput>& on_page) {
  GetMetricDataOutput merged;
  merged.metric_data_results.emplace();
  std::map<std::string, std::size_t> position;  // query Id -> index in merged results

  const auto merge = [&](GetMetricDataOutput& page) {
    if (!page.metric_data_results) page.metric_data_results.emplace();
    for (auto& result : *page.metric_data_results) {
      const std::string id = result.id.value_or("");
      auto [it, inserted] = position.emplace(id, merged.metric_data_results->size());
      if (inserted) {
        merged.metric_data_results->push_back(std::move(result));
        continue;
      }
      auto& into = (*merged.metric_data_results)[it->second];
      const auto append = [](auto& to, auto& from) {
        if (!from) return;
        if (!to) to.emplace();
        to->insert(to->end(), std::make_move_iterator(from->begin()),
                   std::make_move_iterator(from->end()));
      };
      append(into.timestamps, result.timestamps);
      append(into.values, result.values);
      append(into.messages, result.messages);
      if (result.status_code) into.status_code = std::move(result.status_code);
      if (!into.label && result.label) into.label = std::move(result.label);
    }
    if (page.messages) {
      if (!merged.messages) merged.messages.emplace();
      merged.messages->insert(merged.messages->end(), page.messages->begin(), page.messages->end());
    }
  };

  const std::vector<MetricDataQuery> queries = std::move(input.metric_data_queries);
  for (std::size_t begin = 0; begin < queries.size(); begin += kMaxQueriesPerCall) {
    const std::size_t end = std::min(queries.size(), begin + kMaxQueriesPerCall);
    GetMetricDataInput batch = input;
    batch.metric_data_queries.assign(queries.begin() + static_cast<long>(begin),
                                     queries.begin() + static_cast<long>(end));
    batch.next_token.reset();
    std::set<std::string> seen_tokens;
    for (;;) {
      GetMetricDataOutput page = get_metric_data(batch);
      if (on_page) on_page(page);
      std::optional<std::string> token = std::move(page.next_token);
      merge(page);
      if (!token || token->empty()) break;
      // A server that hands back a token it already gave would make this loop forever.
      if (!seen_tokens.insert(*token).second) {
        throw aws::ProtocolError("GetMetricData pagination token repeated: " + *token);
      }
      batch.next_token = std::move(token);
    }
  }
  return merged;
}

GetMetricDataOutput CloudWatchClient::get_metric_data_all(
    std::vector<MetricDataQuery> queries, Timestamp start, Timestamp end,
    const PageCallback<GetMetricDataOutput>& on_page) {
  GetMetricDataInput input;
  input.metric_data_queries = std::move(queries);
  input.start_time = start;
  input.end_time = end;
  return get_metric_data_all(std::move(input), on_page);
}

}  // namespace dagster_dms::dms
