#include "replicate/cdc_file_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <system_error>
#include <utility>

namespace dagster_dms::replicate {

namespace {

constexpr std::uint32_t kBoolOid = 16;
constexpr std::uint32_t kTimestampOid = 1114;
constexpr std::uint32_t kTimestampTzOid = 1184;
constexpr std::int64_t kPgEpochDays = 10957;  // 1970-01-01 to 2000-01-01
constexpr std::int64_t kMicrosPerDay = 86400LL * 1000000;

// Days since 1970-01-01 for a proleptic Gregorian date, and back (H. Hinnant's algorithms).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  unsigned month, day;
};

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

// Microseconds since 1970-01-01 UTC split into a civil date and the time of day.
struct Broken {
  Civil date;
  std::int64_t micros_of_day;
};

Broken break_down(std::int64_t unix_micros) {
  std::int64_t days = unix_micros / kMicrosPerDay;
  std::int64_t rest = unix_micros % kMicrosPerDay;
  if (rest < 0) rest += kMicrosPerDay, --days;
  return {civil_from_days(days), rest};
}

bool digits(std::string_view text, std::size_t at, std::size_t count, int& out) {
  if (at + count > text.size()) return false;
  const auto* first = text.data() + at;
  const auto [end, error] = std::from_chars(first, first + count, out);
  return error == std::errc() && end == first + count;
}

// `YYYY-MM-DD HH:MM:SS[.ffffff]` at the start of `text`: microseconds since 1970 (as if UTC)
// and how many characters it took.
std::optional<std::pair<std::int64_t, std::size_t>> parse_iso_timestamp(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!digits(text, 0, 4, y) || text.size() < 19 || text[4] != '-' || !digits(text, 5, 2, mo) ||
      text[7] != '-' || !digits(text, 8, 2, d) || text[10] != ' ' || !digits(text, 11, 2, h) ||
      text[13] != ':' || !digits(text, 14, 2, mi) || text[16] != ':' || !digits(text, 17, 2, s)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  std::size_t at = 19;
  std::int64_t fraction = 0;
  if (at < text.size() && text[at] == '.') {
    ++at;
    int scale = 0;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      if (scale < 6) fraction = fraction * 10 + (text[at] - '0'), ++scale;
      ++at;
    }
    if (scale == 0) return std::nullopt;
    for (; scale < 6; ++scale) fraction *= 10;
  }
  const std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const std::int64_t seconds = (days * 86400) + std::int64_t{h} * 3600 + std::int64_t{mi} * 60 + s;
  return std::make_pair(seconds * 1000000 + fraction, at);
}

std::string format_unix_micros(std::int64_t unix_micros) {
  const auto [date, micros] = break_down(unix_micros);
  const auto seconds = micros / 1000000;
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}", date.year, date.month, date.day,
                     seconds / 3600, seconds / 60 % 60, seconds % 60, micros % 1000000);
}

void write_durably(const ConfinedDirectory& folder, const std::string& name,
                   const std::string& content) {
  FileWriter out(folder.create_file(name), folder.path() / name);
  out.write(content);
  out.close(true);
}

bool is_table_file(const std::string& name) {
  return name.ends_with(".csv") && (name.starts_with("LOAD") || cdc_file_end_lsn(name).has_value());
}

}  // namespace

std::string cdc_file_name(std::int64_t commit_time, Lsn end_lsn, unsigned part) {
  const auto unix_micros = commit_time + kPgEpochDays * kMicrosPerDay;
  const auto [date, micros] = break_down(unix_micros);
  const auto millis = micros / 1000;
  const auto seconds = millis / 1000;
  auto name =
      fmt::format("{:04}{:02}{:02}-{:02}{:02}{:02}{:03}-{:016X}", date.year, date.month, date.day,
                  seconds / 3600, seconds / 60 % 60, seconds % 60, millis % 1000, end_lsn);
  // `_` sorts after the `.` of the first part's name, so names stay in change order.
  if (part > 1) name += fmt::format("_{:04}", part);
  return name + ".csv";
}

std::optional<Lsn> cdc_file_end_lsn(std::string_view name) {
  // 8 date digits, '-', 9 time digits, '-', 16 hex digits, optional _part, ".csv".
  if (!name.ends_with(".csv") || name.size() < 39) return std::nullopt;
  for (std::size_t i = 0; i < 18; ++i) {
    const bool dash = i == 8;
    if (dash ? name[i] != '-' : (name[i] < '0' || name[i] > '9')) return std::nullopt;
  }
  if (name[18] != '-') return std::nullopt;
  Lsn lsn = 0;
  const auto* first = name.data() + 19;
  const auto [end, error] = std::from_chars(first, first + 16, lsn, 16);
  if (error != std::errc() || end != first + 16) return std::nullopt;
  const auto rest = name.substr(35, name.size() - 35 - 4);
  if (!rest.empty()) {
    unsigned part = 0;
    if (rest[0] != '_' || rest.size() < 2) return std::nullopt;
    const auto [part_end, part_error] =
        std::from_chars(rest.data() + 1, rest.data() + rest.size(), part);
    if (part_error != std::errc() || part_end != rest.data() + rest.size()) return std::nullopt;
  }
  return lsn;
}

std::string format_commit_timestamp(std::int64_t commit_time) {
  return format_unix_micros(commit_time + kPgEpochDays * kMicrosPerDay);
}

std::string cdc_file_value(std::uint32_t type_oid, std::string_view text) {
  switch (type_oid) {
    case kBoolOid:
      return text == "t" ? "true" : text == "f" ? "false" : std::string(text);
    case kTimestampOid: {
      const auto parsed = parse_iso_timestamp(text);
      if (!parsed || parsed->second != text.size()) return std::string(text);
      return format_unix_micros(parsed->first);
    }
    case kTimestampTzOid: {
      // The walsender prints timestamptz in its TimeZone: `...[.ffffff]+HH[:MM[:SS]]`.
      const auto parsed = parse_iso_timestamp(text);
      if (!parsed) return std::string(text);
      auto rest = text.substr(parsed->second);
      if (rest.size() < 3 || (rest[0] != '+' && rest[0] != '-')) return std::string(text);
      const int sign = rest[0] == '-' ? -1 : 1;
      int hours = 0, minutes = 0, seconds = 0;
      if (!digits(rest, 1, 2, hours)) return std::string(text);
      std::size_t at = 3;
      if (at < rest.size() && (rest[at] != ':' || !digits(rest, at + 1, 2, minutes))) {
        return std::string(text);
      }
      at += at < rest.size() ? 3 : 0;
      if (at < rest.size() && (rest[at] != ':' || !digits(rest, at + 1, 2, seconds))) {
        return std::string(text);
      }
      at += at < rest.size() ? 3 : 0;
      if (at != rest.size()) return std::string(text);
      const std::int64_t offset =
          sign * ((std::int64_t{hours} * 3600) + (std::int64_t{minutes} * 60) + seconds);
      return format_unix_micros(parsed->first - offset * 1000000);
    }
    default:
      return std::string(text);
  }
}

CdcRowPolicy cdc_row_policy(const FileTarget& target) {
  CdcRowPolicy policy;
  if (target.cdc_inserts_only || target.cdc_inserts_and_updates) {
    // Filtered files carry the Op column only when IncludeOpForFullLoad asks for it.
    policy.write_op = target.include_op_for_full_load;
    policy.keep_deletes = false;
    policy.keep_updates = !target.cdc_inserts_only;
  }
  return policy;
}

CdcFileWriter::CdcFileWriter(const FileTarget& target, const std::vector<TablePlan>& plans,
                             bool resuming)
    : target_(target),
      plans_(plans),
      policy_(cdc_row_policy(target)),
      root_(ConfinedDirectory::open_root(target.root)),
      on_disk_(plans.size(), 0) {
  check_s3_location(target_.bucket, target_.folder);
  for (std::size_t i = 0; i < plans_.size(); ++i) {
    const auto folder = root_.open(table_folder(target_, plans_[i].target), false);
    if (!folder) continue;
    for (const auto& name : folder->regular_files()) {
      // A file a crashed run did not finish; its changes were never confirmed.
      if (name.starts_with(".") && name.ends_with(".part") &&
          cdc_file_end_lsn(std::string_view(name).substr(1, name.size() - 6))) {
        folder->remove_file(name);
      }
      const auto lsn = cdc_file_end_lsn(name);
      if (lsn && resuming) on_disk_[i] = std::max(on_disk_[i], *lsn);
    }
  }
}

std::optional<std::size_t> CdcFileWriter::on_relation(const pgoutput::Relation& relation) {
  relations_.erase(relation.id);
  auto matched = match_relation(plans_, relation);
  if (!matched) return std::nullopt;
  Binding bound;
  bound.plan = matched->plan;
  bound.has_key = !plans_[matched->plan].primary_key.empty();
  bound.targets = std::move(matched->targets);
  for (const auto& column : relation.columns) bound.types.push_back(column.type_oid);
  relations_[relation.id] = std::move(bound);
  return relations_[relation.id].plan;
}

const CdcFileWriter::Binding* CdcFileWriter::binding(std::uint32_t relation) const {
  const auto it = relations_.find(relation);
  return it == relations_.end() ? nullptr : &it->second;
}

void CdcFileWriter::begin(const pgoutput::Begin& begin) {
  transaction_.clear();
  transaction_final_ = begin.final_lsn;
  transaction_time_ = begin.commit_time;
  transaction_timestamp_.clear();
  if (!target_.timestamp_column_name.empty()) {
    transaction_timestamp_ = format_commit_timestamp(begin.commit_time);
  }
}

void CdcFileWriter::add_row(const Binding& bound, char op, const pgoutput::Tuple& row,
                            const pgoutput::Tuple* fallback) {
  std::vector<std::string> columns;
  std::vector<std::optional<std::string>> fields;
  if (policy_.write_op) {
    columns.emplace_back("Op");
    fields.emplace_back(std::string(1, op));
  }
  for (std::size_t i = 0; i < bound.targets.size(); ++i) {
    if (bound.targets[i].empty()) continue;
    columns.push_back(bound.targets[i]);
    const pgoutput::TupleValue* value = i < row.size() ? &row[i] : nullptr;
    // An unchanged TOASTed value is not sent; the old row has it under REPLICA IDENTITY FULL.
    if (value != nullptr && value->kind == pgoutput::ValueKind::kUnchangedToast) {
      value = fallback != nullptr && i < fallback->size() ? &(*fallback)[i] : nullptr;
    }
    if (value == nullptr || value->kind != pgoutput::ValueKind::kText) {
      fields.emplace_back(std::nullopt);
    } else {
      fields.emplace_back(cdc_file_value(bound.types[i], value->text));
    }
  }
  if (!target_.timestamp_column_name.empty()) {
    columns.push_back(target_.timestamp_column_name);
    fields.emplace_back(transaction_timestamp_);
  }
  auto& table = transaction_[bound.plan];
  if (table.segments.empty() || table.segments.back().columns != columns) {
    table.segments.push_back(Segment{std::move(columns), {}});
  }
  const auto line = encode_csv_row(fields, target_.csv);
  table.segments.back().rows += line;
  table.bytes += line.size();
}

std::optional<std::size_t> CdcFileWriter::apply(const pgoutput::Insert& change) {
  const auto* bound = binding(change.relation);
  if (bound == nullptr) return std::nullopt;
  add_row(*bound, 'I', change.new_tuple, nullptr);
  return bound->plan;
}

std::optional<std::size_t> CdcFileWriter::apply(const pgoutput::Update& change) {
  const auto* bound = binding(change.relation);
  if (bound == nullptr || !bound->has_key || !policy_.keep_updates) return std::nullopt;
  add_row(*bound, 'U', change.new_tuple, change.old_kind == 'O' ? &change.old_tuple : nullptr);
  return bound->plan;
}

std::optional<std::size_t> CdcFileWriter::apply(const pgoutput::Delete& change) {
  const auto* bound = binding(change.relation);
  if (bound == nullptr || !bound->has_key || !policy_.keep_deletes) return std::nullopt;
  // The old key (default replica identity: other columns empty) or the whole old row (FULL).
  add_row(*bound, 'D', change.old_tuple, nullptr);
  return bound->plan;
}

std::vector<std::size_t> CdcFileWriter::apply(const pgoutput::Truncate& change) {
  std::vector<std::size_t> out;
  for (const auto relation : change.relations) {
    const auto* bound = binding(relation);
    if (bound == nullptr) continue;
    transaction_[bound->plan] = TableRows{true, {}, 0};
    out.push_back(bound->plan);
  }
  return out;
}

void CdcFileWriter::commit(Lsn end_lsn) {
  auto transaction = std::move(transaction_);
  transaction_.clear();
  for (auto& [plan, rows] : transaction) {
    // Already in the table's files before a crash: the replay leaves it out.
    if (on_disk_[plan] > transaction_final_) continue;
    auto& batched = batch_[plan];
    if (rows.truncated) {
      batched = std::move(rows);
      continue;
    }
    for (auto& segment : rows.segments) {
      if (!batched.segments.empty() && batched.segments.back().columns == segment.columns) {
        batched.segments.back().rows += segment.rows;
      } else {
        batched.segments.push_back(std::move(segment));
      }
    }
    batched.bytes += rows.bytes;
  }
  if (batch_.empty()) {
    // Nothing waits to be written: this transaction is as durable as it will ever be.
    durable_ = end_lsn;
    return;
  }
  if (!batch_started_) batch_started_ = std::chrono::steady_clock::now();
  batch_end_ = end_lsn;
  batch_time_ = transaction_time_;
}

void CdcFileWriter::rollback() noexcept {
  transaction_.clear();
}

void CdcFileWriter::flush(bool force) {
  if (batch_.empty()) return;
  const bool full = std::any_of(batch_.begin(), batch_.end(), [&](const auto& entry) {
    return entry.second.bytes >= target_.cdc_min_file_size_kb * 1024;
  });
  const bool old =
      batch_started_ && std::chrono::steady_clock::now() - *batch_started_ >=
                            std::chrono::seconds(target_.cdc_max_batch_interval_seconds);
  if (force || full || old) write_batch();
}

void CdcFileWriter::write_batch() {
  last_name_time_ = std::max(last_name_time_, batch_time_);
  struct Rename {
    std::size_t plan;
    std::string from, to;
  };
  std::vector<Rename> renames;
  std::map<std::size_t, ConfinedDirectory> folders;  // by plan: the folders written to
  for (auto& [plan, rows] : batch_) {
    const auto segments = table_folder(target_, plans_[plan].target);
    if (rows.truncated) {
      if (const auto folder = root_.open(segments, false)) {
        for (const auto& name : folder->regular_files()) {
          if (is_table_file(name)) folder->remove_file(name);
        }
        folder->sync();
        // The folder itself goes only when nothing else is in it.
        const std::vector<std::string> parent(segments.begin(), segments.end() - 1);
        if (const auto above = root_.open(parent, false)) {
          above->remove_empty_directory(segments.back());
        }
      }
    }
    unsigned part = 0;
    for (const auto& segment : rows.segments) {
      if (segment.rows.empty()) continue;
      auto found = folders.find(plan);
      if (found == folders.end()) {
        found = folders.emplace(plan, *root_.open(segments, true)).first;
      }
      const auto name = cdc_file_name(last_name_time_, batch_end_, ++part);
      const auto temporary = "." + name + ".part";
      std::string content;
      if (target_.csv.add_column_name) {
        const std::vector<std::optional<std::string>> header(segment.columns.begin(),
                                                             segment.columns.end());
        content = encode_csv_row(header, target_.csv);
      }
      content += segment.rows;
      write_durably(found->second, temporary, content);
      renames.push_back(Rename{plan, temporary, name});
    }
  }
  for (const auto& rename : renames) folders.at(rename.plan).rename(rename.from, rename.to);
  for (const auto& [plan, folder] : folders) folder.sync();
  for (const auto& [plan, rows] : batch_) {
    if (!rows.segments.empty()) on_disk_[plan] = std::max(on_disk_[plan], batch_end_);
  }
  batch_.clear();
  batch_started_.reset();
  durable_ = batch_end_;
}

}  // namespace dagster_dms::replicate
