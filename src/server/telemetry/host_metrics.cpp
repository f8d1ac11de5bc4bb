#include "server/telemetry/host_metrics.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace dagster_dms::server {

namespace {

// The aggregate "cpu" line of /proc/stat: busy and total jiffies.
std::optional<std::pair<std::uint64_t, std::uint64_t>> read_cpu_times() {
  std::ifstream in("/proc/stat");
  std::string label;
  if (!(in >> label) || label != "cpu") return std::nullopt;
  std::vector<std::uint64_t> fields;
  std::uint64_t value = 0;
  for (int i = 0; i < 10 && (in >> value); ++i) fields.push_back(value);
  if (fields.size() < 5) return std::nullopt;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < fields.size() && i < 8; ++i) total += fields[i];  // not guest
  const std::uint64_t idle = fields[3] + fields[4];                             // idle + iowait
  return std::make_pair(total - idle, total);
}

// utime + stime of this process, in clock ticks (fields 14 and 15 of /proc/self/stat; the
// command name in field 2 may hold spaces, so counting starts after its closing parenthesis).
std::optional<std::uint64_t> read_process_ticks() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  std::uint64_t utime = 0, stime = 0;
  for (int index = 3; rest >> field; ++index) {
    if (index == 14) utime = std::stoull(field);
    if (index == 15) {
      stime = std::stoull(field);
      return utime + stime;
    }
  }
  return std::nullopt;
}

// A "Name:   123 kB" line of a /proc status-style file, in bytes. Other lines may hold words
// ("State:  S (sleeping)"), so each line is read on its own.
std::optional<double> read_kb_field(const char* file, const std::string& name) {
  std::ifstream in(file);
  const std::string prefix = name + ":";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    std::istringstream fields(line.substr(prefix.size()));
    double kb = 0;
    if (fields >> kb) return kb * 1024.0;
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

HostSampler::HostSampler(std::filesystem::path storage_dir)
    : storage_dir_(std::move(storage_dir)) {}

HostSample HostSampler::sample() {
  HostSample out;
  const auto cpu = read_cpu_times();
  const auto process_ticks = read_process_ticks();
  if (cpu && last_total_ && cpu->second > *last_total_) {
    const double total = static_cast<double>(cpu->second - *last_total_);
    out.cpu_percent = 100.0 * static_cast<double>(cpu->first - *last_busy_) / total;
    if (process_ticks && last_process_ticks_) {
      // /proc/stat's total counts every CPU's ticks, so this is a share of the whole machine;
      // both count USER_HZ ticks.
      out.process_cpu_percent =
          100.0 * static_cast<double>(*process_ticks - *last_process_ticks_) / total;
    }
  }
  if (cpu) {
    last_busy_ = cpu->first;
    last_total_ = cpu->second;
  }
  if (process_ticks) last_process_ticks_ = process_ticks;
  out.freeable_bytes = read_kb_field("/proc/meminfo", "MemAvailable");
  out.process_memory_bytes = read_kb_field("/proc/self/status", "VmRSS");
  struct statvfs fs {};
  if (::statvfs(storage_dir_.c_str(), &fs) == 0) {
    out.free_storage_bytes = static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize);
  }
  return out;
}

}  // namespace dagster_dms::server
