// Fuzzes the DMS control plane: request parsing with the generated models and every handler.
//
// An input is one or more steps separated by a line "%%". A step's first line is the operation
// name as it appears in X-Amz-Target after the dot (CreateEndpoint, ...) and the rest is its JSON
// body. Names are text rather than an index so the corpus stays readable and operations added to
// the dispatch table are reached as soon as a seed names them (dms_handlers.dict lists them too).
// The placeholders @SOURCE, @TARGET, @INSTANCE and @TASK become the ARNs of resources created
// before the steps run, so later steps reach more than "not found".
//
// Every step runs against a fresh store, as the HTTP front would run it: an ApiError is a
// correct answer; a crash, a sanitizer report or any other exception escaping is a bug.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "aws/clock.hpp"
#include "fixed_clock.hpp"
#include "server/dms_api/dms_service.hpp"
#include "server/execution/task_executor.hpp"
#include "server/front/api_error.hpp"
#include "server/front/json_nesting.hpp"
#include "server/front/wire_json.hpp"
#include "server/store/store.hpp"

namespace server = dagster_dms::server;
namespace aws = dagster_dms::aws;
using dagster_dms::fuzz::FixedClock;

namespace {

// A private folder for the store, on tmpfs when there is one (the store is rebuilt for every
// input); removed when the fuzzer exits normally.
class StateRoot {
 public:
  StateRoot() {
    const std::filesystem::path base =
        std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    std::string pattern = (base / "dms-handlers-fuzz-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~StateRoot() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  StateRoot(const StateRoot&) = delete;
  StateRoot& operator=(const StateRoot&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct Step {
  std::string operation;
  std::string body;
};

std::vector<Step> split_steps(std::string_view input) {
  constexpr std::string_view kSeparator = "\n%%\n";
  constexpr std::size_t kMaxSteps = 8;
  std::vector<Step> steps;
  while (steps.size() < kMaxSteps) {
    const auto end = input.find(kSeparator);
    const std::string_view step = input.substr(0, end);
    const auto newline = step.find('\n');
    steps.push_back(
        {std::string(step.substr(0, newline)),
         newline == std::string_view::npos ? "" : std::string(step.substr(newline + 1))});
    if (end == std::string_view::npos) break;
    input.remove_prefix(end + kSeparator.size());
  }
  return steps;
}

void replace_all(std::string& text, std::string_view from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

nlohmann::json call(server::DmsService& dms, const server::RequestContext& context,
                    const std::string& operation, const nlohmann::json& body) {
  return dms.handle(context, operation, body);
}

// The resources the placeholders name. Creation must succeed: it is not under test here.
std::vector<std::pair<std::string, std::string>> seed(server::DmsService& dms,
                                                      const server::RequestContext& context) {
  const auto endpoint = [&](const char* id, const char* type) {
    return call(dms, context, "CreateEndpoint",
                {{"EndpointIdentifier", id},
                 {"EndpointType", type},
                 {"EngineName", "postgres"},
                 {"ServerName", "127.0.0.1"},
                 {"Port", 5432},
                 {"DatabaseName", "app"},
                 {"Username", "dms"},
                 {"Password", "secret"}})["Endpoint"]["EndpointArn"]
        .get<std::string>();
  };
  const std::string source = endpoint("src", "source");
  const std::string target = endpoint("dst", "target");
  const std::string instance =
      call(dms, context, "CreateReplicationInstance",
           {{"ReplicationInstanceIdentifier", "rep"},
            {"ReplicationInstanceClass",
             "dms.t3.micro"}})["ReplicationInstance"]["ReplicationInstanceArn"]
          .get<std::string>();
  const std::string mappings =
      R"({"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1",)"
      R"("object-locator":{"schema-name":"public","table-name":"%"},"rule-action":"include"}]})";
  const std::string task =
      call(dms, context, "CreateReplicationTask",
           {{"ReplicationTaskIdentifier", "task"},
            {"SourceEndpointArn", source},
            {"TargetEndpointArn", target},
            {"ReplicationInstanceArn", instance},
            {"MigrationType", "full-load"},
            {"TableMappings", mappings}})["ReplicationTask"]["ReplicationTaskArn"]
          .get<std::string>();
  return {{"@SOURCE", source}, {"@TARGET", target}, {"@INSTANCE", instance}, {"@TASK", task}};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const StateRoot root;
  // Creation delays are zero, so resources are usable at once.
  static FixedClock clock{std::chrono::seconds(1'700'000'000)};
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto steps = split_steps(input);

  const std::filesystem::path state_dir = root.path() / "state";
  std::filesystem::remove_all(state_dir);
  {
    server::Store store(state_dir);
    server::NoDataPlaneExecutor executor;
    server::ServiceOptions options;
    options.instance_create_delay = std::chrono::milliseconds(0);
    options.task_create_delay = std::chrono::milliseconds(0);
    options.task_start_delay = std::chrono::milliseconds(0);
    server::DmsService dms(store, executor, clock, options);
    const server::RequestContext context{"000000000000", "us-east-1"};

    std::vector<std::pair<std::string, std::string>> placeholders;
    if (input.find('@') != std::string::npos) placeholders = seed(dms, context);

    for (auto step : steps) {
      for (const auto& [name, arn] : placeholders) replace_all(step.body, name, arn);
      // As the HTTP front does: an empty body is {}, malformed or too deeply nested JSON never
      // reaches the service.
      nlohmann::json body = nlohmann::json::object();
      if (!step.body.empty()) {
        if (server::exceeds_nesting_limit(step.body)) continue;
        body = nlohmann::json::parse(step.body, nullptr, false);
        if (body.is_discarded()) continue;
      }
      try {
        const auto result = dms.handle(context, step.operation, body);
        // Serialized as the HTTP front sends it.
        (void)server::wire_json(result);
      } catch (const server::ApiError& error) {
        (void)server::wire_json(error.body());
      } catch (const std::exception& error) {
        // The HTTP front would answer 500 InternalFailure: not an answer a client can act on.
        std::cerr << "non-ApiError exception from " << step.operation << ": " << error.what()
                  << '\n';
        std::abort();
      }
    }
    dms.shutdown();
  }
  return 0;
}
