#include "server/dms_api/service_catalog.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/dms_api/describe_page.hpp"
#include "server/dms_api/resources.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

// The read-only catalogue: what a region offers (instance classes, engine versions, endpoint
// engines and their settings). The values are those AWS documents, cut down to what dms-local
// really runs, so a tool that checks its configuration against the catalogue is told the truth.

constexpr std::array<SupportedEngine, 6> kEngines{{
    {"postgres", "PostgreSQL", true, true},
    {"aurora-postgresql", "Amazon Aurora PostgreSQL", true, true},
    // MySQL-family sources (full load, and change capture from the binary log).
    {"mysql", "MySQL", true, false},
    {"mariadb", "MariaDB", true, false},
    {"aurora", "Amazon Aurora MySQL", true, false},
    // dms-local writes S3-style files under --s3-root; it does not read them as a source.
    {"s3", "Amazon S3", false, true},
}};

// Replication engine versions, oldest first; each can be upgraded to every later one.
constexpr std::array<std::string_view, 3> kEngineVersions{"3.5.2", "3.5.3", "3.5.4"};
// The instance engine version that introduced each endpoint engine as dms-local runs it.
constexpr std::string_view kMinimumEngineVersion = "3.5.2";

struct InstanceClass {
  std::string_view name;
  std::int64_t included_storage_gib;  // T3 classes include 50 GiB, C5 and R5 100 GiB
};
constexpr std::array<InstanceClass, 14> kInstanceClasses{{
    {"dms.t3.micro", 50},
    {"dms.t3.small", 50},
    {"dms.t3.medium", 50},
    {"dms.t3.large", 50},
    {"dms.c5.large", 100},
    {"dms.c5.xlarge", 100},
    {"dms.c5.2xlarge", 100},
    {"dms.c5.4xlarge", 100},
    {"dms.c5.9xlarge", 100},
    {"dms.r5.large", 100},
    {"dms.r5.xlarge", 100},
    {"dms.r5.2xlarge", 100},
    {"dms.r5.4xlarge", 100},
    {"dms.r5.8xlarge", 100},
}};
constexpr std::int64_t kMinStorageGib = 5;
constexpr std::int64_t kMaxStorageGib = 6144;

// One endpoint setting as DescribeEndpointSettings lists it (extra connection attribute names).
struct Setting {
  std::string_view name;
  std::string_view type;  // string | boolean | integer | enum
  std::string_view applicability;
  std::string_view default_value;  // empty: none
  std::string_view units;          // empty: none
  std::vector<std::string_view> enum_values{};
  std::optional<std::int64_t> min{};
  std::optional<std::int64_t> max{};
};

const std::vector<Setting>& postgres_settings() {
  static const std::vector<Setting> settings{
      {"afterConnectScript", "string", "source-target", "", ""},
      {"captureDDLs", "boolean", "source", "true", ""},
      {"ddlArtifactsSchema", "string", "source", "public", ""},
      {"executeTimeout", "integer", "source-target", "60", "seconds", {}, 0, {}},
      {"failTasksOnLobTruncation", "boolean", "source", "false", ""},
      {"heartbeatEnable", "boolean", "source", "false", ""},
      {"heartbeatFrequency", "integer", "source", "5", "minutes", {}, 1, {}},
      {"heartbeatSchema", "string", "source", "public", ""},
      {"mapBooleanAsBoolean", "boolean", "source", "false", ""},
      {"mapJsonbAsClob", "boolean", "source", "false", ""},
      {"mapLongVarcharAs", "enum", "source", "wstring", "", {"wstring", "clob", "nclob"}},
      {"maxFileSize", "integer", "target", "32768", "KB", {}, 1, 1048576},
      {"pluginName",
       "enum",
       "source",
       "no-preference",
       "",
       {"no-preference", "test-decoding", "pglogical"}},
      {"slotName", "string", "source", "", ""},
  };
  return settings;
}

// MySQLSettings as dms-local reads them (sources only).
const std::vector<Setting>& mysql_settings() {
  static const std::vector<Setting> settings{
      {"afterConnectScript", "string", "source-target", "", ""},
      {"eventsPollInterval", "integer", "source", "5", "seconds", {}, 1, {}},
      {"parallelLoadThreads", "integer", "target", "1", "", {}, 1, 16},
      {"serverTimezone", "string", "source", "", ""},
  };
  return settings;
}

const std::vector<Setting>& s3_settings() {
  static const std::vector<Setting> settings{
      {"addColumnName", "boolean", "target", "false", ""},
      {"bucketFolder", "string", "target", "", ""},
      {"bucketName", "string", "target", "", ""},
      {"cdcInsertsAndUpdates", "boolean", "target", "false", ""},
      {"cdcInsertsOnly", "boolean", "target", "false", ""},
      {"cdcMaxBatchInterval", "integer", "target", "60", "seconds", {}, 0, {}},
      {"cdcMinFileSize", "integer", "target", "32000", "KB", {}, 0, {}},
      {"compressionType", "enum", "target", "none", "", {"none", "gzip"}},
      {"csvDelimiter", "string", "target", ",", ""},
      {"csvRowDelimiter", "string", "target", "\\n", ""},
      {"dataFormat", "enum", "target", "csv", "", {"csv", "parquet"}},
      {"datePartitionDelimiter",
       "enum",
       "target",
       "SLASH",
       "",
       {"SLASH", "UNDERSCORE", "DASH", "NONE"}},
      {"datePartitionEnabled", "boolean", "target", "false", ""},
      {"datePartitionSequence",
       "enum",
       "target",
       "YYYYMMDD",
       "",
       {"YYYYMMDD", "YYYYMMDDHH", "YYYYMM", "MMYYYYDD", "DDMMYYYY"}},
      {"includeOpForFullLoad", "boolean", "target", "false", ""},
      {"maxFileSize", "integer", "target", "1048576", "KB", {}, 1, 1048576},
      {"rfc4180", "boolean", "target", "true", ""},
      {"serviceAccessRoleArn", "string", "target", "", ""},
      {"timestampColumnName", "string", "target", "", ""},
  };
  return settings;
}

nlohmann::json setting_document(const Setting& setting) {
  nlohmann::json doc = {{"Name", setting.name},
                        {"Type", setting.type},
                        {"Applicability", setting.applicability},
                        {"Sensitive", false}};
  if (!setting.default_value.empty()) doc["DefaultValue"] = setting.default_value;
  if (!setting.units.empty()) doc["Units"] = setting.units;
  if (!setting.enum_values.empty()) doc["EnumValues"] = setting.enum_values;
  if (setting.min) doc["IntValueMin"] = *setting.min;
  if (setting.max) doc["IntValueMax"] = *setting.max;
  return doc;
}

const FilterSpec kNoFilters{{}, {}};
const FilterSpec kEndpointTypeFilters{{"engine-name", "endpoint-type"}, {"endpoint-type"}};

// MaxRecords: the listings whose model documents "Minimum 20, maximum 100" keep the default
// bounds; DescribeEngineVersions and DescribeEndpointSettings document no minimum.
constexpr PageBounds kAnyPageSize{1, 100, 100};

// A catalogue page: the documents in catalogue order, keyed by their (zero-padded) position.
nlohmann::json catalogue_page(const std::vector<nlohmann::json>& items,
                              const DescribeRequest& request, const FilterSpec& filters,
                              const char* list_member, PageBounds bounds = {}) {
  return describe_page(
      items, request, {filters, {}, bounds}, list_member,
      [](const nlohmann::json& item, std::string_view filter) {
        return std::vector<std::string>{
            item.value(filter == "engine-name" ? "EngineName" : "EndpointType", "")};
      },
      [](const nlohmann::json&, std::size_t index) { return fmt::format("{:06d}", index); },
      [](const nlohmann::json& item) { return item; });
}

nlohmann::json describe_orderable_instances(ControlPlane& /*plane*/, const RequestContext& context,
                                            const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeOrderableReplicationInstancesMessage>(body);
  const std::vector<std::string> zones{context.region + "a", context.region + "b",
                                       context.region + "c"};
  std::vector<nlohmann::json> items;
  for (const auto version : kEngineVersions) {
    for (const auto& instance_class : kInstanceClasses) {
      items.push_back({{"EngineVersion", version},
                       {"ReplicationInstanceClass", instance_class.name},
                       {"StorageType", "gp2"},
                       {"MinAllocatedStorage", kMinStorageGib},
                       {"MaxAllocatedStorage", kMaxStorageGib},
                       {"DefaultAllocatedStorage", 50},
                       {"IncludedAllocatedStorage", instance_class.included_storage_gib},
                       {"AvailabilityZones", zones}});
    }
  }
  return catalogue_page(items, {std::nullopt, request.max_records, request.marker}, kNoFilters,
                        "OrderableReplicationInstances");
}

nlohmann::json describe_engine_versions(ControlPlane& /*plane*/, const RequestContext& /*context*/,
                                        const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeEngineVersionsMessage>(body);
  std::vector<nlohmann::json> items;
  for (std::size_t i = 0; i < kEngineVersions.size(); ++i) {
    nlohmann::json upgrades = nlohmann::json::array();
    for (std::size_t later = i + 1; later < kEngineVersions.size(); ++later) {
      upgrades.push_back(kEngineVersions.at(later));
    }
    items.push_back({{"Version", kEngineVersions.at(i)},
                     {"ReleaseStatus", "prod"},
                     {"AvailableUpgrades", std::move(upgrades)}});
  }
  return catalogue_page(items, {std::nullopt, request.max_records, request.marker}, kNoFilters,
                        "EngineVersions", kAnyPageSize);
}

nlohmann::json describe_endpoint_types(ControlPlane& /*plane*/, const RequestContext& /*context*/,
                                       const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeEndpointTypesMessage>(body);
  std::vector<nlohmann::json> items;
  for (const auto& engine : kEngines) {
    for (const auto& [supported, type] :
         {std::pair{engine.source, "source"}, std::pair{engine.target, "target"}}) {
      if (!supported) continue;
      items.push_back({{"EngineName", engine.name},
                       {"EngineDisplayName", engine.display_name},
                       {"EndpointType", type},
                       {"SupportsCDC", true},
                       {"ReplicationInstanceEngineMinimumVersion", kMinimumEngineVersion}});
    }
  }
  return catalogue_page(items, DescribeRequest::of(request), kEndpointTypeFilters,
                        "SupportedEndpointTypes");
}

nlohmann::json describe_endpoint_settings(ControlPlane& /*plane*/,
                                          const RequestContext& /*context*/,
                                          const nlohmann::json& body) {
  const auto request = parse_request<dms::DescribeEndpointSettingsMessage>(body);
  const auto& engine = require_supported_engine(request.engine_name);
  const auto& settings = engine.name == "s3"            ? s3_settings()
                         : is_mysql_family(engine.name) ? mysql_settings()
                                                        : postgres_settings();
  std::vector<nlohmann::json> items;
  for (const auto& setting : settings) items.push_back(setting_document(setting));
  return catalogue_page(items, {std::nullopt, request.max_records, request.marker}, kNoFilters,
                        "EndpointSettings", kAnyPageSize);
}

}  // namespace

bool is_mysql_family(std::string_view engine) {
  return engine == "mysql" || engine == "mariadb" || engine == "aurora";
}

const SupportedEngine& require_supported_engine(std::string_view engine) {
  for (const auto& supported : kEngines) {
    if (supported.name == engine) return supported;
  }
  std::vector<std::string_view> names;
  for (const auto& supported : kEngines) names.push_back(supported.name);
  throw invalid_parameter(fmt::format("Invalid value {} for EngineName. dms-local supports {}.",
                                      engine, fmt::join(names, ", ")));
}

void register_service_catalog(ControlPlane& plane, OperationTable& table) {
  add_operations(plane, table,
                 {{"DescribeOrderableReplicationInstances", describe_orderable_instances},
                  {"DescribeEngineVersions", describe_engine_versions},
                  {"DescribeEndpointTypes", describe_endpoint_types},
                  {"DescribeEndpointSettings", describe_endpoint_settings}});
}

}  // namespace dagster_dms::server
