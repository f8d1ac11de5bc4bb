#include "server/dms_api/seed.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "server/dms_api/dms_service.hpp"
#include "server/dms_api/identifiers.hpp"
#include "server/front/api_error.hpp"

namespace dagster_dms::server {

namespace {

// What each section declares: the identifier member, the required and the optional members.
// Endpoints and instances are referred to by identifier in tasks and replication configs.
struct SectionSpec {
  const char* name;
  const char* identifier;
  std::vector<std::string_view> required;
  std::vector<std::string_view> optional;
};

const std::vector<SectionSpec>& sections() {
  static const std::vector<SectionSpec> kSections = {
      {"endpoints",
       "EndpointIdentifier",
       {"EndpointType", "EngineName"},
       {"Username", "Password", "ServerName", "Port", "DatabaseName", "ExtraConnectionAttributes",
        "KmsKeyId", "CertificateArn", "SslMode", "ServiceAccessRoleArn", "ExternalTableDefinition",
        "PostgreSQLSettings", "MySQLSettings", "S3Settings", "ResourceIdentifier", "Tags"}},
      {"instances",
       "ReplicationInstanceIdentifier",
       {},
       {"ReplicationInstanceClass", "AllocatedStorage", "AvailabilityZone",
        "PreferredMaintenanceWindow", "MultiAZ", "EngineVersion", "AutoMinorVersionUpgrade",
        "PubliclyAccessible", "NetworkType", "KmsKeyId", "ResourceIdentifier", "Tags"}},
      {"tasks",
       "ReplicationTaskIdentifier",
       {"SourceEndpoint", "TargetEndpoint", "ReplicationInstance", "TableMappings"},
       {"MigrationType", "ReplicationTaskSettings", "CdcStartPosition", "CdcStopPosition",
        "TaskData", "ResourceIdentifier", "Tags"}},
      {"replication_configs",
       "ReplicationConfigIdentifier",
       {"SourceEndpoint", "TargetEndpoint", "TableMappings"},
       {"ReplicationType", "ComputeConfig", "ReplicationSettings", "SupplementalSettings",
        "ResourceIdentifier", "Tags"}},
  };
  return kSections;
}

// Members whose API value is a JSON document in a string; a seed may write them as objects.
constexpr std::string_view kJsonStringMembers[] = {"TableMappings", "ReplicationTaskSettings",
                                                   "ReplicationSettings", "SupplementalSettings",
                                                   "TaskData"};

bool contains(const std::vector<std::string_view>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

nlohmann::json plain_scalar(const std::string& text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  const bool leading_zero = text.size() > 1 && text[0] == '0' && text[1] != '.';
  if (!leading_zero) {
    std::int64_t integer = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, error] = std::from_chars(text.data(), end, integer);
    if (error == std::errc() && ptr == end) return integer;
    double real = 0;
    const auto [rptr, rerror] = std::from_chars(text.data(), end, real);
    if (rerror == std::errc() && rptr == end) return real;
  }
  return text;
}

nlohmann::json from_yaml(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      // yaml-cpp tags quoted scalars "!": they are strings whatever they look like.
      return node.Tag() == "!" ? nlohmann::json(node.Scalar()) : plain_scalar(node.Scalar());
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(from_yaml(item));
      return out;
    }
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& item : node) out[item.first.as<std::string>()] = from_yaml(item.second);
      return out;
    }
  }
  return nullptr;
}

// A Tags member as the API's list: a map {key: value} or a list of {Key, Value}.
nlohmann::json tag_list(const nlohmann::json& tags,
                        const std::function<SeedError(std::string)>& fail) {
  nlohmann::json out = nlohmann::json::array();
  if (tags.is_object()) {
    for (const auto& [key, value] : tags.items()) {
      out.push_back(
          {{"Key", key}, {"Value", value.is_string() ? value.get<std::string>() : value.dump()}});
    }
    return out;
  }
  if (tags.is_array()) {
    for (const auto& tag : tags) {
      if (!tag.is_object() || !tag.contains("Key") || !tag["Key"].is_string()) {
        throw fail("field Tags: each tag needs a string Key (or write Tags as a map)");
      }
      out.push_back(tag);
    }
    return out;
  }
  throw fail("field Tags: must be a map of key: value or a list of {Key, Value}");
}

}  // namespace

// Creates a seed's resources through DmsService::handle, and asks the service directly what the
// API cannot say: whether an identifier exists (without a Describe round trip), and to make a
// seeded resource usable at once.
class SeedLoader {
 public:
  SeedLoader(DmsService& service, const Seed& seed)
      : service_(service), seed_(seed), context_{seed.account, seed.region} {}

  SeedOutcome run() {
    for (const auto& entry : seed_.endpoints) {
      create(entry, ResourceKind::kEndpoint, "CreateEndpoint", "Endpoint", "EndpointArn",
             entry.fields);
    }
    for (const auto& entry : seed_.instances) {
      auto body = entry.fields;
      if (!body.contains("ReplicationInstanceClass")) {
        body["ReplicationInstanceClass"] = "dms.t3.medium";
      }
      create(entry, ResourceKind::kInstance, "CreateReplicationInstance", "ReplicationInstance",
             "ReplicationInstanceArn", body);
    }
    for (const auto& entry : seed_.tasks) {
      auto body = entry.fields;
      resolve_endpoints(entry, body);
      body["ReplicationInstanceArn"] =
          resolve(entry, body, "ReplicationInstance", ResourceKind::kInstance);
      if (!body.contains("MigrationType")) body["MigrationType"] = "full-load";
      create(entry, ResourceKind::kTask, "CreateReplicationTask", "ReplicationTask",
             "ReplicationTaskArn", body);
    }
    for (const auto& entry : seed_.replication_configs) {
      auto body = entry.fields;
      resolve_endpoints(entry, body);
      if (!body.contains("ReplicationType")) body["ReplicationType"] = "full-load";
      if (!body.contains("ComputeConfig")) body["ComputeConfig"] = {{"MaxCapacityUnits", 1}};
      create(entry, ResourceKind::kReplicationConfig, "CreateReplicationConfig",
             "ReplicationConfig", "ReplicationConfigArn", body);
    }
    return outcome_;
  }

 private:
  [[nodiscard]] SeedError error(const SeedEntry& entry, const std::string& message) const {
    return SeedError(fmt::format("seed file {}: {}: {}", seed_.source, entry.name(), message));
  }

  std::optional<Record> find(ResourceKind kind, const std::string& identifier) {
    // Instance identifiers are stored lower-cased.
    const auto key = kind == ResourceKind::kInstance ? to_lower(identifier) : identifier;
    return service_.find_by_identifier(context_, kind, key);
  }

  // SourceEndpoint and TargetEndpoint (identifiers) of a task or replication config entry
  // turned into SourceEndpointArn and TargetEndpointArn.
  void resolve_endpoints(const SeedEntry& entry, nlohmann::json& body) {
    body["SourceEndpointArn"] = resolve(entry, body, "SourceEndpoint", ResourceKind::kEndpoint);
    body["TargetEndpointArn"] = resolve(entry, body, "TargetEndpoint", ResourceKind::kEndpoint);
  }

  // A reference by identifier (SourceEndpoint: my-source) turned into the ARN the API takes;
  // the member is removed from the request.
  std::string resolve(const SeedEntry& entry, nlohmann::json& body, const char* member,
                      ResourceKind kind) {
    const auto value = body[member];
    body.erase(member);
    if (!value.is_string()) {
      throw error(entry, fmt::format("field {}: must be the identifier of {}", member,
                                     kind == ResourceKind::kEndpoint ? "an endpoint"
                                                                     : "a replication instance"));
    }
    const auto identifier = value.get<std::string>();
    const auto record = find(kind, identifier);
    if (!record) {
      throw error(
          entry,
          fmt::format("field {}: {} {} is neither declared in the seed nor known "
                      "to dms-local",
                      member, kind == ResourceKind::kEndpoint ? "endpoint" : "replication instance",
                      identifier));
    }
    return record->arn;
  }

  void create(const SeedEntry& entry, ResourceKind kind, const char* operation,
              const char* result_member, const char* arn_member, const nlohmann::json& body) {
    if (find(kind, entry.identifier)) {
      ++outcome_.existing;
      return;
    }
    nlohmann::json result;
    try {
      result = service_.handle(context_, operation, body);
    } catch (const ApiError& api_error) {
      throw error(entry, fmt::format("{}: {}", api_error.code(), api_error.what()));
    }
    ++outcome_.created;
    // Seeded resources exist "from the start": no creating -> available wait.
    service_.make_usable_now(kind, result[result_member].value(arn_member, ""));
  }

  DmsService& service_;
  const Seed& seed_;
  RequestContext context_;
  SeedOutcome outcome_;
};

std::string SeedEntry::name() const {
  return identifier.empty() ? fmt::format("{}[{}]", section, index)
                            : fmt::format("{}[{}] ({})", section, index, identifier);
}

nlohmann::json read_seed_document(std::string_view text, bool is_json, const std::string& source) {
  if (is_json) {
    try {
      return nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& parse_error) {
      throw SeedError(fmt::format("seed file {}: not valid JSON: {}", source, parse_error.what()));
    }
  }
  try {
    return from_yaml(YAML::Load(std::string(text)));
  } catch (const YAML::Exception& yaml_error) {
    throw SeedError(fmt::format("seed file {}: not valid YAML: {}", source, yaml_error.what()));
  }
}

nlohmann::json read_seed_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw SeedError(fmt::format("seed file {}: cannot be read", path.string()));
  std::stringstream text;
  text << in.rdbuf();
  return read_seed_document(text.str(), path.extension() == ".json", path.string());
}

Seed parse_seed(const nlohmann::json& document, const std::string& source) {
  const auto fail = [&](const std::string& message) {
    return SeedError(fmt::format("seed file {}: {}", source, message));
  };
  if (!document.is_object()) {
    throw fail("the top level must be a mapping of account, region and resource sections");
  }
  Seed seed;
  seed.source = source;
  for (const auto& item : document.items()) {
    // A named copy, not a structured binding: clang 14 cannot capture bindings in lambdas.
    const std::string key = item.key();
    const bool section = std::any_of(sections().begin(), sections().end(),
                                     [&](const SectionSpec& spec) { return key == spec.name; });
    if (key != "account" && key != "region" && !section) {
      throw fail(fmt::format(
          "unknown top-level field {} (known: account, region, endpoints, instances, tasks, "
          "replication_configs)",
          key));
    }
  }
  if (document.contains("account")) {
    const auto& account = document["account"];
    if (!account.is_string() || account.get<std::string>().size() != 12 ||
        account.get<std::string>().find_first_not_of("0123456789") != std::string::npos) {
      throw fail("field account: must be a 12-digit account id in quotes");
    }
    seed.account = account.get<std::string>();
  }
  if (document.contains("region")) {
    if (!document["region"].is_string() || document["region"].get<std::string>().empty()) {
      throw fail("field region: must be a region name such as us-east-1");
    }
    seed.region = document["region"].get<std::string>();
  }
  for (const auto& spec : sections()) {
    if (!document.contains(spec.name) || document[spec.name].is_null()) continue;
    const auto& list = document[spec.name];
    if (!list.is_array()) throw fail(fmt::format("field {}: must be a list", spec.name));
    std::set<std::string> identifiers;
    for (std::size_t i = 0; i < list.size(); ++i) {
      SeedEntry entry;
      entry.section = spec.name;
      entry.index = i;
      const auto entry_error = [&](const std::string& message) {
        return SeedError(fmt::format("seed file {}: {}: {}", source, entry.name(), message));
      };
      if (!list[i].is_object()) throw entry_error("must be a mapping of fields");
      const auto& fields = list[i];
      if (!fields.contains(spec.identifier) || !fields[spec.identifier].is_string()) {
        throw entry_error(fmt::format("field {}: missing (a string is required)", spec.identifier));
      }
      entry.identifier = fields[spec.identifier].get<std::string>();
      if (auto problem = identifier_problem(spec.identifier, entry.identifier, 255)) {
        throw entry_error(fmt::format("field {}: {}", spec.identifier, *problem));
      }
      const auto key = spec.name == std::string_view("instances") ? to_lower(entry.identifier)
                                                                  : entry.identifier;
      if (!identifiers.insert(key).second) {
        throw entry_error(
            fmt::format("field {}: {} is declared twice", spec.identifier, entry.identifier));
      }
      for (const auto required : spec.required) {
        if (!fields.contains(required) || fields[std::string(required)].is_null()) {
          throw entry_error(fmt::format("field {}: missing", required));
        }
      }
      for (const auto& [name, value] : fields.items()) {
        if (name == spec.identifier) {
          entry.fields[name] = value;
          continue;
        }
        if (!contains(spec.required, name) && !contains(spec.optional, name)) {
          throw entry_error(fmt::format("unknown field {}", name));
        }
        if (name == "Tags") {
          entry.fields["Tags"] = tag_list(value, entry_error);
        } else if (std::find(std::begin(kJsonStringMembers), std::end(kJsonStringMembers), name) !=
                       std::end(kJsonStringMembers) &&
                   (value.is_object() || value.is_array())) {
          entry.fields[name] = value.dump();
        } else {
          entry.fields[name] = value;
        }
      }
      auto& target = spec.name == std::string_view("endpoints")   ? seed.endpoints
                     : spec.name == std::string_view("instances") ? seed.instances
                     : spec.name == std::string_view("tasks")     ? seed.tasks
                                                                  : seed.replication_configs;
      target.push_back(std::move(entry));
    }
  }
  return seed;
}

SeedOutcome apply_seed(DmsService& service, const Seed& seed) {
  return SeedLoader(service, seed).run();
}

}  // namespace dagster_dms::server
