#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dagster_dms::server {

// The term form of CloudWatch Logs filter patterns, which is what task-log searches use:
//   ERROR                 events containing ERROR
//   ERROR table           events containing both terms
//   "Load finished"       a quoted phrase, spaces and punctuation included
//   ?ERROR ?WARN          events containing either (combined with plain terms: all of those too)
//   ERROR -ignored        events with ERROR but not "ignored"
// Matching is case-sensitive, as in CloudWatch. JSON ({ ... }), space-delimited ([ ... ]) and
// regular-expression (%...%) patterns are not supported: parse() throws std::invalid_argument.
class LogFilterPattern {
 public:
  static LogFilterPattern parse(std::string_view pattern);
  [[nodiscard]] bool matches(std::string_view message) const;

 private:
  std::vector<std::string> all_;
  std::vector<std::string> any_;
  std::vector<std::string> none_;
};

}  // namespace dagster_dms::server
