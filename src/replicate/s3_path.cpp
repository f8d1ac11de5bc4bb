#include "replicate/s3_path.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <system_error>

namespace dagster_dms::replicate {

namespace {

constexpr std::size_t kSegmentMax = 255;       // NAME_MAX on Linux file systems
constexpr std::size_t kFolderMax = 1024;       // S3's object key limit, in bytes
constexpr std::size_t kShownMax = 80;          // how much of a bad value a message repeats
constexpr std::size_t kWriteBuffer = 1 << 16;  // FileWriter writes in chunks of this size

constexpr std::array<std::string_view, 3> kReservedPrefixes{"xn--", "sthree-", "amzn-s3-demo-"};
constexpr std::array<std::string_view, 5> kReservedSuffixes{"-s3alias", "--ol-s3", ".mrap",
                                                            "--x-s3", "--table-s3"};

// A bad value as a message shows it: control characters escaped, long values shortened.
std::string shown(std::string_view value) {
  std::string out;
  for (const char c : value.substr(0, kShownMax)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F) {
      out += fmt::format("\\x{:02X}", byte);
    } else {
      out += c;
    }
  }
  if (value.size() > kShownMax) out += "...";
  return out;
}

bool is_lower_or_digit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool looks_like_ip_address(std::string_view name) {
  if (std::count(name.begin(), name.end(), '.') != 3) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}

// Why `bucket` is not a valid S3 bucket name, or nullopt.
std::optional<std::string> bucket_problem(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return "it must be 3 to 63 characters long";
  if (!std::all_of(bucket.begin(), bucket.end(),
                   [](char c) { return is_lower_or_digit(c) || c == '.' || c == '-'; })) {
    return "it may contain only lowercase letters, digits, dots (.) and hyphens (-)";
  }
  if (!is_lower_or_digit(bucket.front()) || !is_lower_or_digit(bucket.back())) {
    return "it must begin and end with a lowercase letter or a digit";
  }
  if (bucket.find("..") != std::string_view::npos) return "it must not contain two adjacent dots";
  if (looks_like_ip_address(bucket)) return "it must not be formatted as an IP address";
  for (const auto prefix : kReservedPrefixes) {
    if (bucket.starts_with(prefix)) return fmt::format("the prefix {} is reserved by S3", prefix);
  }
  for (const auto suffix : kReservedSuffixes) {
    if (bucket.ends_with(suffix)) return fmt::format("the suffix {} is reserved by S3", suffix);
  }
  return std::nullopt;
}

// The folder's segments, or why it is not a relative path of plain segments.
std::vector<std::string> folder_segments(std::string_view folder) {
  const auto fail = [&](std::string_view why) {
    throw S3PathError(fmt::format(
        "Invalid value '{}' for S3Settings.BucketFolder: {}. Give a relative folder such as "
        "dms or raw/dms.",
        shown(folder), why));
  };
  std::vector<std::string> out;
  if (folder.empty()) return out;
  if (folder.size() > kFolderMax) fail(fmt::format("it is longer than {} bytes", kFolderMax));
  if (folder.front() == '/') fail("it must not begin with /");
  if (folder.back() == '/') folder.remove_suffix(1);  // `dms/` means `dms`
  for (std::size_t start = 0;;) {
    const auto end = std::min(folder.find('/', start), folder.size());
    const auto segment = folder.substr(start, end - start);
    if (segment.empty()) fail("it must not contain an empty segment (//)");
    if (segment == "." || segment == "..") fail("it must not contain . or .. segments");
    if (segment.size() > kSegmentMax) {
      fail(fmt::format("each segment must be at most {} bytes", kSegmentMax));
    }
    if (std::any_of(segment.begin(), segment.end(), [](char c) {
          const auto byte = static_cast<unsigned char>(c);
          return byte < 0x20 || byte == 0x7F;
        })) {
      fail("it must not contain control characters");
    }
    out.emplace_back(segment);
    if (end == folder.size()) break;
    start = end + 1;
  }
  return out;
}

[[noreturn]] void throw_errno(int error, std::string_view what, const std::filesystem::path& path) {
  throw std::system_error(error, std::generic_category(),
                          fmt::format("{} {}", what, path.string()));
}

void require_plain_name(std::string_view name, const std::filesystem::path& parent) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos ||
      name.find('\0') != std::string_view::npos) {
    throw S3PathError(fmt::format("'{}' under {} is not a plain file or folder name", shown(name),
                                  parent.string()));
  }
}

}  // namespace

void check_s3_location(std::string_view bucket, std::string_view folder) {
  if (const auto problem = bucket_problem(bucket)) {
    throw S3PathError(fmt::format(
        "Invalid value '{}' for S3Settings.BucketName: {}. Use an S3 bucket name such as "
        "my-bucket.",
        shown(bucket), *problem));
  }
  (void)bucket_folder_segments(folder);
}

std::vector<std::string> bucket_folder_segments(std::string_view folder) {
  return folder_segments(folder);
}

std::string encode_path_segment(std::string_view name) {
  if (name.empty()) throw S3PathError("an empty schema or table name cannot name a folder");
  if (name == ".") return "%2E";
  if (name == "..") return "%2E%2E";
  std::string out;
  out.reserve(name.size());
  for (const char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7F || c == '/' || c == '\\' || c == '%') {
      out += fmt::format("%{:02X}", byte);
    } else {
      out += c;
    }
  }
  if (out.size() > kSegmentMax) {
    throw S3PathError(
        fmt::format("the name '{}' is too long for a folder name ({} bytes, at most {})",
                    shown(name), out.size(), kSegmentMax));
  }
  return out;
}

std::vector<std::string> table_folder_segments(std::string_view bucket, std::string_view folder,
                                               std::string_view schema, std::string_view table) {
  check_s3_location(bucket, folder);
  std::vector<std::string> out{std::string(bucket)};
  for (auto& segment : folder_segments(folder)) out.push_back(std::move(segment));
  out.push_back(encode_path_segment(schema));
  out.push_back(encode_path_segment(table));
  return out;
}

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) ::close(fd_);
}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

void FileDescriptor::close_checked(const std::filesystem::path& what) {
  if (fd_ < 0) return;
  if (::close(release()) != 0) throw_errno(errno, "cannot close", what);
}

ConfinedDirectory ConfinedDirectory::open_root(const std::filesystem::path& root) {
  std::error_code error;
  std::filesystem::create_directories(root, error);
  if (error) {
    throw std::system_error(error, fmt::format("cannot create the s3 root {}", root.string()));
  }
  FileDescriptor fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) throw_errno(errno, "cannot open the s3 root", root);
  return {std::move(fd), root};
}

std::optional<ConfinedDirectory> ConfinedDirectory::open(const std::vector<std::string>& segments,
                                                         bool create) const {
  std::optional<ConfinedDirectory> current;
  for (const auto& segment : segments) {
    const auto& parent = current ? *current : *this;
    require_plain_name(segment, parent.path_);
    const auto path = parent.path_ / segment;
    constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    FileDescriptor fd(::openat(parent.fd_->get(), segment.c_str(), kFlags));
    if (!fd.valid() && errno == ENOENT && create) {
      if (::mkdirat(parent.fd_->get(), segment.c_str(), 0777) == 0) {
        // The new name is durable once its parent is.
        if (::fsync(parent.fd_->get()) != 0) throw_errno(errno, "cannot fsync", parent.path_);
      } else if (errno != EEXIST) {
        throw_errno(errno, "cannot create", path);
      }
      fd = FileDescriptor(::openat(parent.fd_->get(), segment.c_str(), kFlags));
    }
    if (!fd.valid()) {
      if (errno == ENOENT) return std::nullopt;
      if (errno == ELOOP || errno == ENOTDIR) {
        throw S3PathError(fmt::format(
            "{} is a symbolic link or not a folder; dms-local writes s3 objects only inside "
            "--s3-root and never follows links there. Remove it.",
            path.string()));
      }
      throw_errno(errno, "cannot open", path);
    }
    current = ConfinedDirectory(std::move(fd), path);
  }
  if (!current) return *this;
  return current;
}

FileDescriptor ConfinedDirectory::create_file(std::string_view name, bool exclusive) const {
  require_plain_name(name, path_);
  const std::string file(name);
  int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC;
  flags |= exclusive ? O_EXCL : O_TRUNC;
  FileDescriptor fd(::openat(fd_->get(), file.c_str(), flags, 0644));
  if (!fd.valid()) {
    if (errno == ELOOP) {
      throw S3PathError(fmt::format(
          "{} is a symbolic link; dms-local never follows links inside --s3-root. Remove it.",
          (path_ / file).string()));
    }
    throw_errno(errno, "cannot create", path_ / file);
  }
  return fd;
}

void ConfinedDirectory::rename(std::string_view from, std::string_view to) const {
  require_plain_name(from, path_);
  require_plain_name(to, path_);
  const std::string source(from), target(to);
  if (::renameat(fd_->get(), source.c_str(), fd_->get(), target.c_str()) != 0) {
    throw_errno(errno, "cannot rename to", path_ / target);
  }
}

bool ConfinedDirectory::remove_file(std::string_view name) const {
  require_plain_name(name, path_);
  const std::string file(name);
  if (::unlinkat(fd_->get(), file.c_str(), 0) == 0) return true;
  if (errno == ENOENT) return false;
  throw_errno(errno, "cannot remove", path_ / file);
}

bool ConfinedDirectory::remove_empty_directory(std::string_view name) const {
  require_plain_name(name, path_);
  const std::string folder(name);
  if (::unlinkat(fd_->get(), folder.c_str(), AT_REMOVEDIR) == 0) return true;
  if (errno == ENOENT || errno == ENOTEMPTY || errno == EEXIST) return false;
  throw_errno(errno, "cannot remove", path_ / folder);
}

std::vector<std::string> ConfinedDirectory::regular_files() const {
  // fdopendir takes ownership of its descriptor: give it a fresh one for this directory.
  FileDescriptor fd(::openat(fd_->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) throw_errno(errno, "cannot list", path_);
  const std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(fd.get()), &::closedir);
  if (!dir) throw_errno(errno, "cannot list", path_);
  fd.release();
  std::vector<std::string> out;
  while (const dirent* entry = ::readdir(dir.get())) {
    const std::string_view name(entry->d_name);
    if (name == "." || name == "..") continue;
    struct stat info {};
    if (::fstatat(::dirfd(dir.get()), entry->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISREG(info.st_mode)) out.emplace_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void ConfinedDirectory::sync() const {
  if (::fsync(fd_->get()) != 0) throw_errno(errno, "cannot fsync", path_);
}

void FileWriter::write(std::string_view data) {
  buffer_ += data;
  if (buffer_.size() >= kWriteBuffer) flush();
}

void FileWriter::flush() {
  std::size_t done = 0;
  while (done < buffer_.size()) {
    const auto n = ::write(fd_.get(), buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno(errno, "cannot write", path_);
    done += static_cast<std::size_t>(n);
  }
  buffer_.clear();
}

void FileWriter::close(bool sync) {
  if (!fd_.valid()) return;
  flush();
  if (sync && ::fsync(fd_.get()) != 0) throw_errno(errno, "cannot fsync", path_);
  fd_.close_checked(path_);
}

}  // namespace dagster_dms::replicate
