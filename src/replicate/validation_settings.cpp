#include "replicate/validation_settings.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "replicate/task_settings.hpp"
#include "replicate/task_settings_defaults.hpp"

namespace dagster_dms::replicate {

namespace {

constexpr const char* kSection = "ValidationSettings";
// ValidationOnly tasks wait this long before comparing a changed row (DMS's fixed value).
constexpr int kValidationOnlyCdcDelaySeconds = 180;

nlohmann::json parse_document(std::string_view settings_json) {
  if (settings_json.empty()) return nlohmann::json::object();
  auto parsed = nlohmann::json::parse(settings_json, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    throw std::invalid_argument("task settings JSON must be an object");
  }
  return parsed;
}

// A member of the section as given, or DMS's default.
const nlohmann::json& member(const nlohmann::json& section, const char* name) {
  const auto found = section.find(name);
  if (found != section.end() && !found->is_null()) return *found;
  return default_task_settings()[kSection][name];
}

long long integer(const nlohmann::json& section, const char* name, long long minimum,
                  long long maximum) {
  const auto& value = member(section, name);
  if (!value.is_number_integer() || value.get<long long>() < minimum ||
      value.get<long long>() > maximum) {
    throw std::invalid_argument(fmt::format("{}.{} must be an integer between {} and {}", kSection,
                                            name, minimum, maximum));
  }
  return value.get<long long>();
}

bool flag(const nlohmann::json& section, const char* name) {
  const auto& value = member(section, name);
  if (!value.is_boolean()) {
    throw std::invalid_argument(fmt::format("{}.{} must be true or false", kSection, name));
  }
  return value.get<bool>();
}

}  // namespace

ValidationSettings parse_validation_settings(std::string_view settings_json) {
  const auto document = parse_document(settings_json);
  const auto empty = nlohmann::json::object();
  const auto found = document.find(kSection);
  const auto& section = found != document.end() && found->is_object() ? *found : empty;
  constexpr long long kMax = 1000000000;
  ValidationSettings out;
  out.enabled = flag(section, "EnableValidation");
  const auto& mode = member(section, "ValidationMode");
  if (!mode.is_string() || mode.get<std::string>() != "ROW_LEVEL") {
    throw std::invalid_argument(
        fmt::format("{}.ValidationMode must be ROW_LEVEL (the only mode DMS supports)", kSection));
  }
  out.thread_count = static_cast<int>(integer(section, "ThreadCount", 1, 128));
  out.partition_size = integer(section, "PartitionSize", 1, kMax);
  out.failure_max_count = integer(section, "FailureMaxCount", 1, kMax);
  out.table_failure_max_count = integer(section, "TableFailureMaxCount", 1, kMax);
  out.validation_only = flag(section, "ValidationOnly");
  out.handle_collation_diff = flag(section, "HandleCollationDiff");
  out.skip_lob_columns = flag(section, "SkipLobColumns");
  out.cdc_delay_seconds =
      static_cast<int>(integer(section, "ValidationQueryCdcDelaySeconds", 0, 86400));
  if (out.validation_only) out.cdc_delay_seconds = kValidationOnlyCdcDelaySeconds;
  return out;
}

std::string validation_settings_problem(std::string_view settings_json,
                                        std::string_view migration_type) {
  ValidationSettings settings;
  try {
    settings = parse_validation_settings(settings_json);
  } catch (const std::invalid_argument& error) {
    return fmt::format("Invalid task settings: {}.", error.what());
  }
  if (!settings.validation_only) return {};
  if (migration_type != "full-load" && migration_type != "cdc") {
    return fmt::format(
        "ValidationSettings.ValidationOnly needs migration type full-load or cdc, not {}.",
        migration_type);
  }
  if (!settings.enabled) {
    return "ValidationSettings.ValidationOnly needs ValidationSettings.EnableValidation true.";
  }
  try {
    if (parse_full_load_settings(settings_json).prep_mode != TablePrepMode::kDoNothing) {
      return "ValidationSettings.ValidationOnly needs FullLoadSettings.TargetTablePrepMode "
             "DO_NOTHING: a validation-only task never changes the target.";
    }
  } catch (const std::invalid_argument& error) {
    return fmt::format("Invalid task settings: {}.", error.what());
  }
  return {};
}

}  // namespace dagster_dms::replicate
