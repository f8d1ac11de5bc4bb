#include "dms/logs_client.hpp"

#include <utility>

#include "aws/service_info.hpp"

namespace dagster_dms::dms {

using namespace logs;

LogsClient::LogsClient(std::shared_ptr<aws::Session> session)
    : rpc_(std::move(session), aws::logs_service()) {}

GetLogEventsResponse LogsClient::get_log_events(const GetLogEventsRequest& input) {
  return detail::typed_call<GetLogEventsResponse>(rpc_, "GetLogEvents", input);
}

std::vector<OutputLogEvent> LogsClient::get_log_events_all(
    GetLogEventsRequest input, const PageCallback<GetLogEventsResponse>& on_page,
    std::size_t max_pages) {
  // Without startFromHead the service starts at the tail and the forward token goes nowhere.
  const bool forward = input.start_from_head.value_or(false);
  std::vector<OutputLogEvent> all;
  for (std::size_t page_number = 0; page_number < max_pages; ++page_number) {
    GetLogEventsResponse page = get_log_events(input);
    if (on_page) on_page(page);
    if (page.events) {
      all.insert(forward ? all.end() : all.begin(), std::make_move_iterator(page.events->begin()),
                 std::make_move_iterator(page.events->end()));
    }
    const auto& token = forward ? page.next_forward_token : page.next_backward_token;
    if (!token || token->empty() || token == input.next_token) break;
    input.next_token = token;
  }
  return all;
}

FilterLogEventsResponse LogsClient::filter_log_events(const FilterLogEventsRequest& input) {
  return detail::typed_call<FilterLogEventsResponse>(rpc_, "FilterLogEvents", input);
}

std::vector<FilteredLogEvent> LogsClient::filter_log_events_all(
    FilterLogEventsRequest input, const PageCallback<FilterLogEventsResponse>& on_page) {
  return detail::collect_pages(
      std::move(input), [this](const auto& in) { return filter_log_events(in); },
      &FilterLogEventsRequest::next_token, &FilterLogEventsResponse::next_token,
      &FilterLogEventsResponse::events, on_page, false);
}

DescribeLogStreamsResponse LogsClient::describe_log_streams(
    const DescribeLogStreamsRequest& input) {
  return detail::typed_call<DescribeLogStreamsResponse>(rpc_, "DescribeLogStreams", input);
}

std::vector<LogStream> LogsClient::describe_log_streams_all(
    DescribeLogStreamsRequest input, const PageCallback<DescribeLogStreamsResponse>& on_page) {
  return detail::collect_pages(
      std::move(input), [this](const auto& in) { return describe_log_streams(in); },
      &DescribeLogStreamsRequest::next_token, &DescribeLogStreamsResponse::next_token,
      &DescribeLogStreamsResponse::log_streams, on_page, false);
}

DescribeLogGroupsResponse LogsClient::describe_log_groups(const DescribeLogGroupsRequest& input) {
  return detail::typed_call<DescribeLogGroupsResponse>(rpc_, "DescribeLogGroups", input);
}

std::vector<LogGroup> LogsClient::describe_log_groups_all(
    DescribeLogGroupsRequest input, const PageCallback<DescribeLogGroupsResponse>& on_page) {
  return detail::collect_pages(
      std::move(input), [this](const auto& in) { return describe_log_groups(in); },
      &DescribeLogGroupsRequest::next_token, &DescribeLogGroupsResponse::next_token,
      &DescribeLogGroupsResponse::log_groups, on_page, false);
}

}  // namespace dagster_dms::dms
