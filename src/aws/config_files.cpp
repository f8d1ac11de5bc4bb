#include "aws/config_files.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "aws/errors.hpp"
#include "aws/provider_support.hpp"

namespace dagster_dms::aws {

namespace {

using provider_support::to_lower;
using provider_support::trim;

// One INI file: sections in the order met, each a flat key -> value map.
using IniSections = std::map<std::string, ConfigSection, std::less<>>;

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

// Drops an inline comment: `;` or `#` counts only after whitespace, as the AWS CLI reads it, so
// values such as URLs with fragments or passwords containing '#' survive.
std::string strip_inline_comment(std::string_view text) {
  for (std::size_t i = 1; i < text.size(); ++i) {
    if ((text[i] == ';' || text[i] == '#') && is_space(text[i - 1])) {
      return trim(text.substr(0, i));
    }
  }
  return trim(text);
}

[[noreturn]] void fail(std::string_view file, std::size_t line, std::string_view what) {
  // The line's content is left out on purpose: it may hold a secret key.
  throw ConfigError(fmt::format("Unable to parse config file {}: line {}: {}", file, line, what));
}

// Splits "key = value" (or "key: value", which Python's configparser also accepts) at the first
// delimiter. nullopt when there is none.
std::optional<std::pair<std::string, std::string>> split_assignment(std::string_view text) {
  auto delimiter = text.find_first_of("=:");
  if (delimiter == std::string_view::npos) return std::nullopt;
  return std::pair{to_lower(trim(text.substr(0, delimiter))),
                   strip_inline_comment(text.substr(delimiter + 1))};
}

IniSections parse_ini(std::string_view text, std::string_view file) {
  IniSections sections;
  ConfigSection* current = nullptr;
  std::string last_key;       // the key an indented line continues
  bool nested_block = false;  // last_key had an empty value: indented lines are sub-properties
  std::size_t line_number = 0;

  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_number == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);

    const std::string stripped = trim(line);
    if (stripped.empty() || stripped.front() == '#' || stripped.front() == ';') {
      if (end == text.size()) break;
      continue;
    }
    const bool indented = is_space(line.front());

    if (!indented && stripped.front() == '[') {
      auto close = stripped.find(']');
      if (close == std::string::npos) fail(file, line_number, "section header without ']'");
      if (!strip_inline_comment(std::string_view(stripped).substr(close + 1)).empty()) {
        fail(file, line_number, "unexpected text after the section header");
      }
      std::string name = trim(std::string_view(stripped).substr(1, close - 1));
      if (name.empty()) fail(file, line_number, "empty section name");
      current = &sections[name];
      last_key.clear();
      nested_block = false;
    } else if (indented && current != nullptr && !last_key.empty()) {
      if (nested_block) {
        auto assignment = split_assignment(stripped);
        if (!assignment || assignment->first.empty()) {
          fail(file, line_number, fmt::format("expected 'key = value' under '{}'", last_key));
        }
        // The parent holds sub-properties now, not a value of its own.
        current->erase(last_key);
        (*current)[last_key + "." + assignment->first] = std::move(assignment->second);
      } else {
        // A continuation line, which configparser joins to the value with a newline.
        (*current)[last_key] += "\n" + strip_inline_comment(stripped);
      }
    } else {
      if (current == nullptr) fail(file, line_number, "a setting before any [section] header");
      if (indented) fail(file, line_number, "unexpected indentation");
      auto assignment = split_assignment(stripped);
      if (!assignment) fail(file, line_number, "expected 'key = value'");
      if (assignment->first.empty()) fail(file, line_number, "a setting without a name");
      last_key = assignment->first;
      nested_block = assignment->second.empty();
      (*current)[last_key] = std::move(assignment->second);
    }
    if (end == text.size()) break;
  }
  return sections;
}

// "profile  foo" -> "foo"; also accepts a quoted name, as botocore's shlex split does.
std::optional<std::string> section_argument(std::string_view header, std::string_view kind) {
  if (!header.starts_with(kind)) return std::nullopt;
  std::string_view rest = header.substr(kind.size());
  if (rest.empty() || !is_space(rest.front())) return std::nullopt;
  std::string name = trim(rest);
  if (name.size() >= 2 && (name.front() == '"' || name.front() == '\'') &&
      name.back() == name.front()) {
    name = name.substr(1, name.size() - 2);
  }
  if (name.empty() || std::any_of(name.begin(), name.end(), is_space)) return std::nullopt;
  return name;
}

void merge_into(ConfigSection& target, const ConfigSection& source) {
  for (const auto& [key, value] : source) target[key] = value;
}

using SectionMap = std::map<std::string, ConfigSection, std::less<>>;

void assemble(const IniSections& config, const IniSections& credentials, SectionMap& profiles,
              SectionMap& sso_sessions, SectionMap& services) {
  // [default] first so that an explicit [profile default] refines it.
  if (auto it = config.find("default"); it != config.end())
    merge_into(profiles["default"], it->second);
  for (const auto& [header, values] : config) {
    if (auto name = section_argument(header, "profile")) {
      merge_into(profiles[*name], values);
    } else if (auto session = section_argument(header, "sso-session")) {
      merge_into(sso_sessions[*session], values);
    } else if (auto group = section_argument(header, "services")) {
      merge_into(services[*group], values);
    }
    // Other sections ([plugins], [preview], ...) configure the CLI, not profiles.
  }
  // The credentials file names profiles without a prefix, and wins key by key.
  for (const auto& [header, values] : credentials) merge_into(profiles[header], values);
}

}  // namespace

ConfigFiles ConfigFiles::load(const Environment& env) {
  using provider_support::expand_user;
  const std::string config_path =
      expand_user(env.get("AWS_CONFIG_FILE").value_or("~/.aws/config"), env);
  const std::string credentials_path =
      expand_user(env.get("AWS_SHARED_CREDENTIALS_FILE").value_or("~/.aws/credentials"), env);
  const auto config_text = provider_support::read_file_if_exists(config_path);
  const auto credentials_text = provider_support::read_file_if_exists(credentials_path);

  ConfigFiles files;
  assemble(parse_ini(config_text.value_or(""), config_path),
           parse_ini(credentials_text.value_or(""), credentials_path), files.profiles_,
           files.sso_sessions_, files.services_);
  return files;
}

ConfigFiles ConfigFiles::parse(std::string_view config_text, std::string_view credentials_text) {
  ConfigFiles files;
  assemble(parse_ini(config_text, "config"), parse_ini(credentials_text, "credentials"),
           files.profiles_, files.sso_sessions_, files.services_);
  return files;
}

const ConfigSection* ConfigFiles::profile(std::string_view name) const {
  auto it = profiles_.find(name);
  return it == profiles_.end() ? nullptr : &it->second;
}

const ConfigSection* ConfigFiles::sso_session(std::string_view name) const {
  auto it = sso_sessions_.find(name);
  return it == sso_sessions_.end() ? nullptr : &it->second;
}

const ConfigSection* ConfigFiles::services(std::string_view name) const {
  auto it = services_.find(name);
  return it == services_.end() ? nullptr : &it->second;
}

std::optional<std::string> ConfigFiles::profile_value(std::string_view profile,
                                                      std::string_view key) const {
  const ConfigSection* section = this->profile(profile);
  if (section == nullptr) return std::nullopt;
  auto it = section->find(key);
  if (it == section->end()) return std::nullopt;
  return it->second;
}

}  // namespace dagster_dms::aws
