#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace dagster_dms::server {

// The actions one key pair may call, as the Action element of an IAM identity policy lists them:
// "service:Operation" (dms:DescribeReplicationTasks, cloudwatch:GetMetricData, logs:GetLogEvents),
// matched without regard to case, with IAM's wildcards: `*` (any run of characters) and `?` (one
// character), so "dms:*", "dms:Describe*" and "*" work as they do in a policy. dms-local has no
// Deny statements and no resource conditions: a key may call an action or it may not.
class ActionPolicy {
 public:
  // A key pair without an action list (every key pair of an older credentials file, and the
  // default test/test) may call everything.
  static ActionPolicy allow_all();
  // Throws std::invalid_argument naming the first pattern that is not "*" or "service:pattern".
  explicit ActionPolicy(std::vector<std::string> allowed_patterns);

  [[nodiscard]] bool allows(std::string_view action) const;

 private:
  ActionPolicy() = default;
  std::vector<std::string> allowed_patterns_;
};

// IAM's wildcard match of one Action pattern against an action name, case-insensitive.
bool action_pattern_matches(std::string_view pattern, std::string_view action);

// The IAM action a request calls: the service prefix IAM uses for the signing name ("monitoring"
// signs requests, "cloudwatch" names the actions) and the operation, e.g.
// "cloudwatch:GetMetricData".
std::string iam_action(std::string_view signing_name, std::string_view operation);

// What IAM names as the resource of a denied call: the ARN the request acts on when it names one
// (a task, an endpoint, a log stream), otherwise "*".
std::string iam_resource(std::string_view signing_name, std::string_view region,
                         std::string_view account_id, const nlohmann::json& request_body);

// Who is asking, as the denial message names them.
struct Principal {
  std::string account_id;
  std::string user_name;
  const ActionPolicy& policy;
};

// Throws AccessDeniedException, worded as AWS words an identity-policy denial, unless the
// principal's policy allows the operation. Runs after the signature is verified and before any
// handler, for the DMS, CloudWatch and Logs services alike.
void require_permission(const Principal& principal, std::string_view signing_name,
                        std::string_view region, std::string_view operation,
                        const nlohmann::json& request_body);

}  // namespace dagster_dms::server
