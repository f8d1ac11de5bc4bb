#pragma once

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aws/json_rpc.hpp"
#include "aws/session.hpp"
#include "dms/client_support.hpp"
#include "dms/model/dms_model.hpp"
#include "dms/model/operations.hpp"

namespace dagster_dms::dms {

// Typed AWS Database Migration Service API. One method per operation (generated from the API model
// into DmsOperations) taking the generated input shape and returning the generated output shape;
// the single-page Describe methods return the page with its Marker, the `*_all` methods follow
// Marker to the end (a filtered listing matching nothing is an empty list, though DMS answers
// ResourceNotFoundFault). Thread-safe (the underlying JsonRpcClient is), throws what JsonRpcClient
// throws.
class DmsClient : public DmsOperations<DmsClient> {
 public:
  // ListTagsForResource ARNs per call. The model sets no limit on ResourceArnList; a modest batch
  // keeps each answer small and bounds the cost of falling back to one ARN per call.
  static constexpr std::size_t kTagBatchSize = 20;

  explicit DmsClient(std::shared_ptr<aws::Session> session);

  // The one call path of every operation. Start and stop are not blindly resent after an
  // ambiguous failure: the resource's state says whether they took effect (see the .cpp).
  template <class Op>
  typename Op::Output call(const typename Op::Input& input) {
    if constexpr (Op::retryability == aws::Retryability::kNotAfterAmbiguousFailure) {
      // Before sending: a run that began from this moment on is ours.
      const Timestamp sent_at = rpc_.session()->clock().now();
      return detail::call_with_state_check(
          [&] { return detail::send<Op>(rpc_, input); },
          [&] { return state_after_ambiguous_failure(input, sent_at); });
    } else {
      return detail::send<Op>(rpc_, input);
    }
  }

  // The task with this ARN, or nullopt when there is none.
  std::optional<ReplicationTask> find_replication_task(const std::string& arn,
                                                       bool without_settings = false);
  // The replication of this config ARN, or nullopt when there is none.
  std::optional<Replication> find_replication(const std::string& config_arn);

  // Tags of every ARN (each requested ARN is a key, untagged ones map to an empty list), asked in
  // ResourceArnList batches of kTagBatchSize. A server that rejects ResourceArnList (older
  // servers, emulators) is asked one ResourceArn at a time from then on.
  std::map<std::string, std::vector<Tag>> tags_for_resources(const std::vector<std::string>& arns);

  aws::JsonRpcClient& rpc() { return rpc_; }
  [[nodiscard]] const aws::CallCounters& counters() const { return rpc_.counters(); }

 private:
  // What a start or stop sent at `sent_at` did, read back after an ambiguous failure: the
  // resource's state as the call's answer when it shows the call took effect, else nullopt.
  std::optional<StartReplicationTaskResponse> state_after_ambiguous_failure(
      const StartReplicationTaskMessage& input, Timestamp sent_at);
  std::optional<StopReplicationTaskResponse> state_after_ambiguous_failure(
      const StopReplicationTaskMessage& input, Timestamp sent_at);
  std::optional<StartReplicationResponse> state_after_ambiguous_failure(
      const StartReplicationMessage& input, Timestamp sent_at);
  std::optional<StopReplicationResponse> state_after_ambiguous_failure(
      const StopReplicationMessage& input, Timestamp sent_at);
  std::optional<StartReplicationTaskAssessmentRunResponse> state_after_ambiguous_failure(
      const StartReplicationTaskAssessmentRunMessage& input, Timestamp sent_at);

  aws::JsonRpcClient rpc_;
  // Set once a server has rejected ResourceArnList; later tag lookups go per ARN straight away.
  std::atomic<bool> arn_list_rejected_{false};
};

}  // namespace dagster_dms::dms
