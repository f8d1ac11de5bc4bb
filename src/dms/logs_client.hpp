#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "aws/json_rpc.hpp"
#include "aws/session.hpp"
#include "dms/client_support.hpp"
#include "dms/model/logs_model.hpp"
#include "dms/model/operations.hpp"

namespace dagster_dms::dms {

// Typed CloudWatch Logs API (the calls the task log tail needs): one method per operation,
// generated into LogsOperations.
class LogsClient : public logs::LogsOperations<LogsClient> {
 public:
  explicit LogsClient(std::shared_ptr<aws::Session> session);

  // The one call path of every operation.
  template <class Op>
  typename Op::Output call(const typename Op::Input& input) {
    return detail::send<Op>(rpc_, input);
  }

  // Reads forward (or backward when startFromHead is false) until the service hands back the
  // token it was given, which is how GetLogEvents says "no more for now", or until max_pages.
  std::vector<logs::OutputLogEvent> get_log_events_all(
      logs::GetLogEventsRequest input, const PageCallback<logs::GetLogEventsResponse>& on_page = {},
      std::size_t max_pages = 1000);

  aws::JsonRpcClient& rpc() { return rpc_; }

 private:
  aws::JsonRpcClient rpc_;
};

}  // namespace dagster_dms::dms
