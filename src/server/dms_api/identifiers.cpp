#include "server/dms_api/identifiers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <random>
#include <vector>

#include "server/front/api_error.hpp"

namespace dagster_dms::server {

std::optional<std::string> identifier_problem(std::string_view parameter, std::string_view value,
                                              std::size_t max_length) {
  const auto is_ascii_letter = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  };
  const auto is_ascii_digit = [](char c) { return c >= '0' && c <= '9'; };
  bool ok = !value.empty() && is_ascii_letter(value.front()) && value.back() != '-' &&
            value.find("--") == std::string_view::npos;
  ok = ok && std::all_of(value.begin(), value.end(), [&](char c) {
         return is_ascii_letter(c) || is_ascii_digit(c) || c == '-';
       });
  if (!ok) {
    return fmt::format(
        "The parameter {} is not a valid identifier. Identifiers must begin with a letter; must "
        "contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or "
        "contain two consecutive hyphens.",
        parameter);
  }
  if (value.size() > max_length) {
    return fmt::format("The parameter {} must be between 1 and {} characters long.", parameter,
                       max_length);
  }
  return std::nullopt;
}

void require_valid_identifier(std::string_view parameter, std::string_view value,
                              std::size_t max_length) {
  if (auto problem = identifier_problem(parameter, value, max_length)) {
    throw invalid_parameter(*problem);
  }
}

std::string random_resource_id() {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  // One generator per thread: seeded once from the OS, so ids do not repeat across restarts.
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  std::string out(26, 'A');
  for (auto& c : out) c = kAlphabet[pick(generator)];
  return out;
}

std::string_view arn_resource_type(ResourceKind kind) {
  switch (kind) {
    case ResourceKind::kEndpoint:
      return "endpoint";
    case ResourceKind::kInstance:
      return "rep";
    case ResourceKind::kTask:
      return "task";
    case ResourceKind::kConnection:
      return "connection";
    case ResourceKind::kReplicationConfig:
      return "replication-config";
    case ResourceKind::kSubnetGroup:
      return "subgrp";
    case ResourceKind::kEvent:
      return "event";
    case ResourceKind::kEventSubscription:
      return "es";
    case ResourceKind::kCertificate:
      return "cert";
    case ResourceKind::kAssessmentRun:
      return "assessment-run";
  }
  return "unknown";
}

std::string make_arn(std::string_view region, std::string_view account, ResourceKind kind,
                     std::string_view resource_id) {
  return fmt::format("arn:aws:dms:{}:{}:{}:{}", region, account, arn_resource_type(kind),
                     resource_id);
}

std::optional<ParsedArn> parse_dms_arn(std::string_view arn) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (parts.size() < 6) {
    const auto colon = arn.find(':', start);
    if (colon == std::string_view::npos) return std::nullopt;
    parts.push_back(arn.substr(start, colon - start));
    start = colon + 1;
  }
  parts.push_back(arn.substr(start));
  if (parts[0] != "arn" || parts[1] != "aws" || parts[2] != "dms" || parts[3].empty() ||
      parts[4].empty() || parts[5].empty() || parts[6].empty()) {
    return std::nullopt;
  }
  return ParsedArn{std::string(parts[3]), std::string(parts[4]), std::string(parts[5]),
                   std::string(parts[6])};
}

std::string arn_resource_id(std::string_view arn) {
  const auto colon = arn.rfind(':');
  return std::string(colon == std::string_view::npos ? arn : arn.substr(colon + 1));
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace dagster_dms::server
