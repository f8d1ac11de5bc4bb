#include "replicate/cdc_positions.hpp"

#include <charconv>

#include "replicate/cdc.hpp"

namespace dagster_dms::replicate {

namespace {

// Exactly `digits` decimal digits at `text[at]`.
std::optional<unsigned> number(std::string_view text, std::size_t at, std::size_t digits) {
  if (at + digits > text.size()) return std::nullopt;
  unsigned value = 0;
  const auto* first = text.data() + at;
  const auto [end, error] = std::from_chars(first, first + digits, value);
  if (error != std::errc() || end != first + digits) return std::nullopt;
  return value;
}

// `YYYY-MM-DDTHH:MM:SS`, as the DMS API documents it, read as UTC.
std::optional<std::chrono::system_clock::time_point> parse_utc(std::string_view text) {
  if (text.size() != 19 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  const auto year = number(text, 0, 4), month = number(text, 5, 2), day = number(text, 8, 2);
  const auto hour = number(text, 11, 2), minute = number(text, 14, 2), second = number(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{static_cast<int>(*year)},
                                         std::chrono::month{*month}, std::chrono::day{*day}};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days{date} + std::chrono::hours{*hour} + std::chrono::minutes{*minute} +
         std::chrono::seconds{*second};
}

}  // namespace

std::optional<Lsn> parse_cdc_start_position(std::string_view text) {
  if (text.starts_with("checkpoint:")) return parse_recovery_checkpoint(text);
  return parse_lsn(text);
}

std::optional<CdcStopPosition> parse_cdc_stop_position(std::string_view text) {
  constexpr std::string_view kServer = "server_time:";
  constexpr std::string_view kCommit = "commit_time:";
  CdcStopPosition out;
  if (text.starts_with(kServer)) {
    out.kind = CdcStopPosition::Kind::kServerTime;
    text.remove_prefix(kServer.size());
  } else if (text.starts_with(kCommit)) {
    out.kind = CdcStopPosition::Kind::kCommitTime;
    text.remove_prefix(kCommit.size());
  } else {
    return std::nullopt;
  }
  const auto at = parse_utc(text);
  if (!at) return std::nullopt;
  out.at = *at;
  return out;
}

}  // namespace dagster_dms::replicate
