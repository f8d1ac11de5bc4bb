#include "server/front/permissions.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <stdexcept>
#include <utility>

#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

char fold(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

// A pattern is "*" or "<service>:<operation pattern>"; anything else is almost certainly a typo
// that would silently deny, so the credentials file is refused instead.
bool is_well_formed_pattern(std::string_view pattern) {
  if (pattern == "*") return true;
  const auto colon = pattern.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == pattern.size()) return false;
  const auto is_name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '*' || c == '?';
  };
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (i != colon && !is_name_char(pattern[i])) return false;
  }
  return true;
}

// The members through which a request names the resource it acts on, most specific first.
constexpr std::array<std::string_view, 6> kDmsResourceMembers = {
    "ReplicationTaskArn",   "EndpointArn", "ReplicationInstanceArn",
    "ReplicationConfigArn", "ResourceArn", "ReplicationTaskAssessmentRunArn",
};

std::string string_member(const nlohmann::json& body, std::string_view name) {
  if (!body.is_object()) return {};
  const auto found = body.find(name);
  if (found == body.end() || !found->is_string()) return {};
  return found->get<std::string>();
}

}  // namespace

bool action_pattern_matches(std::string_view pattern, std::string_view action) {
  // Iterative glob match with one backtrack point: linear in practice, and no recursion depth a
  // hostile file could exhaust.
  std::size_t p = 0;
  std::size_t a = 0;
  std::size_t star = std::string_view::npos;
  std::size_t star_match = 0;
  while (a < action.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || fold(pattern[p]) == fold(action[a]))) {
      ++p;
      ++a;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_match = a;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      a = ++star_match;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

ActionPolicy ActionPolicy::allow_all() {
  ActionPolicy policy;
  policy.allowed_patterns_ = {"*"};
  return policy;
}

ActionPolicy::ActionPolicy(std::vector<std::string> allowed_patterns)
    : allowed_patterns_(std::move(allowed_patterns)) {
  for (const auto& pattern : allowed_patterns_) {
    if (!is_well_formed_pattern(pattern)) {
      throw std::invalid_argument(fmt::format(
          "action \"{}\" is not \"*\" or \"service:Operation\" (for example "
          "\"dms:DescribeReplicationTasks\", \"dms:Describe*\", \"cloudwatch:GetMetricData\", "
          "\"logs:GetLogEvents\")",
          pattern));
    }
  }
}

bool ActionPolicy::allows(std::string_view action) const {
  for (const auto& pattern : allowed_patterns_) {
    if (action_pattern_matches(pattern, action)) return true;
  }
  return false;
}

std::string iam_action(std::string_view signing_name, std::string_view operation) {
  const std::string_view prefix = signing_name == "monitoring" ? "cloudwatch" : signing_name;
  return fmt::format("{}:{}", prefix, operation);
}

std::string iam_resource(std::string_view signing_name, std::string_view region,
                         std::string_view account_id, const nlohmann::json& request_body) {
  if (signing_name == "dms") {
    for (const auto member : kDmsResourceMembers) {
      auto arn = string_member(request_body, member);
      if (!arn.empty()) return arn;
    }
  } else if (signing_name == "logs") {
    const auto group = string_member(request_body, "logGroupName");
    if (!group.empty()) {
      const auto stream = string_member(request_body, "logStreamName");
      return fmt::format("arn:aws:logs:{}:{}:log-group:{}:log-stream:{}", region, account_id, group,
                         stream);
    }
  }
  return "*";
}

void require_permission(const Principal& principal, std::string_view signing_name,
                        std::string_view region, std::string_view operation,
                        const nlohmann::json& request_body) {
  const std::string action = iam_action(signing_name, operation);
  if (principal.policy.allows(action)) return;
  // CloudWatch answers a denial as the query protocol does (403 AccessDenied); DMS and Logs
  // answer AccessDeniedException with 400.
  const int status = signing_name == "monitoring" ? 403 : 400;
  throw ApiError(
      status, "AccessDeniedException",
      fmt::format("User: arn:aws:iam::{}:user/{} is not authorized to perform: {} on resource: {} "
                  "because no identity-based policy allows the {} action",
                  principal.account_id, principal.user_name, action,
                  iam_resource(signing_name, region, principal.account_id, request_body), action));
}

}  // namespace dagster_dms::server
