#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "replicate/s3_path.hpp"

namespace dagster_dms::replicate {

// DMS's CSV conventions for the S3 target (its defaults: `,` between fields, `\n` after a row,
// RFC 4180 quoting, NULL written as an empty field, no header row).
struct CsvFormat {
  std::string delimiter = ",";
  std::string row_delimiter = "\n";
  std::string null_value;  // CsvNullValue: what a NULL becomes (default: nothing)
  bool add_column_name = false;
};

// Appends one field: quoted (inner quotes doubled) when it holds a quote, the delimiter, or a
// line break; NULL becomes `format.null_value`, unquoted.
void append_csv_field(std::string& out, const std::optional<std::string>& value,
                      const CsvFormat& format);
// One whole row, row delimiter included.
std::string encode_csv_row(const std::vector<std::optional<std::string>>& fields,
                           const CsvFormat& format);

// `LOAD00000001.csv`, `LOAD0000000A.csv`...: the counter is eight uppercase hex digits.
std::string load_file_name(std::uint32_t index);

// Writes one table's full-load files into `folder` (segments below `root`), starting a new LOAD
// file whenever the next row would take the current one past `max_file_bytes` (a row is never
// split). A file is written under a temporary name and renamed when complete, so readers never
// see half a file; the folder appears only once the table has a row, as in DMS.
class LoadFileWriter {
 public:
  LoadFileWriter(const ConfinedDirectory& root, std::vector<std::string> folder, CsvFormat format,
                 std::uint64_t max_file_bytes, std::vector<std::string> column_names,
                 std::uint32_t first_index = 1);
  ~LoadFileWriter();
  LoadFileWriter(const LoadFileWriter&) = delete;
  LoadFileWriter& operator=(const LoadFileWriter&) = delete;

  void write_row(const std::vector<std::optional<std::string>>& fields);
  // Closes and publishes the current file. Without it, the partial file is removed.
  void finish();

  // The published files (for messages and tests).
  [[nodiscard]] const std::vector<std::filesystem::path>& files() const { return files_; }
  [[nodiscard]] std::uint64_t bytes_written() const { return total_bytes_; }

 private:
  void open_next();
  void close_current();
  void write(std::string_view data);

  const ConfinedDirectory& root_;
  std::vector<std::string> folder_segments_;
  std::optional<ConfinedDirectory> folder_;
  CsvFormat format_;
  std::uint64_t max_file_bytes_;
  std::vector<std::string> column_names_;
  std::uint32_t next_index_;
  std::optional<FileWriter> out_;
  std::string current_;
  std::string current_tmp_;
  std::uint64_t current_bytes_ = 0;
  std::uint64_t current_rows_ = 0;
  std::uint64_t total_bytes_ = 0;
  std::vector<std::filesystem::path> files_;
  std::string buffer_;
};

// The next free LOAD index in a folder below `root` (1 when it is empty or absent).
std::uint32_t next_load_index(const ConfinedDirectory& root,
                              const std::vector<std::string>& folder);
// Removes the LOAD files of a previous full load in a folder below `root`; nothing else, and
// nothing outside the root.
void remove_load_files(const ConfinedDirectory& root, const std::vector<std::string>& folder);

}  // namespace dagster_dms::replicate
