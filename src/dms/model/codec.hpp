#pragma once

// The one generic implementation behind every generated model: each generated structure only
// lists its fields (wire name, member, sensitivity) and these templates do the reading, writing
// and redaction. Keeping the logic here means a fix lands once instead of in 170 structures.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "aws/errors.hpp"

namespace dagster_dms::dms {

// A point in time as the models hold it. On the wire (AWS JSON protocols) it is epoch seconds as a
// number, possibly fractional; ISO 8601 strings are accepted too, since some emulators send them.
using Timestamp = std::chrono::system_clock::time_point;

// Parses a wire timestamp: a number of epoch seconds, a string holding one, or an ISO 8601 string
// ("2016-12-14T18:25:43Z", optional fraction, "Z" or a +hh:mm offset). Nullopt when unparseable.
std::optional<Timestamp> parse_timestamp(const nlohmann::json& value);
// Epoch seconds: an integer when whole, otherwise a number with microsecond precision.
nlohmann::json timestamp_to_json(Timestamp value);
// "2016-12-14T18:25:43Z" (with ".ffffff" when the time has a fraction of a second).
std::string format_iso8601(Timestamp value);

// What to print instead of a sensitive value.
inline constexpr std::string_view kRedacted = "****";

namespace detail {

// Where a value sits in a document. Frames live on the stack of the reading functions, so a path
// costs nothing until an error has to name it.
struct Path {
  const Path* parent = nullptr;
  std::string_view key;  // member name; empty for a list element
  std::size_t index = 0;
};

// "ReplicationTasks[0].ReplicationTaskStats.StartDate"; "(document)" for the root.
std::string path_to_string(const Path* path);
[[noreturn]] void throw_type_error(const Path* path, std::string_view expected,
                                   const nlohmann::json& got);
[[noreturn]] void throw_missing(const Path* parent, std::string_view name);
// Unknown members are kept verbatim; when printing we still hide the ones whose names suggest a
// secret, because a field the model does not know yet may well be a new password setting.
bool looks_secret(std::string_view name);

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

// A generated model structure: has the preserved unknown members.
template <class T>
concept ModelStruct = requires(T& value) {
  { value.unknown_fields } -> std::same_as<nlohmann::json&>;
};

// One member of a structure as it appears on the wire.
template <class S, class M>
struct Field {
  std::string_view name;
  M S::*member;
  bool sensitive;
};

template <class S, class M>
constexpr Field<S, M> field(std::string_view name, M S::*member, bool sensitive = false) {
  return Field<S, M>{name, member, sensitive};
}

// ---- reading -------------------------------------------------------------------------------

void read_value(const nlohmann::json& j, std::string& out, const Path* path);
void read_value(const nlohmann::json& j, std::int64_t& out, const Path* path);
void read_value(const nlohmann::json& j, bool& out, const Path* path);
void read_value(const nlohmann::json& j, double& out, const Path* path);
void read_value(const nlohmann::json& j, Timestamp& out, const Path* path);
template <class T>
void read_value(const nlohmann::json& j, std::vector<T>& out, const Path* path);
template <class T>
void read_value(const nlohmann::json& j, std::map<std::string, T>& out, const Path* path);
template <ModelStruct T>
void read_value(const nlohmann::json& j, T& out, const Path* path);

template <class T>
void read_value(const nlohmann::json& j, std::vector<T>& out, const Path* path) {
  if (!j.is_array()) throw_type_error(path, "a list", j);
  out.clear();
  out.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    const Path element{path, {}, i};
    read_value(j[i], out.emplace_back(), &element);
  }
}

template <class T>
void read_value(const nlohmann::json& j, std::map<std::string, T>& out, const Path* path) {
  if (!j.is_object()) throw_type_error(path, "an object", j);
  out.clear();
  for (auto it = j.begin(); it != j.end(); ++it) {
    const Path entry{path, it.key(), 0};
    read_value(it.value(), out[it.key()], &entry);
  }
}

template <ModelStruct T>
void read_value(const nlohmann::json& j, T& out, const Path* path) {
  read_model(j, out, path);  // found by argument-dependent lookup in the model's namespace
}

template <class S, class M>
void read_field(const nlohmann::json& j, S& out, const Field<S, M>& field, const Path* parent,
                std::size_t& matched) {
  const auto it = j.find(field.name);
  if (it == j.end()) {
    if constexpr (!IsOptional<M>::value) throw_missing(parent, field.name);
    return;
  }
  ++matched;
  // An explicit null is how some servers say "absent".
  if (it->is_null()) {
    if constexpr (!IsOptional<M>::value) throw_missing(parent, field.name);
    return;
  }
  const Path here{parent, field.name, 0};
  if constexpr (IsOptional<M>::value) {
    typename M::value_type value{};
    read_value(*it, value, &here);
    out.*field.member = std::move(value);
  } else {
    read_value(*it, out.*field.member, &here);
  }
}

template <class S, class... F>
void read_struct(const nlohmann::json& j, S& out, const std::tuple<F...>& fields,
                 const Path* path) {
  if (!j.is_object()) throw_type_error(path, "an object", j);
  out = S{};
  std::size_t matched = 0;
  std::apply([&](const auto&... f) { (read_field(j, out, f, path, matched), ...); }, fields);
  if (matched == j.size()) return;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const bool known =
        std::apply([&](const auto&... f) { return ((f.name == key) || ...); }, fields);
    if (!known) out.unknown_fields[key] = it.value();
  }
}

// ---- writing -------------------------------------------------------------------------------

inline nlohmann::json write_value(const std::string& value, bool /*redact*/) {
  return value;
}
inline nlohmann::json write_value(std::int64_t value, bool /*redact*/) {
  return value;
}
inline nlohmann::json write_value(bool value, bool /*redact*/) {
  return value;
}
// The JSON protocols spell non-finite doubles as strings; JSON numbers cannot hold them.
nlohmann::json write_value(double value, bool redact);
inline nlohmann::json write_value(Timestamp value, bool /*redact*/) {
  return timestamp_to_json(value);
}
template <class T>
nlohmann::json write_value(const std::vector<T>& value, bool redact);
template <class T>
nlohmann::json write_value(const std::map<std::string, T>& value, bool redact);
template <ModelStruct T>
nlohmann::json write_value(const T& value, bool redact);

template <class T>
nlohmann::json write_value(const std::vector<T>& value, bool redact) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& element : value) out.push_back(write_value(element, redact));
  return out;
}

template <class T>
nlohmann::json write_value(const std::map<std::string, T>& value, bool redact) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, element] : value) out[key] = write_value(element, redact);
  return out;
}

template <ModelStruct T>
nlohmann::json write_value(const T& value, bool redact) {
  nlohmann::json out;
  write_model(out, value, redact);  // found by argument-dependent lookup
  return out;
}

template <class S, class M>
void write_field(nlohmann::json& out, const S& in, const Field<S, M>& field, bool redact) {
  const M& member = in.*field.member;
  if constexpr (IsOptional<M>::value) {
    if (!member) return;
    out[std::string(field.name)] =
        redact && field.sensitive ? nlohmann::json(kRedacted) : write_value(*member, redact);
  } else {
    out[std::string(field.name)] =
        redact && field.sensitive ? nlohmann::json(kRedacted) : write_value(member, redact);
  }
}

template <class S, class... F>
void write_struct(nlohmann::json& out, const S& in, const std::tuple<F...>& fields, bool redact) {
  out = nlohmann::json::object();
  std::apply([&](const auto&... f) { (write_field(out, in, f, redact), ...); }, fields);
  if (!in.unknown_fields.is_object()) return;
  for (auto it = in.unknown_fields.begin(); it != in.unknown_fields.end(); ++it) {
    if (out.contains(it.key())) continue;  // a modelled member always wins
    out[it.key()] = redact && looks_secret(it.key()) ? nlohmann::json(kRedacted) : it.value();
  }
}

}  // namespace detail
}  // namespace dagster_dms::dms
