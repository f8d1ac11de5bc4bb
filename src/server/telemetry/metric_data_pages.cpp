#include "server/telemetry/metric_data_pages.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <string_view>

namespace dagster_dms::server {

namespace {

constexpr std::string_view kTokenPrefix = "dms-local-1:";

std::size_t parse_token(const std::string& token, std::size_t total) {
  if (token.rfind(kTokenPrefix, 0) != 0) throw std::invalid_argument("unknown token");
  const std::string_view digits = std::string_view(token).substr(kTokenPrefix.size());
  std::size_t offset = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), offset);
  if (error != std::errc() || end != digits.data() + digits.size() || offset > total) {
    throw std::invalid_argument("unknown token");
  }
  return offset;
}

}  // namespace

MetricDataPage page_metric_data(const std::vector<MetricDataSeries>& all,
                                std::size_t max_datapoints,
                                const std::optional<std::string>& next_token) {
  std::size_t total = 0;
  for (const auto& series : all) total += series.values.size();
  const std::size_t begin = next_token ? parse_token(*next_token, total) : 0;
  const std::size_t end = std::min(total, begin + std::max<std::size_t>(1, max_datapoints));

  MetricDataPage page;
  std::size_t position = 0;  // global index of the series' first datapoint
  for (const auto& series : all) {
    const std::size_t size = series.values.size();
    const std::size_t from = std::clamp(begin, position, position + size) - position;
    const std::size_t to = std::clamp(end, position, position + size) - position;
    MetricDataSeries slice{series.id, series.label, {}, {}};
    slice.timestamps_ms.assign(series.timestamps_ms.begin() + static_cast<long>(from),
                               series.timestamps_ms.begin() + static_cast<long>(to));
    slice.values.assign(series.values.begin() + static_cast<long>(from),
                        series.values.begin() + static_cast<long>(to));
    page.results.push_back(std::move(slice));
    page.complete.push_back(to == size);
    position += size;
  }
  if (end < total) page.next_token = fmt::format("{}{}", kTokenPrefix, end);
  return page;
}

}  // namespace dagster_dms::server
