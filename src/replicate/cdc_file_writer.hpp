#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "replicate/change_sink.hpp"
#include "replicate/full_load.hpp"
#include "replicate/s3_path.hpp"

namespace dagster_dms::replicate {

// CDC file names: `yyyyMMdd-HHmmssSSS-<end LSN, 16 hex digits>.csv`, from the source commit
// time and the end position of the last transaction in the file (`part` > 1 adds `_<part>`, four
// digits, for a table whose columns changed within one batch). DMS names CDC files by a timestamp
// alone; the position makes a name unique and tells a resumed run which changes a folder already
// holds.
std::string cdc_file_name(std::int64_t commit_time, Lsn end_lsn, unsigned part = 1);
// The end position in a CDC file name; nullopt for any other file (LOAD files, temporaries).
std::optional<Lsn> cdc_file_end_lsn(std::string_view name);

// A source commit time (PostgreSQL microseconds) as TimestampColumnName writes it:
// `yyyy-MM-dd HH:mm:ss.SSSSSS`, UTC.
std::string format_commit_timestamp(std::int64_t commit_time);

// A pgoutput text value as the s3 target's full load writes the same type: booleans as
// true/false, timestamps with six fractional digits, timestamptz in UTC. Values of other types,
// and any text it cannot read (infinity, BC dates), pass unchanged.
std::string cdc_file_value(std::uint32_t type_oid, std::string_view text);

// Which CDC rows an s3 target keeps and whether they carry the Op column (S3Settings
// IncludeOpForFullLoad, CdcInsertsOnly, CdcInsertsAndUpdates; DMS-BEHAVIOUR §5.3).
struct CdcRowPolicy {
  bool write_op = true;
  bool keep_updates = true;
  bool keep_deletes = true;
};
CdcRowPolicy cdc_row_policy(const FileTarget& target);

// Writes a CDC run's changes as DMS writes them to S3: one CSV file per table and batch in the
// table's folder, each row `Op,<columns>[,<commit time>]`. Committed transactions collect in a
// batch that is written when CdcMaxBatchInterval has passed since its first change or a
// table's rows reach CdcMinFileSize. A batch is written as a whole: every file under a
// temporary name, fsync'd, then renamed and the folders fsync'd, and only then durable()
// moves, so the slot is never told about changes that are not in a file.
//
// After a crash between the renames and the checkpoint, a resumed run (`resuming`) reads the
// positions in the folders' file names and leaves out the transactions a table's files
// already hold, so a replay neither loses nor repeats a change.
class CdcFileWriter final : public ChangeSink {
 public:
  CdcFileWriter(const FileTarget& target, const std::vector<TablePlan>& plans, bool resuming);

  std::optional<std::size_t> on_relation(const pgoutput::Relation& relation) override;
  // New columns appear in the rows written after this point; nothing else changes.
  void alter(std::size_t /*plan*/, const TargetAlteration& /*alteration*/) override {}
  void begin(const pgoutput::Begin& begin) override;
  std::optional<std::size_t> apply(const pgoutput::Insert& change) override;
  std::optional<std::size_t> apply(const pgoutput::Update& change) override;
  std::optional<std::size_t> apply(const pgoutput::Delete& change) override;
  // A truncated table's files and folder are deleted (DMS's S3 behaviour) when the batch
  // holding the truncate is written; rows before it in the batch are dropped.
  std::vector<std::size_t> apply(const pgoutput::Truncate& change) override;
  void commit(Lsn end_lsn) override;
  void rollback() noexcept override;
  void flush(bool force) override;
  [[nodiscard]] Lsn durable() const override { return durable_; }

 private:
  struct Binding {
    std::size_t plan = 0;
    // For each relation column: the target column name, or empty when it is not replicated.
    std::vector<std::string> targets;
    std::vector<std::uint32_t> types;
    bool has_key = false;
  };
  // Rows with one column list; a column change starts a new segment (and a new file).
  struct Segment {
    std::vector<std::string> columns;
    std::string rows;
  };
  struct TableRows {
    bool truncated = false;  // delete the table's files before writing these rows
    std::vector<Segment> segments;
    std::uint64_t bytes = 0;
  };

  const Binding* binding(std::uint32_t relation) const;
  void add_row(const Binding& bound, char op, const pgoutput::Tuple& row,
               const pgoutput::Tuple* fallback);
  void write_batch();

  FileTarget target_;
  const std::vector<TablePlan>& plans_;
  CdcRowPolicy policy_;
  ConfinedDirectory root_;  // every file access goes through it (s3_path.hpp)
  std::map<std::uint32_t, Binding> relations_;
  // Per plan: the end position of the newest transaction already in the table's files.
  std::vector<Lsn> on_disk_;

  std::map<std::size_t, TableRows> transaction_;
  Lsn transaction_final_ = 0;
  std::int64_t transaction_time_ = 0;
  std::string transaction_timestamp_;

  std::map<std::size_t, TableRows> batch_;
  Lsn batch_end_ = 0;
  std::int64_t batch_time_ = 0;
  std::int64_t last_name_time_ = 0;  // file names never go back in time
  std::optional<std::chrono::steady_clock::time_point> batch_started_;
  Lsn durable_ = 0;
};

}  // namespace dagster_dms::replicate
