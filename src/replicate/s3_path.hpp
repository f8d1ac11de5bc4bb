#pragma once

// Where the s3 target's objects live on the local disk, and why nothing escapes `--s3-root`.
//
// A table's files go to `<root>/<bucket>/[<folder>/]<schema>/<table>/`. Every part below the root
// comes from an API caller or a source database, so each is checked or encoded before it becomes
// a path, and every file operation goes through a ConfinedDirectory:
//   - BucketName must follow S3's bucket naming rules (check_s3_location);
//   - BucketFolder is `/`-separated segments, none empty, `.` or `..` (check_s3_location);
//   - schema and table names are encoded into one plain segment each (encode_path_segment);
//   - directories below the root are opened one segment at a time with openat(O_NOFOLLOW), and
//     files are created, renamed and removed relative to the directory's descriptor, so a symbolic
//     link anywhere below the root (planted before or during a run) is refused instead of
//     followed, and no check-then-use window exists between resolving a path and using it.

#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dagster_dms::replicate {

// A bucket name, folder or path below the root that dms-local refuses; the message names the
// setting and says what to do.
class S3PathError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws S3PathError unless `bucket` follows S3's naming rules (3 to 63 characters; lowercase
// letters, digits, dots and hyphens; starts and ends with a letter or digit; no `..`; not an IP
// address; none of S3's reserved prefixes and suffixes) and `folder` is a relative path of plain
// segments (no leading `/`, no empty, `.` or `..` segment, no control characters, at most 255
// bytes a segment and 1024 in all; one trailing `/` is allowed and ignored).
void check_s3_location(std::string_view bucket, std::string_view folder);

// BucketFolder's segments (`raw/dms/` -> raw, dms); throws S3PathError as check_s3_location does.
std::vector<std::string> bucket_folder_segments(std::string_view folder);

// A schema or table name as one path segment. Names of printable characters other than `/`, `\`
// and `%` stay as they are (so `public/orders` and `shop/Audit Log` keep DMS's layout). Those
// three characters and control characters (NUL included) become `%XX` (uppercase hex of the
// byte), and a name that is exactly `.` or `..` becomes `%2E` or `%2E%2E`, so every name maps to
// a distinct segment that is never a path of its own. Throws S3PathError for an empty name or one
// whose encoding exceeds 255 bytes.
std::string encode_path_segment(std::string_view name);

// `<bucket>/[<folder segments>/]<schema>/<table>` below the root, checked and encoded.
std::vector<std::string> table_folder_segments(std::string_view bucket, std::string_view folder,
                                               std::string_view schema, std::string_view table);

// A file descriptor closed on every path.
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor();
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  // Closes now and reports a failed close (a lost write on some file systems).
  void close_checked(const std::filesystem::path& what);

 private:
  int fd_ = -1;
};

// An open directory at or below the s3 root. Everything beneath it is reached relative to its
// descriptor without following symbolic links; `path()` is for messages only. Safe to use from
// several threads at once (it only issues *at() system calls on a descriptor it never changes).
class ConfinedDirectory {
 public:
  // The root itself (`--s3-root`), created when missing. The root may be a symbolic link: that
  // is the operator's choice; links below it are not.
  static ConfinedDirectory open_root(const std::filesystem::path& root);

  // The directory `segments` below this one. Missing directories are created when `create` is
  // true (each new one made durable by syncing its parent), else the answer is nullopt. Throws
  // S3PathError when a segment is not a plain name, a symbolic link or not a directory.
  [[nodiscard]] std::optional<ConfinedDirectory> open(const std::vector<std::string>& segments,
                                                      bool create) const;

  // A new or truncated file in this directory, opened for writing; a symbolic link in its place
  // is refused. `exclusive` fails when the name exists.
  [[nodiscard]] FileDescriptor create_file(std::string_view name, bool exclusive = false) const;
  void rename(std::string_view from, std::string_view to) const;
  // Removes a regular file or a symbolic link (never what it points to); false when absent.
  bool remove_file(std::string_view name) const;
  // Removes an empty subdirectory; false when absent or not empty.
  bool remove_empty_directory(std::string_view name) const;
  // The names of the regular files directly in this directory.
  [[nodiscard]] std::vector<std::string> regular_files() const;
  // Makes the directory's entries (new names, renames, removals) durable.
  void sync() const;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  ConfinedDirectory(FileDescriptor fd, std::filesystem::path path)
      : fd_(std::make_shared<FileDescriptor>(std::move(fd))), path_(std::move(path)) {}

  // Shared so that a directory handle can be copied cheaply (the descriptor is never changed).
  std::shared_ptr<const FileDescriptor> fd_;
  std::filesystem::path path_;
};

// Buffered writing to a file descriptor; closing reports any write error. Without close(), the
// destructor closes the descriptor and drops what was not yet written.
class FileWriter {
 public:
  FileWriter(FileDescriptor fd, std::filesystem::path path)
      : fd_(std::move(fd)), path_(std::move(path)) {}

  void write(std::string_view data);
  // Writes what is buffered, optionally fsyncs, and closes; throws std::system_error naming the
  // file on failure.
  void close(bool sync = false);

 private:
  void flush();

  FileDescriptor fd_;
  std::filesystem::path path_;
  std::string buffer_;
};

}  // namespace dagster_dms::replicate
