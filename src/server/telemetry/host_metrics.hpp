#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

namespace dagster_dms::server {

// What the machine and this process look like right now, for the replication instance metrics
// (dms-local's "instance" is the host it runs on) and the task metrics (a task runs as threads of
// this process, so a task's CPU and memory are the process's).
struct HostSample {
  std::optional<double> cpu_percent;           // CPUUtilization: all CPUs, since the last sample
  std::optional<double> freeable_bytes;        // FreeableMemory: MemAvailable from /proc/meminfo
  std::optional<double> free_storage_bytes;    // FreeStorageSpace: statvfs of the state directory
  std::optional<double> process_cpu_percent;   // this process, as a share of all CPUs
  std::optional<double> process_memory_bytes;  // this process's resident set (VmRSS)
};

// Samples /proc and statvfs. CPU figures are deltas, so the first sample has none. Linux only;
// whatever cannot be read stays empty and is not published.
class HostSampler {
 public:
  explicit HostSampler(std::filesystem::path storage_dir);
  HostSample sample();

 private:
  std::filesystem::path storage_dir_;
  std::optional<std::uint64_t> last_busy_, last_total_, last_process_ticks_;
};

}  // namespace dagster_dms::server
