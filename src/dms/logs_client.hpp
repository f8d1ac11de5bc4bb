#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "aws/json_rpc.hpp"
#include "aws/session.hpp"
#include "dms/client_support.hpp"
#include "dms/model/logs_model.hpp"

namespace dagster_dms::dms {

// Typed CloudWatch Logs API (the calls the task log tail needs).
class LogsClient {
 public:
  explicit LogsClient(std::shared_ptr<aws::Session> session);

  logs::GetLogEventsResponse get_log_events(const logs::GetLogEventsRequest& input);
  // Reads forward (or backward when startFromHead is false) until the service hands back the
  // token it was given, which is how GetLogEvents says "no more for now", or until max_pages.
  std::vector<logs::OutputLogEvent> get_log_events_all(
      logs::GetLogEventsRequest input, const PageCallback<logs::GetLogEventsResponse>& on_page = {},
      std::size_t max_pages = 1000);

  logs::FilterLogEventsResponse filter_log_events(const logs::FilterLogEventsRequest& input);
  std::vector<logs::FilteredLogEvent> filter_log_events_all(
      logs::FilterLogEventsRequest input,
      const PageCallback<logs::FilterLogEventsResponse>& on_page = {});

  logs::DescribeLogStreamsResponse describe_log_streams(
      const logs::DescribeLogStreamsRequest& input);
  std::vector<logs::LogStream> describe_log_streams_all(
      logs::DescribeLogStreamsRequest input,
      const PageCallback<logs::DescribeLogStreamsResponse>& on_page = {});

  logs::DescribeLogGroupsResponse describe_log_groups(const logs::DescribeLogGroupsRequest& input);
  std::vector<logs::LogGroup> describe_log_groups_all(
      logs::DescribeLogGroupsRequest input = {},
      const PageCallback<logs::DescribeLogGroupsResponse>& on_page = {});

  aws::JsonRpcClient& rpc() { return rpc_; }

 private:
  aws::JsonRpcClient rpc_;
};

}  // namespace dagster_dms::dms
