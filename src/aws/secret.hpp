#pragma once

#include <string>

namespace dagster_dms::aws {

// A string that must never reach a log, an exception message or a repr. Reading it takes an
// explicit reveal(), so a leak shows up in review.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}

  [[nodiscard]] const std::string& reveal() const { return value_; }
  [[nodiscard]] bool empty() const { return value_.empty(); }
  // What to print instead of the value.
  [[nodiscard]] static constexpr const char* redacted() { return "****"; }

  friend bool operator==(const Secret&, const Secret&) = default;

 private:
  std::string value_;
};

}  // namespace dagster_dms::aws
