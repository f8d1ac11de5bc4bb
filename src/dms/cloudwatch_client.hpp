#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "aws/json_rpc.hpp"
#include "aws/session.hpp"
#include "dms/client_support.hpp"
#include "dms/model/cloudwatch_model.hpp"
#include "dms/model/operations.hpp"

namespace dagster_dms::dms {

// Typed CloudWatch metrics API over its JSON 1.0 protocol (target GraniteServiceVersion20100801):
// one method per operation, generated into CloudWatchOperations.
class CloudWatchClient : public cloudwatch::CloudWatchOperations<CloudWatchClient> {
 public:
  // GetMetricData accepts at most 500 MetricDataQueries per call.
  static constexpr std::size_t kMaxQueriesPerCall = 500;

  explicit CloudWatchClient(std::shared_ptr<aws::Session> session);

  // The one call path of every operation.
  template <class Op>
  typename Op::Output call(const typename Op::Input& input) {
    return detail::send<Op>(rpc_, input);
  }

  // Every datapoint of every query: the queries go in batches of kMaxQueriesPerCall, each batch
  // follows NextToken, and the results are merged per query Id (timestamps and values appended in
  // page order, the last page's StatusCode kept), in the order the Ids first appear. Queries are
  // split in order, so a math expression must sit in the same batch of 500 as the queries it
  // references.
  cloudwatch::GetMetricDataOutput get_metric_data_all(
      cloudwatch::GetMetricDataInput input,
      const PageCallback<cloudwatch::GetMetricDataOutput>& on_page = {});
  cloudwatch::GetMetricDataOutput get_metric_data_all(
      std::vector<cloudwatch::MetricDataQuery> queries, Timestamp start, Timestamp end,
      const PageCallback<cloudwatch::GetMetricDataOutput>& on_page = {});

  aws::JsonRpcClient& rpc() { return rpc_; }

 private:
  aws::JsonRpcClient rpc_;
};

}  // namespace dagster_dms::dms
