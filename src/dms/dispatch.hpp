#pragma once

// Operation dispatch by name, for the Python bindings: JSON in (AWS wire names),
// typed call through the client's one call path, JSON out. The operations a client answers are
// its generated table (Client::Operations, from src/dms/model/operations.hpp). Input that does not
// fit the model is a std::invalid_argument naming the member; an unknown operation is a
// std::invalid_argument listing the valid ones.

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "aws/errors.hpp"
#include "dms/operation.hpp"

namespace dagster_dms::dms {
namespace detail {

// The input document as the operation's typed input, naming the offending member on failure.
template <class Op>
typename Op::Input read_input(const nlohmann::json& input) {
  typename Op::Input typed;
  try {
    from_json(input.is_null() ? nlohmann::json::object() : input, typed);
  } catch (const aws::ProtocolError& e) {
    throw std::invalid_argument("invalid input for " + std::string(Op::name) + ": " + e.what());
  }
  return typed;
}

// The listings of an operation table.
template <class Table>
struct ListingsOf;
template <class... Ops>
struct ListingsOf<std::tuple<Ops...>> {
  using type = decltype(std::tuple_cat(
      std::declval<std::conditional_t<ListingOperation<Ops>, std::tuple<Ops>, std::tuple<>>>()...));
};

template <class... Ops>
std::vector<std::string_view> names_of(std::tuple<Ops...>* /*table*/) {
  return {Ops::name...};
}

// Runs `run.template operator()<Op>()` for the operation of the table named `operation`; false
// when there is none.
template <class... Ops, class Run>
bool run_named(std::tuple<Ops...>* /*table*/, std::string_view operation, Run&& run) {
  return ((Ops::name == operation && (run.template operator()<Ops>(), true)) || ...);
}

inline std::invalid_argument unknown_name(const std::string& service, std::string_view kind,
                                          std::string_view name,
                                          const std::vector<std::string_view>& valid) {
  std::string message = "unknown " + service + " " + std::string(kind) + " '" + std::string(name) +
                        "'; valid " + std::string(kind) + "s: ";
  for (std::size_t i = 0; i < valid.size(); ++i) {
    message += (i ? ", " : "") + std::string(valid[i]);
  }
  return std::invalid_argument(message);
}

template <class Table>
constexpr Table* kTable = nullptr;

}  // namespace detail

// The operation names a client's dispatch accepts, in the API's spelling.
template <class Client>
std::vector<std::string_view> operation_names() {
  return detail::names_of(detail::kTable<typename Client::Operations>);
}

// Calls one operation by name.
template <class Client>
nlohmann::json invoke(Client& client, std::string_view operation, const nlohmann::json& input) {
  nlohmann::json out;
  constexpr auto table = detail::kTable<typename Client::Operations>;
  if (!detail::run_named(table, operation, [&]<class Op>() {
        to_json(out, client.template call<Op>(detail::read_input<Op>(input)));
      })) {
    throw detail::unknown_name(client.rpc().service().display_name, "operation", operation,
                               detail::names_of(table));
  }
  return out;
}

// Every item of every page of a listing, by name, as a JSON array; DMS filters that match
// nothing give an empty array (DMS answers them with ResourceNotFoundFault).
template <class Client>
nlohmann::json list_all(Client& client, std::string_view operation, const nlohmann::json& input) {
  nlohmann::json out = nlohmann::json::array();
  constexpr auto table =
      detail::kTable<typename detail::ListingsOf<typename Client::Operations>::type>;
  if (!detail::run_named(table, operation, [&]<class Op>() {
        for (const auto& item : detail::all_pages<Op>(client, detail::read_input<Op>(input), {})) {
          if constexpr (std::is_same_v<std::decay_t<decltype(item)>, std::string>) {
            out.push_back(item);  // a listing of names (DescribeApplicableIndividualAssessments)
          } else {
            to_json(out.emplace_back(), item);
          }
        }
      })) {
    throw detail::unknown_name(client.rpc().service().display_name, "listing", operation,
                               detail::names_of(table));
  }
  return out;
}

}  // namespace dagster_dms::dms
