#include "replicate/csv_writer.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <system_error>

namespace dagster_dms::replicate {

void append_csv_field(std::string& out, const std::optional<std::string>& value,
                      const CsvFormat& format) {
  if (!value) {
    out += format.null_value;
    return;
  }
  const bool quote =
      value->find_first_of("\"\r\n") != std::string::npos ||
      (!format.delimiter.empty() && value->find(format.delimiter) != std::string::npos) ||
      (!format.row_delimiter.empty() && value->find(format.row_delimiter) != std::string::npos);
  if (!quote) {
    out += *value;
    return;
  }
  out += '"';
  for (const char c : *value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string encode_csv_row(const std::vector<std::optional<std::string>>& fields,
                           const CsvFormat& format) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += format.delimiter;
    append_csv_field(out, fields[i], format);
  }
  out += format.row_delimiter;
  return out;
}

std::string load_file_name(std::uint32_t index) {
  return fmt::format("LOAD{:08X}.csv", index);
}

LoadFileWriter::LoadFileWriter(const ConfinedDirectory& root, std::vector<std::string> folder,
                               CsvFormat format, std::uint64_t max_file_bytes,
                               std::vector<std::string> column_names, std::uint32_t first_index)
    : root_(root),
      folder_segments_(std::move(folder)),
      format_(std::move(format)),
      max_file_bytes_(max_file_bytes == 0 ? 1 : max_file_bytes),
      column_names_(std::move(column_names)),
      next_index_(first_index) {}

LoadFileWriter::~LoadFileWriter() {
  if (out_) {
    out_.reset();
    try {
      folder_->remove_file(current_tmp_);
    } catch (const std::exception&) {
      // A leftover temporary is hidden and replaced by the next load; nothing more to do here.
    }
  }
}

void LoadFileWriter::open_next() {
  if (!folder_) folder_ = root_.open(folder_segments_, true);
  current_ = load_file_name(next_index_++);
  current_tmp_ = "." + current_ + ".part";
  out_.emplace(folder_->create_file(current_tmp_), folder_->path() / current_tmp_);
  current_bytes_ = 0;
  current_rows_ = 0;
  if (format_.add_column_name) {
    std::vector<std::optional<std::string>> header(column_names_.begin(), column_names_.end());
    const auto line = encode_csv_row(header, format_);
    write(line);
  }
}

void LoadFileWriter::write(std::string_view data) {
  out_->write(data);
  current_bytes_ += data.size();
  total_bytes_ += data.size();
}

void LoadFileWriter::close_current() {
  out_->close();
  out_.reset();
  folder_->rename(current_tmp_, current_);
  files_.push_back(folder_->path() / current_);
}

void LoadFileWriter::write_row(const std::vector<std::optional<std::string>>& fields) {
  buffer_.clear();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) buffer_ += format_.delimiter;
    append_csv_field(buffer_, fields[i], format_);
  }
  buffer_ += format_.row_delimiter;
  if (out_ && current_rows_ > 0 && current_bytes_ + buffer_.size() > max_file_bytes_) {
    close_current();
  }
  if (!out_) open_next();
  write(buffer_);
  ++current_rows_;
}

void LoadFileWriter::finish() {
  if (out_) close_current();
}

namespace {

bool is_load_file_name(const std::string& name) {
  return name.size() == 16 && name.starts_with("LOAD") && name.ends_with(".csv");
}

}  // namespace

std::uint32_t next_load_index(const ConfinedDirectory& root,
                              const std::vector<std::string>& folder) {
  std::uint32_t next = 1;
  const auto directory = root.open(folder, false);
  if (!directory) return next;
  for (const auto& name : directory->regular_files()) {
    if (!is_load_file_name(name)) continue;
    try {
      const auto index = static_cast<std::uint32_t>(std::stoul(name.substr(4, 8), nullptr, 16));
      if (index >= next) next = index + 1;
    } catch (const std::exception&) {
    }
  }
  return next;
}

void remove_load_files(const ConfinedDirectory& root, const std::vector<std::string>& folder) {
  const auto directory = root.open(folder, false);
  if (!directory) return;
  for (const auto& name : directory->regular_files()) {
    if (name.starts_with("LOAD") && name.ends_with(".csv")) directory->remove_file(name);
  }
}

}  // namespace dagster_dms::replicate
