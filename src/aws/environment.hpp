#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace dagster_dms::aws {

// Read access to environment variables, injectable so configuration can be tested without
// touching the process environment.
class Environment {
 public:
  virtual ~Environment() = default;
  // The variable's value; an empty value counts as unset, as the AWS SDKs treat it.
  [[nodiscard]] virtual std::optional<std::string> get(std::string_view name) const = 0;
};

class ProcessEnvironment final : public Environment {
 public:
  [[nodiscard]] std::optional<std::string> get(std::string_view name) const override;
};

class MapEnvironment final : public Environment {
 public:
  MapEnvironment() = default;
  explicit MapEnvironment(std::map<std::string, std::string, std::less<>> vars)
      : vars_(std::move(vars)) {}
  [[nodiscard]] std::optional<std::string> get(std::string_view name) const override;
  void set(std::string name, std::string value) { vars_[std::move(name)] = std::move(value); }

 private:
  std::map<std::string, std::string, std::less<>> vars_;
};

}  // namespace dagster_dms::aws
