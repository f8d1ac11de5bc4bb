#pragma once

// An API operation as a type: its wire name, its input and output shapes, how it may be retried
// and, for a listing, how its pages chain. scripts/generate_models.py writes one such type per
// operation (src/dms/model/<service>_operations.hpp) together with the clients' typed methods;
// everything else (the one call path, every page of a listing, dispatch by name) is written once
// here and in dispatch.cpp, for all operations.

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/json_rpc.hpp"
#include "dms/client_support.hpp"

namespace dagster_dms::dms {

// A string literal usable as a template argument (an operation's wire name).
template <std::size_t N>
struct OperationName {
  // Implicit on purpose: Operation<"DescribeEndpoints", ...> reads as the API spells it.
  constexpr OperationName(const char (&name)[N]) {  // NOLINT(google-explicit-constructor)
    std::copy_n(name, N, text);
  }
  [[nodiscard]] constexpr std::string_view view() const { return {text, N - 1}; }
  char text[N]{};
};

// Operations that change whether something runs (Start*, Stop*) are not resent after a failure
// that leaves their effect unknown; the client reads the resource's state instead.
template <OperationName Name, class In, class Out,
          aws::Retryability Retry = aws::Retryability::kIdempotent>
struct Operation {
  static constexpr std::string_view name = Name.view();
  using Input = In;
  using Output = Out;
  static constexpr aws::Retryability retryability = Retry;
};

// A listing: the pagination token it sends and the one it answers, the items of a page, and
// whether a ResourceNotFoundFault on the first page means "the filters matched nothing" (DMS's
// filtered Describe calls answer that way instead of with an empty list).
template <class Op, auto InToken, auto OutToken, auto Items, bool EmptyOnNotFound>
struct Listing : Op {
  static constexpr auto in_token = InToken;
  static constexpr auto out_token = OutToken;
  static constexpr auto items = Items;
  static constexpr bool empty_on_not_found = EmptyOnNotFound;
};

template <class Op>
concept ListingOperation = requires {
  Op::items;
};

namespace detail {

// The plain call path: serialize, send with the operation's retry rule, parse.
template <class Op>
typename Op::Output send(aws::JsonRpcClient& rpc, const typename Op::Input& input) {
  return typed_call<typename Op::Output>(rpc, Op::name, input, Op::retryability);
}

// Every item of every page of a listing, each page going through the client's call path.
template <ListingOperation Op, class Client>
auto all_pages(Client& client, typename Op::Input input,
               const PageCallback<typename Op::Output>& on_page) {
  return collect_pages(
      std::move(input), [&client](const auto& page) { return client.template call<Op>(page); },
      Op::in_token, Op::out_token, Op::items, on_page, Op::empty_on_not_found);
}

}  // namespace detail
}  // namespace dagster_dms::dms
