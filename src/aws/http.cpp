#include "aws/http.hpp"

#include <algorithm>
#include <cctype>

namespace dagster_dms::aws {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::string> HttpHeaders::get(std::string_view name) const {
  for (const auto& header : headers_) {
    if (iequals(header.name, name)) return header.value;
  }
  return std::nullopt;
}

void HttpHeaders::set(std::string_view name, std::string value) {
  remove(name);
  headers_.push_back({std::string(name), std::move(value)});
}

void HttpHeaders::add(std::string name, std::string value) {
  headers_.push_back({std::move(name), std::move(value)});
}

void HttpHeaders::remove(std::string_view name) {
  std::erase_if(headers_, [&](const HttpHeader& h) { return iequals(h.name, name); });
}

}  // namespace dagster_dms::aws
