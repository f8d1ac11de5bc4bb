#include "aws/provider_support.hpp"

#include <fmt/format.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "aws/errors.hpp"

namespace dagster_dms::aws::provider_support {

std::string home_directory(const Environment& env) {
  if (auto home = env.get("HOME")) return *home;
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* result = nullptr;
  if (getpwuid_r(getuid(), &entry, buffer.data(), buffer.size(), &result) == 0 &&
      result != nullptr && result->pw_dir != nullptr) {
    return result->pw_dir;
  }
  return {};
}

std::string expand_user(std::string_view path, const Environment& env) {
  if (path == "~" || path.starts_with("~/")) {
    return home_directory(env) + std::string(path.substr(1));
  }
  return std::string(path);
}

std::optional<std::string> read_file_if_exists(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    throw ConfigError(fmt::format("Cannot read {}: {}", path, std::strerror(errno)));
  }
  if (S_ISDIR(info.st_mode))
    throw ConfigError(fmt::format("Cannot read {}: it is a directory", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("Cannot read {}: {}", path, std::strerror(errno)));
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) throw ConfigError(fmt::format("Cannot read {}", path));
  return content.str();
}

namespace {

bool parse_int(std::string_view text, int& value) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

std::optional<TimePoint> parse_iso8601(std::string_view text) {
  std::string s = trim(text);
  std::string_view v(s);
  // YYYY-MM-DDTHH:MM:SS is 19 characters; anything shorter is not a timestamp we accept.
  if (v.size() < 19 || v[4] != '-' || v[7] != '-' ||
      (v[10] != 'T' && v[10] != 't' && v[10] != ' ') || v[13] != ':' || v[16] != ':') {
    return std::nullopt;
  }
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!parse_int(v.substr(0, 4), year) || !parse_int(v.substr(5, 2), month) ||
      !parse_int(v.substr(8, 2), day) || !parse_int(v.substr(11, 2), hour) ||
      !parse_int(v.substr(14, 2), minute) || !parse_int(v.substr(17, 2), second)) {
    return std::nullopt;
  }
  std::string_view rest = v.substr(19);
  std::chrono::nanoseconds fraction{0};
  if (!rest.empty() && rest.front() == '.') {
    std::size_t digits = 1;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) ++digits;
    std::string frac(rest.substr(1, digits - 1));
    if (frac.empty()) return std::nullopt;
    frac.resize(9, '0');
    fraction = std::chrono::nanoseconds(std::stoll(frac));
    rest = rest.substr(digits);
  }
  std::chrono::minutes offset{0};
  if (rest.empty() || rest == "Z" || rest == "z" || rest == "UTC" || rest == "+00:00") {
    // UTC; a timestamp without a zone is read as UTC as botocore's parser does for these sources.
  } else if ((rest.front() == '+' || rest.front() == '-') &&
             (rest.size() == 6 || rest.size() == 5)) {
    int oh = 0, om = 0;
    std::string_view hh = rest.substr(1, 2);
    std::string_view mm = rest.size() == 6 ? rest.substr(4, 2) : rest.substr(3, 2);
    if (!parse_int(hh, oh) || !parse_int(mm, om)) return std::nullopt;
    offset = std::chrono::minutes(oh * 60 + om);
    if (rest.front() == '-') offset = -offset;
  } else {
    return std::nullopt;
  }
  using namespace std::chrono;
  const year_month_day date{std::chrono::year(year),
                            std::chrono::month(static_cast<unsigned>(month)),
                            std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;
  auto time = sys_days(date) + hours(hour) + minutes(minute) + seconds(second) - offset;
  return time_point_cast<system_clock::duration>(time + fraction);
}

std::string format_iso8601(TimePoint time) {
  using namespace std::chrono;
  auto secs = floor<seconds>(time);
  auto days = floor<std::chrono::days>(secs);
  year_month_day date{days};
  hh_mm_ss clock{secs - days};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     clock.hours().count(), clock.minutes().count(), clock.seconds().count());
}

std::string trim(std::string_view text) {
  auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return std::string(text);
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_true(const std::optional<std::string>& value) {
  return value && to_lower(trim(*value)) == "true";
}

std::optional<std::string> json_string(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

Credentials credentials_from_json(const nlohmann::json& object, const std::string& source,
                                  const std::string& provider_name) {
  if (!object.is_object()) {
    throw CredentialsError(fmt::format("{} did not answer with a JSON object", source));
  }
  auto require = [&](const char* key) {
    auto value = json_string(object, key);
    if (!value || value->empty()) {
      throw CredentialsError(fmt::format("{} answered without {}", source, key));
    }
    return *value;
  };
  Credentials credentials;
  credentials.access_key_id = require("AccessKeyId");
  credentials.secret_access_key = Secret(require("SecretAccessKey"));
  if (auto token = json_string(object, "Token")) {
    credentials.session_token = Secret(*token);
  } else if (auto session_token = json_string(object, "SessionToken")) {
    credentials.session_token = Secret(*session_token);
  }
  if (auto expiration = json_string(object, "Expiration")) {
    credentials.expiration = parse_iso8601(*expiration);
    if (!credentials.expiration) {
      throw CredentialsError(fmt::format("{} answered with an unreadable Expiration", source));
    }
  }
  credentials.provider = provider_name;
  return credentials;
}

}  // namespace dagster_dms::aws::provider_support
