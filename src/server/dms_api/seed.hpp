#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace dagster_dms::server {

class DmsService;

// A seed file that cannot be read or applied; the message names the file, the entry and the
// field.
class SeedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One declared resource: its section ("endpoints", "instances", "tasks", "replication_configs"),
// its position there and its request members (AWS API names).
struct SeedEntry {
  std::string section;
  std::size_t index = 0;
  std::string identifier;
  nlohmann::json fields = nlohmann::json::object();

  // `tasks[2] (my-task)`: how messages name the entry.
  [[nodiscard]] std::string name() const;
};

// What `dms-local serve --seed FILE` declares: resources of one account and region.
struct Seed {
  std::string source;  // the file, for messages
  std::string account = "000000000000";
  std::string region = "us-east-1";
  std::vector<SeedEntry> endpoints;
  std::vector<SeedEntry> instances;
  std::vector<SeedEntry> tasks;
  std::vector<SeedEntry> replication_configs;
};

// YAML (or JSON, by the .json extension) into a JSON document. YAML plain scalars become
// booleans, numbers and nulls as YAML 1.2 reads them, except digit strings with a leading zero
// (account ids), which stay strings; quoted scalars are always strings.
nlohmann::json read_seed_document(std::string_view text, bool is_json, const std::string& source);
nlohmann::json read_seed_file(const std::filesystem::path& path);

// Checks the document's shape: known sections and fields, required members, identifiers.
// Turns Tags maps into Tag lists and JSON-valued members (TableMappings, settings) given as
// objects into the strings the API takes. Throws SeedError.
Seed parse_seed(const nlohmann::json& document, const std::string& source);

struct SeedOutcome {
  std::size_t created = 0;
  std::size_t existing = 0;
};

// Creates what is missing through the service's own operations (same validation as the API),
// matching by identifier; what exists is left as it is. Seeded instances and tasks are usable
// at once (no `creating` delay). Throws SeedError naming the entry.
SeedOutcome apply_seed(DmsService& service, const Seed& seed);

}  // namespace dagster_dms::server
