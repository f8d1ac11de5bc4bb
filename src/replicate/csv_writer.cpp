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

LoadFileWriter::LoadFileWriter(std::filesystem::path folder, CsvFormat format,
                               std::uint64_t max_file_bytes, std::vector<std::string> column_names,
                               std::uint32_t first_index)
    : folder_(std::move(folder)),
      format_(std::move(format)),
      max_file_bytes_(max_file_bytes == 0 ? 1 : max_file_bytes),
      column_names_(std::move(column_names)),
      next_index_(first_index) {}

LoadFileWriter::~LoadFileWriter() {
  if (out_.is_open()) {
    out_.close();
    std::error_code ignored;
    std::filesystem::remove(current_tmp_, ignored);
  }
}

void LoadFileWriter::open_next() {
  std::filesystem::create_directories(folder_);
  current_ = folder_ / load_file_name(next_index_++);
  current_tmp_ = folder_ / ("." + current_.filename().string() + ".part");
  out_.open(current_tmp_, std::ios::binary | std::ios::trunc);
  if (!out_) throw std::runtime_error("cannot create " + current_tmp_.string());
  current_bytes_ = 0;
  current_rows_ = 0;
  if (format_.add_column_name) {
    std::vector<std::optional<std::string>> header(column_names_.begin(), column_names_.end());
    const auto line = encode_csv_row(header, format_);
    out_.write(line.data(), static_cast<std::streamsize>(line.size()));
    current_bytes_ += line.size();
    total_bytes_ += line.size();
  }
}

void LoadFileWriter::close_current() {
  out_.close();
  if (!out_) throw std::runtime_error("cannot write " + current_tmp_.string());
  std::filesystem::rename(current_tmp_, current_);
  files_.push_back(current_);
}

void LoadFileWriter::write_row(const std::vector<std::optional<std::string>>& fields) {
  buffer_.clear();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) buffer_ += format_.delimiter;
    append_csv_field(buffer_, fields[i], format_);
  }
  buffer_ += format_.row_delimiter;
  if (out_.is_open() && current_rows_ > 0 && current_bytes_ + buffer_.size() > max_file_bytes_) {
    close_current();
  }
  if (!out_.is_open()) open_next();
  out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  if (!out_) throw std::runtime_error("cannot write " + current_tmp_.string());
  current_bytes_ += buffer_.size();
  total_bytes_ += buffer_.size();
  ++current_rows_;
}

void LoadFileWriter::finish() {
  if (out_.is_open()) close_current();
}

std::uint32_t next_load_index(const std::filesystem::path& folder) {
  std::uint32_t next = 1;
  std::error_code error;
  if (!std::filesystem::is_directory(folder, error)) return next;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    const auto name = entry.path().filename().string();
    if (name.size() != 16 || !name.starts_with("LOAD") || !name.ends_with(".csv")) continue;
    try {
      const auto index = static_cast<std::uint32_t>(std::stoul(name.substr(4, 8), nullptr, 16));
      if (index >= next) next = index + 1;
    } catch (const std::exception&) {
    }
  }
  return next;
}

void remove_load_files(const std::filesystem::path& folder) {
  std::error_code error;
  if (!std::filesystem::is_directory(folder, error)) return;
  std::vector<std::filesystem::path> doomed;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    const auto name = entry.path().filename().string();
    if (name.starts_with("LOAD") && name.ends_with(".csv")) doomed.push_back(entry.path());
  }
  for (const auto& path : doomed) std::filesystem::remove(path);
}

}  // namespace dagster_dms::replicate
