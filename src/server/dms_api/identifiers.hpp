#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace dagster_dms::server {

// DMS identifier rules: ASCII letters, digits and hyphens, starting with a letter, no trailing
// hyphen and no "--". Returns the AWS-style complaint, or nullopt when `value` is valid.
std::optional<std::string> identifier_problem(std::string_view parameter, std::string_view value,
                                              std::size_t max_length);

// Throws InvalidParameterValueException when identifier_problem finds one.
void require_valid_identifier(std::string_view parameter, std::string_view value,
                              std::size_t max_length);

// A random ARN resource id the way DMS makes them: 26 characters of A-Z and 0-9.
std::string random_resource_id();

// The kinds of resource dms-local stores, with their ARN resource type. A connection (the result
// of TestConnection for one instance and endpoint) has no ARN of its own; its store key is made
// by connection_key().
// An event (DescribeEvents) has no ARN either: its store key is made from its sequence number.
enum class ResourceKind {
  kEndpoint,
  kInstance,
  kTask,
  kConnection,
  kReplicationConfig,
  kSubnetGroup,
  kEvent,
  kEventSubscription,
  kCertificate,
  kAssessmentRun,
};
// "endpoint", "rep", "task", "connection", "replication-config", "subgrp", "event", "es",
// "cert", "assessment-run"
std::string_view arn_resource_type(ResourceKind kind);

std::string make_arn(std::string_view region, std::string_view account, ResourceKind kind,
                     std::string_view resource_id);

struct ParsedArn {
  std::string region;
  std::string account;
  std::string resource_type;  // "endpoint", "rep", "task", ...
  std::string resource_id;
};
// Parses arn:aws:dms:<region>:<account>:<type>:<id>; nullopt for anything else.
std::optional<ParsedArn> parse_dms_arn(std::string_view arn);

// The resource id of an ARN dms-local made (the text after its last colon). Unlike
// parse_dms_arn it cannot fail, so a handler never dereferences an empty optional.
std::string arn_resource_id(std::string_view arn);

std::string to_lower(std::string_view text);

}  // namespace dagster_dms::server
