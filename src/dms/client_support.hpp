#pragma once

// Pieces every typed client shares: typed calls over the JSON protocols, pagination and the error
// classification the clients' special cases need.

#include <exception>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/errors.hpp"
#include "aws/json_rpc.hpp"

namespace dagster_dms::dms {

// Called with every page a `*_all` method fetches, before the next one is requested.
template <class Page>
using PageCallback = std::function<void(const Page&)>;

namespace detail {

// Serializes `input`, calls `operation` and parses the answer into `Out`. A response that does not
// fit the model is a ProtocolError naming the operation and the member path.
template <class Out, class In>
Out typed_call(aws::JsonRpcClient& rpc, std::string_view operation, const In& input,
               aws::Retryability retryability = aws::Retryability::kIdempotent) {
  nlohmann::json body;
  to_json(body, input);
  const nlohmann::json response = rpc.call(operation, body, retryability);
  Out out;
  try {
    // Some operations answer with an empty body.
    from_json(response.is_null() ? nlohmann::json::object() : response, out);
  } catch (const aws::ProtocolError& e) {
    throw aws::ProtocolError(rpc.service().display_name + " " + std::string(operation) +
                             " response: " + e.what());
  }
  return out;
}

inline bool has_code(const aws::ServiceError& error, std::string_view code) {
  return error.code() == code;
}

// A failure after which the service may or may not have acted: a timeout or reset once the
// request was sent, or a 5xx answer.
bool is_ambiguous_failure(const std::exception_ptr& error);

// Start and stop change state, so the plumbing does not resend them after a failure that leaves
// their effect unknown (Retryability::kNotAfterAmbiguousFailure). Resending blindly could start a
// task twice (a second full load over a finished one) or fail with InvalidResourceStateFault for a
// start that did happen. Instead, after an ambiguous failure (a timeout or reset once the request
// was sent, or a 5xx) `recover` reads the resource's state:
//   - if it shows the call took effect, that state is the call's response;
//   - otherwise the call is sent once more, and whatever that attempt gives is the answer.
// If the state cannot be read either, the original failure is rethrown: it is the better message.
template <class Send, class Recover>
auto call_with_state_check(Send&& send, Recover&& recover) -> decltype(send()) {
  std::exception_ptr failure;
  try {
    return send();
  } catch (...) {
    failure = std::current_exception();
    if (!is_ambiguous_failure(failure)) throw;
  }
  std::optional<decltype(send())> settled;
  try {
    settled = recover();
  } catch (...) {
    std::rethrow_exception(failure);
  }
  if (settled) return *std::move(settled);
  return send();
}

// Follows the pagination token until the service stops returning one. `items` names the list
// member of a page; `on_page` sees every page. When `empty_on_not_found`, a ResourceNotFoundFault
// on the first page means "the filters matched nothing" (DMS's way of answering an empty list).
template <class Item, class In, class Page, class Fetch>
std::vector<Item> collect_pages(In input, Fetch&& fetch, std::optional<std::string> In::*in_token,
                                std::optional<std::string> Page::*out_token,
                                std::optional<std::vector<Item>> Page::*items,
                                const PageCallback<Page>& on_page, bool empty_on_not_found) {
  std::vector<Item> all;
  std::set<std::string> seen_tokens;
  bool first = true;
  for (;;) {
    Page page;
    try {
      page = fetch(input);
    } catch (const aws::ServiceError& e) {
      if (first && empty_on_not_found && has_code(e, "ResourceNotFoundFault")) return {};
      throw;
    }
    first = false;
    if (on_page) on_page(page);
    if (auto& list = page.*items) {
      all.insert(all.end(), std::make_move_iterator(list->begin()),
                 std::make_move_iterator(list->end()));
    }
    const auto& token = page.*out_token;
    if (!token || token->empty()) break;
    // A server that hands back a token it already gave would make this loop forever.
    if (!seen_tokens.insert(*token).second) {
      throw aws::ProtocolError("pagination token repeated: " + *token);
    }
    input.*in_token = *token;
  }
  return all;
}

}  // namespace detail
}  // namespace dagster_dms::dms
