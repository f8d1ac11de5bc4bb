#include "dms/logs_client.hpp"

#include <utility>

#include "aws/service_info.hpp"

namespace dagster_dms::dms {

using namespace logs;

LogsClient::LogsClient(std::shared_ptr<aws::Session> session)
    : rpc_(std::move(session), aws::logs_service()) {}

std::vector<OutputLogEvent> LogsClient::get_log_events_all(
    GetLogEventsRequest input, const PageCallback<GetLogEventsResponse>& on_page,
    std::size_t max_pages) {
  // Without startFromHead the service starts at the tail and the forward token goes nowhere.
  const bool forward = input.start_from_head.value_or(false);
  std::vector<OutputLogEvent> all;
  for (std::size_t page_number = 0; page_number < max_pages; ++page_number) {
    GetLogEventsResponse page = get_log_events(input);
    if (on_page) on_page(page);
    if (page.events) {
      all.insert(forward ? all.end() : all.begin(), std::make_move_iterator(page.events->begin()),
                 std::make_move_iterator(page.events->end()));
    }
    const auto& token = forward ? page.next_forward_token : page.next_backward_token;
    if (!token || token->empty() || token == input.next_token) break;
    input.next_token = token;
  }
  return all;
}

}  // namespace dagster_dms::dms
