#include "server/front/query_protocol.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <tinyxml2.h>

#include <charconv>
#include <chrono>
#include <set>
#include <stdexcept>

#include "dms/model/codec.hpp"
#include "server/front/json_nesting.hpp"

namespace dagster_dms::server {

namespace {

// Members whose query-protocol text is a number or a boolean in the JSON protocols.
bool is_integer_member(std::string_view name) {
  static const std::set<std::string_view> kNames = {"Period", "MaxDatapoints"};
  return kNames.contains(name);
}
bool is_boolean_member(std::string_view name) {
  static const std::set<std::string_view> kNames = {"ReturnData", "IncludeLinkedAccounts"};
  return kNames.contains(name);
}

std::vector<std::string> split(const std::string& key) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto dot = key.find('.', start);
    parts.push_back(key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

nlohmann::json typed_value(std::string_view member, const std::string& text) {
  if (is_integer_member(member)) {
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error == std::errc() && end == text.data() + text.size()) return value;
    return text;  // the model's reader reports the type error, naming the member
  }
  if (is_boolean_member(member)) {
    if (text == "true") return true;
    if (text == "false") return false;
  }
  return text;
}

// Lists were filled by 1-based index; a gap (member.1 and member.3) leaves a null to remove.
void compact_lists(nlohmann::json& node) {
  if (node.is_array()) {
    nlohmann::json compacted = nlohmann::json::array();
    for (auto& element : node) {
      if (element.is_null()) continue;
      compact_lists(element);
      compacted.push_back(std::move(element));
    }
    node = std::move(compacted);
  } else if (node.is_object()) {
    for (auto& [key, value] : node.items()) compact_lists(value);
  }
}

void to_xml(tinyxml2::XMLDocument& doc, tinyxml2::XMLElement* parent, const std::string& name,
            const nlohmann::json& value, bool timestamp,
            const std::function<bool(std::string_view)>& is_timestamp) {
  auto* element = doc.NewElement(name.c_str());
  parent->InsertEndChild(element);
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      to_xml(doc, element, it.key(), it.value(), is_timestamp(it.key()), is_timestamp);
    }
  } else if (value.is_array()) {
    for (const auto& member : value)
      to_xml(doc, element, "member", member, timestamp, is_timestamp);
  } else if (timestamp && value.is_number()) {
    const auto when = dms::parse_timestamp(value);
    element->SetText(when ? dms::format_iso8601(*when).c_str() : value.dump().c_str());
  } else if (value.is_string()) {
    element->SetText(value.get_ref<const std::string&>().c_str());
  } else if (value.is_number_float()) {
    element->SetText(fmt::format("{}", value.get<double>()).c_str());
  } else if (!value.is_null()) {
    element->SetText(value.dump().c_str());
  }
}

std::string print(const tinyxml2::XMLDocument& doc) {
  tinyxml2::XMLPrinter printer(nullptr, /*compact=*/true);
  doc.Print(&printer);
  return printer.CStr();
}

}  // namespace

QueryRequest parse_query_request(const std::string& body) {
  httplib::Params params;
  httplib::detail::parse_query_text(body, params);
  QueryRequest out;
  out.document = nlohmann::json::object();
  for (const auto& [key, value] : params) {
    if (key == "Action") {
      out.action = value;
      continue;
    }
    if (key == "Version") {
      out.version = value;
      continue;
    }
    const auto parts = split(key);
    // Each part is one level of the document; everything after this recurses over it.
    if (parts.size() > kMaxNestingDepth) {
      throw InvalidQueryParameter(
          fmt::format("Parameter names may nest at most {} levels; one nests {}.", kMaxNestingDepth,
                      parts.size()));
    }
    nlohmann::json* node = &out.document;
    std::string_view member;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const auto& part = parts[i];
      if ((part == "member" || part == "entry") && i + 1 < parts.size()) {
        std::size_t index = 0;
        const auto& digits = parts[++i];
        const auto [end, error] =
            std::from_chars(digits.data(), digits.data() + digits.size(), index);
        if (error != std::errc() || end != digits.data() + digits.size() || index == 0 ||
            index > 10000) {
          throw InvalidQueryParameter(fmt::format("Invalid list index in parameter {}", key));
        }
        if (!node->is_array()) *node = nlohmann::json::array();
        while (node->size() < index) node->push_back(nullptr);
        node = &(*node)[index - 1];
        continue;
      }
      if (!node->is_object()) *node = nlohmann::json::object();
      member = part;
      node = &(*node)[part];
    }
    *node = typed_value(member, value);
  }
  if (out.action.empty()) throw std::invalid_argument("The request has no Action parameter.");
  compact_lists(out.document);
  return out;
}

std::string query_response_xml(std::string_view action, std::string_view xml_namespace,
                               const nlohmann::json& result, std::string_view request_id,
                               const std::function<bool(std::string_view)>& is_timestamp) {
  tinyxml2::XMLDocument doc;
  doc.InsertEndChild(doc.NewDeclaration());
  auto* root = doc.NewElement(fmt::format("{}Response", action).c_str());
  root->SetAttribute("xmlns", std::string(xml_namespace).c_str());
  doc.InsertEndChild(root);
  to_xml(doc, root, fmt::format("{}Result", action), result, false, is_timestamp);
  auto* metadata = doc.NewElement("ResponseMetadata");
  root->InsertEndChild(metadata);
  auto* id = doc.NewElement("RequestId");
  id->SetText(std::string(request_id).c_str());
  metadata->InsertEndChild(id);
  return print(doc);
}

std::string query_error_xml(std::string_view xml_namespace, std::string_view code,
                            std::string_view message, bool sender_fault,
                            std::string_view request_id) {
  tinyxml2::XMLDocument doc;
  doc.InsertEndChild(doc.NewDeclaration());
  auto* root = doc.NewElement("ErrorResponse");
  root->SetAttribute("xmlns", std::string(xml_namespace).c_str());
  doc.InsertEndChild(root);
  auto* error = doc.NewElement("Error");
  root->InsertEndChild(error);
  const auto add = [&](tinyxml2::XMLElement* parent, const char* name, std::string_view text) {
    auto* child = doc.NewElement(name);
    child->SetText(std::string(text).c_str());
    parent->InsertEndChild(child);
  };
  add(error, "Type", sender_fault ? "Sender" : "Receiver");
  add(error, "Code", code);
  add(error, "Message", message);
  add(root, "RequestId", request_id);
  return print(doc);
}

}  // namespace dagster_dms::server
