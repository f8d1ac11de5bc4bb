// dms-local: a local, DMS-compatible service. `dms-local serve --state-dir DIR`.
#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "aws/clock.hpp"
#include "server/dms_api/dms_service.hpp"
#include "server/dms_api/seed.hpp"
#include "server/execution/data_plane_executor.hpp"
#include "server/execution/task_executor.hpp"
#include "server/front/fault_injector.hpp"
#include "server/front/http_front.hpp"
#include "server/front/sigv4_verifier.hpp"
#include "server/runtime/logger.hpp"
#include "server/store/store.hpp"
#include "server/telemetry/cloudwatch_service.hpp"
#include "server/telemetry/log_store.hpp"
#include "server/telemetry/logs_service.hpp"
#include "server/telemetry/metrics_publisher.hpp"
#include "server/telemetry/metrics_store.hpp"
#include "server/telemetry/telemetry_hub.hpp"

namespace server = dagster_dms::server;

namespace {

struct ServeOptions {
  std::string host = "127.0.0.1";
  bool allow_remote = false;
  int port = 4566;
  std::string port_file;
  std::string state_dir;
  std::string s3_root;
  std::string credentials_file;
  std::string log_level = "info";
  int instance_create_delay_ms = 1000;
  int task_create_delay_ms = 1000;
  int task_start_delay_ms = 500;
  int metrics_interval_ms = 5000;
  std::string test_executor;
  std::string seed_file;
  int fault_latency_ms = 0;
  bool fault_throttle = false;
  double fault_5xx_rate = 0;
  int fault_cdc_apply_delay_ms = 0;
};

// Written to a temporary name and renamed, so a reader never sees a partial port number.
void write_port_file(const std::string& path, int port) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << port << '\n';
    if (!out) throw std::runtime_error("cannot write port file " + path);
  }
  std::filesystem::rename(temporary, path);
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || server::is_loopback_address(host);
}

// dms-local is a development server: reachable from other machines only on purpose, and then
// never with the key pair everybody knows. Throws std::runtime_error saying what to do.
void check_exposure(const ServeOptions& options, const std::vector<server::KeyPair>& file_pairs) {
  if (is_loopback_host(options.host)) return;
  if (!options.allow_remote) {
    throw std::runtime_error(fmt::format(
        "--host {} would accept connections from other machines; dms-local is a development "
        "server and listens on loopback (127.0.0.1) unless you also pass --allow-remote",
        options.host));
  }
  if (options.credentials_file.empty()) {
    throw std::runtime_error(
        "--allow-remote needs --credentials-file: the default key pair test/test is refused on a "
        "non-loopback address");
  }
  const auto default_pair = server::default_key_pair();
  for (const auto& pair : file_pairs) {
    if (pair.access_key_id == default_pair.access_key_id &&
        pair.secret_access_key.reveal() == default_pair.secret_access_key.reveal()) {
      throw std::runtime_error(fmt::format(
          "credentials file {} holds the default key pair test/test, which is refused with "
          "--allow-remote; use keys of your own",
          options.credentials_file));
    }
  }
}

int serve(const ServeOptions& options) {
  // Block the stop signals in every thread; one thread waits for them with sigwait, so the
  // shutdown runs as ordinary code instead of inside a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  server::Logger logger(server::parse_log_level(options.log_level));
  std::vector<server::KeyPair> file_pairs;
  if (!options.credentials_file.empty()) {
    file_pairs = server::load_key_pairs(options.credentials_file);
  }
  check_exposure(options, file_pairs);
  std::vector<server::KeyPair> key_pairs;
  // The default pair only while nobody else can connect.
  if (is_loopback_host(options.host)) key_pairs.push_back(server::default_key_pair());
  for (auto& pair : file_pairs) key_pairs.push_back(std::move(pair));
  dagster_dms::aws::SystemClock clock;
  server::SigV4Verifier verifier(std::move(key_pairs), clock);
  server::Store store(options.state_dir);
  // CloudWatch metrics and task logs live in the same state file, on their own connection.
  server::SqliteDb telemetry_db(store.path());
  server::MetricsStore metrics_store(telemetry_db);
  server::LogStore log_store(telemetry_db);
  server::DmsService* instances_source = nullptr;  // set once the control plane exists
  server::MetricsPublisherOptions publisher_options;
  publisher_options.interval = std::chrono::milliseconds(options.metrics_interval_ms);
  server::MetricsPublisher publisher(
      metrics_store, server::HostSampler(options.state_dir),
      [&instances_source] {
        std::vector<server::InstanceRef> out;
        if (instances_source == nullptr) return out;
        for (const auto& record : instances_source->replication_instances()) {
          if (record.doc.value("ReplicationInstanceStatus", "") != "available") continue;
          out.push_back({record.account, record.region, record.identifier});
        }
        return out;
      },
      clock, publisher_options, &logger);
  server::TelemetryHub telemetry(log_store, publisher, clock, &logger);
  // Shared by the HTTP front (request faults, the admin endpoint) and the data plane (the CDC
  // apply delay); it outlives both.
  server::FaultInjector faults;
  server::FaultSettings fault_settings;
  fault_settings.latency = std::chrono::milliseconds(options.fault_latency_ms);
  fault_settings.throttle = options.fault_throttle;
  fault_settings.server_error_rate = options.fault_5xx_rate;
  fault_settings.cdc_apply_delay = std::chrono::milliseconds(options.fault_cdc_apply_delay_ms);
  faults.configure(fault_settings);

  std::unique_ptr<server::TaskExecutor> executor;
  if (options.test_executor == "hold") {
    executor = std::make_unique<server::HoldExecutor>();
  } else if (options.test_executor == "none") {
    executor = std::make_unique<server::NoDataPlaneExecutor>();
  } else {
    server::DataPlaneExecutorOptions executor_options;
    if (!options.s3_root.empty()) {
      std::filesystem::create_directories(options.s3_root);
      executor_options.s3_root = std::filesystem::absolute(options.s3_root);
    }
    executor_options.logger = &logger;
    executor_options.telemetry = &telemetry;
    executor_options.cdc_apply_delay = [&faults] { return faults.take_cdc_apply_delay(); };
    executor = std::make_unique<server::DataPlaneExecutor>(std::move(executor_options));
  }

  server::ServiceOptions service_options;
  service_options.instance_create_delay =
      std::chrono::milliseconds(options.instance_create_delay_ms);
  service_options.task_create_delay = std::chrono::milliseconds(options.task_create_delay_ms);
  service_options.task_start_delay = std::chrono::milliseconds(options.task_start_delay_ms);
  if (!options.s3_root.empty())
    service_options.s3_root = std::filesystem::absolute(options.s3_root);
  service_options.logger = &logger;
  service_options.task_logs = &log_store;
  server::DmsService dms(store, *executor, clock, service_options);
  // However serve() ends (an exception included), running loads are stopped and their threads
  // joined while `dms`, which their reports go to, still exists. shutdown() runs once.
  struct ShutdownGuard {
    server::DmsService& service;
    ~ShutdownGuard() {
      try {
        service.shutdown();
      } catch (const std::exception& error) {
        std::cerr << "dms-local: shutdown: " << error.what() << '\n';
      }
    }
  } shutdown_guard{dms};
  dms.recover_interrupted_tasks();
  if (!options.seed_file.empty()) {
    // Before listening: a client never sees a half-seeded service, and a bad file stops here.
    const auto seed =
        server::parse_seed(server::read_seed_file(options.seed_file), options.seed_file);
    const auto outcome = server::apply_seed(dms, seed);
    logger.log(server::LogLevel::kInfo,
               fmt::format("seed {}: {} resources created, {} already present", options.seed_file,
                           outcome.created, outcome.existing));
  }
  instances_source = &dms;
  publisher.start();
  // The publisher reads instances from `dms`: it stops before `dms` goes away.
  struct PublisherGuard {
    server::MetricsPublisher& publisher;
    ~PublisherGuard() { publisher.stop(); }
  } publisher_guard{publisher};
  server::CloudWatchService cloudwatch(metrics_store, clock);
  server::LogsService logs(log_store);

  server::HttpFront front(verifier, dms, logger, faults);
  front.set_telemetry_apis({&cloudwatch, &logs});
  const int port = front.bind(options.host, options.port);
  if (!options.port_file.empty()) write_port_file(options.port_file, port);
  logger.log(server::LogLevel::kInfo, fmt::format("dms-local listening on http://{}:{} (state {})",
                                                  options.host, port, store.path().string()));

  std::atomic<bool> signalled{false};
  std::thread waiter([&] {
    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    signalled = true;
    front.stop();
  });
  front.serve();
  if (!signalled) {
    // The server ended on its own; wake the waiter so it can be joined.
    kill(getpid(), SIGTERM);
  }
  waiter.join();
  logger.log(server::LogLevel::kInfo, "shutting down: stopping running tasks");
  dms.shutdown();
  logger.log(server::LogLevel::kInfo, "dms-local stopped");
  return 0;
}

// Launchers that must not leave dms-local behind (dagster_dms.testing, the demo) set
// DMS_LOCAL_STOP_WITH_PARENT to their own pid: dms-local then gets SIGTERM, its ordinary clean
// stop, when that process dies, even by SIGKILL. It is opt-in so that a `dms-local serve` started
// from a shell keeps running however the shell goes away. The kernel sends the signal when the
// *thread* that started dms-local ends, so launchers start it from their main thread.
// Returns false when dms-local must not start (the launcher is already gone).
bool stop_with_launcher() {
  constexpr const char* kVariable = "DMS_LOCAL_STOP_WITH_PARENT";
  const char* value = std::getenv(kVariable);
  if (value == nullptr) return true;
  const std::string text(value);
  unsetenv(kVariable);  // meant for this process only, not for anything it starts
  pid_t launcher = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), launcher);
  if (error != std::errc{} || end != text.data() + text.size() || launcher <= 0) {
    std::cerr << "dms-local: " << kVariable << " must be the launching process's pid, not '" << text
              << "'\n";
    return false;
  }
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) {
    std::cerr << "dms-local: cannot ask to stop with the launching process (prctl failed)\n";
    return false;
  }
  // The launcher may have died before prctl took effect: then another process is our parent.
  if (getppid() != launcher) {
    std::cerr << "dms-local: " << kVariable << "=" << launcher
              << " is not the process that started dms-local (it has exited?); not starting\n";
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (!stop_with_launcher()) return 1;
  CLI::App app{"dms-local: a local, DMS-compatible service"};
  app.require_subcommand(1);
  ServeOptions options;
  auto* serve_command = app.add_subcommand("serve", "Serve the DMS API on a local port");
  serve_command
      ->add_option("--host", options.host,
                   "Address to listen on; a non-loopback one needs --allow-remote")
      ->capture_default_str();
  serve_command->add_flag("--allow-remote", options.allow_remote,
                          "Allow a non-loopback --host. The default key pair test/test is then "
                          "refused, so --credentials-file is required");
  serve_command->add_option("--port", options.port, "Port; 0 picks a free one")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  serve_command->add_option("--port-file", options.port_file, "Write the port here once listening");
  serve_command->add_option("--state-dir", options.state_dir, "Directory for the state file")
      ->required();
  serve_command->add_option("--s3-root", options.s3_root,
                            "Directory that s3 target endpoints write to "
                            "(<root>/<bucket>/<folder>/<schema>/<table>/LOAD*.csv)");
  serve_command
      ->add_option("--credentials-file", options.credentials_file,
                   "JSON list of extra key pairs: access_key_id, secret_access_key, "
                   "account_id")
      ->check(CLI::ExistingFile);
  serve_command->add_option("--log-level", options.log_level, "error, warning, info or debug")
      ->capture_default_str()
      ->check(CLI::IsMember({"error", "warning", "info", "debug"}));
  serve_command
      ->add_option("--instance-create-delay-ms", options.instance_create_delay_ms,
                   "How long a new replication instance stays creating")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  serve_command
      ->add_option("--task-create-delay-ms", options.task_create_delay_ms,
                   "How long a new replication task stays creating")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  serve_command
      ->add_option("--task-start-delay-ms", options.task_start_delay_ms,
                   "How long a started task shows starting")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  serve_command
      ->add_option("--metrics-interval-ms", options.metrics_interval_ms,
                   "How often CloudWatch metrics are published (AWS: every 60000)")
      ->capture_default_str()
      ->check(CLI::Range(100, 3600000));
  serve_command
      ->add_option("--test-executor", options.test_executor,
                   "For control-plane tests: 'hold' keeps started tasks running, moving no data, "
                   "until stopped; 'none' fails every start as a build without a data plane does")
      ->check(CLI::IsMember({"hold", "none"}));
  serve_command
      ->add_option("--seed", options.seed_file,
                   "YAML or JSON file of endpoints, instances, tasks and replication configs to "
                   "create at start if missing (see README)")
      ->check(CLI::ExistingFile);
  serve_command
      ->add_option("--fault-latency-ms", options.fault_latency_ms,
                   "For tests and benchmarks: delay every signed request this long")
      ->check(CLI::Range(0, 60'000));
  serve_command->add_flag("--fault-throttle", options.fault_throttle,
                          "For tests and benchmarks: throttle DMS calls as AWS does (a bucket of "
                          "200 requests refilled at 8 per second, per account and region)");
  serve_command
      ->add_option("--fault-5xx-rate", options.fault_5xx_rate,
                   "For tests and benchmarks: answer this fraction of signed requests with 500 "
                   "InternalFailure or 503 ServiceUnavailable")
      ->check(CLI::Range(0.0, 1.0));
  serve_command
      ->add_option("--fault-cdc-apply-delay-ms", options.fault_cdc_apply_delay_ms,
                   "For tests and benchmarks: CDC tasks wait this long before committing each "
                   "source transaction on the target, so CDC latency grows while changes flow")
      ->check(CLI::Range(std::int64_t{0}, server::kMaxCdcApplyDelayMs));
  CLI11_PARSE(app, argc, argv);
  try {
    return serve(options);
  } catch (const std::exception& error) {
    std::cerr << "dms-local: " << error.what() << '\n';
    return 1;
  }
}
