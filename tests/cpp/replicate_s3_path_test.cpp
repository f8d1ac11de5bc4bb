// The s3 target's paths: bucket and folder rules, name encoding, and confinement to the root.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "replicate/csv_writer.hpp"
#include "replicate/s3_path.hpp"

namespace rep = dagster_dms::replicate;
namespace fs = std::filesystem;

namespace {

using ::testing::HasSubstr;

// Why check_s3_location refuses a location, or "valid".
std::string problem(const std::string& bucket, const std::string& folder = "") {
  try {
    rep::check_s3_location(bucket, folder);
  } catch (const rep::S3PathError& error) {
    return error.what();
  }
  return "valid";
}

TEST(S3Location, BucketNamesFollowS3Rules) {
  for (const char* good : {"lake", "my-bucket", "a.b.c", "abc", "123", "x1-y2.z3",
                           "bucket-with-63-characters-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    EXPECT_EQ(problem(good), "valid") << good;
  }
  const std::vector<std::pair<std::string, std::string>> bad{
      {"../x", "only lowercase letters"},
      {"/tmp/x", "only lowercase letters"},
      {"..", "3 to 63 characters"},
      {"ab", "3 to 63 characters"},
      {std::string(64, 'a'), "3 to 63 characters"},
      {"My-Bucket", "only lowercase letters"},
      {"under_score", "only lowercase letters"},
      {"a/b", "only lowercase letters"},
      {"-abc", "begin and end"},
      {"abc.", "begin and end"},
      {"a..b", "two adjacent dots"},
      {"192.168.5.4", "IP address"},
      {"xn--abc", "reserved"},
      {"sthree-abc", "reserved"},
      {"abc-s3alias", "reserved"},
      {"abc--ol-s3", "reserved"},
      {std::string("ab\0c", 4), "only lowercase letters"},
  };
  for (const auto& [bucket, why] : bad) {
    const auto message = problem(bucket);
    EXPECT_THAT(message, HasSubstr("S3Settings.BucketName")) << bucket;
    EXPECT_THAT(message, HasSubstr(why)) << bucket;
  }
}

TEST(S3Location, FolderSegmentsArePlainAndRelative) {
  for (const char* good : {"", "dms", "raw/dms", "raw/dms/", "a b/c-d_e.f", ".hidden/x"}) {
    EXPECT_EQ(problem("lake", good), "valid") << good;
  }
  EXPECT_EQ(rep::bucket_folder_segments("raw/dms/"), (std::vector<std::string>{"raw", "dms"}));
  const std::vector<std::pair<std::string, std::string>> bad{
      {"../../x", ". or .. segments"},
      {"a/../b", ". or .. segments"},
      {"./a", ". or .. segments"},
      {"..", ". or .. segments"},
      {"/abs", "must not begin with /"},
      {"a//b", "empty segment"},
      {"a\nb", "control characters"},
      {std::string("a\0b", 3), "control characters"},
      {std::string(256, 'a'), "at most 255 bytes"},
      {std::string(1025, 'a'), "longer than 1024 bytes"},
  };
  for (const auto& [folder, why] : bad) {
    const auto message = problem("lake", folder);
    EXPECT_THAT(message, HasSubstr("S3Settings.BucketFolder")) << folder;
    EXPECT_THAT(message, HasSubstr(why)) << folder;
  }
}

TEST(S3Location, NamesBecomeOneSafeSegment) {
  // Ordinary names, including quoted identifiers with spaces and non-ASCII letters, are kept.
  for (const char* same : {"public", "orders", "Audit Log", "café", "$x", "a.b", "...", "-"}) {
    EXPECT_EQ(rep::encode_path_segment(same), same);
  }
  EXPECT_EQ(rep::encode_path_segment("."), "%2E");
  EXPECT_EQ(rep::encode_path_segment(".."), "%2E%2E");
  EXPECT_EQ(rep::encode_path_segment("a/b"), "a%2Fb");
  EXPECT_EQ(rep::encode_path_segment("../../etc"), "..%2F..%2Fetc");
  EXPECT_EQ(rep::encode_path_segment("50%"), "50%25");
  EXPECT_EQ(rep::encode_path_segment("a\\b"), "a%5Cb");
  EXPECT_EQ(rep::encode_path_segment(std::string("a\0b\n", 4)), "a%00b%0A");
  // Distinct names stay distinct: the escape character is itself escaped.
  EXPECT_NE(rep::encode_path_segment("a/b"), rep::encode_path_segment("a%2Fb"));
  EXPECT_THROW((void)rep::encode_path_segment(""), rep::S3PathError);
  EXPECT_THROW((void)rep::encode_path_segment(std::string(100, '/')), rep::S3PathError);
  EXPECT_EQ(rep::table_folder_segments("lake", "raw/dms", "..", "a/b"),
            (std::vector<std::string>{"lake", "raw", "dms", "%2E%2E", "a%2Fb"}));
}

// A temporary directory holding `root` and, beside it, `outside`, which nothing may touch.
class ConfinedDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("replicate_s3_path_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(base_);
    root_ = base_ / "root";
    outside_ = base_ / "outside";
    fs::create_directories(root_);
    fs::create_directories(outside_);
    std::ofstream(outside_ / "LOAD00000001.csv") << "planted\n";
  }
  void TearDown() override { fs::remove_all(base_); }

  // The outside directory still holds exactly the planted file, unchanged.
  void expect_outside_untouched() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(outside_)) {
      names.push_back(entry.path().filename().string());
    }
    EXPECT_EQ(names, std::vector<std::string>{"LOAD00000001.csv"});
    std::ifstream in(outside_ / "LOAD00000001.csv");
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "planted");
  }

  fs::path base_, root_, outside_;
};

TEST_F(ConfinedDirectoryTest, CreatesAndWritesBelowTheRoot) {
  const auto root = rep::ConfinedDirectory::open_root(root_);
  const auto folder = root.open({"lake", "dms", "public", "t"}, true);
  ASSERT_TRUE(folder);
  EXPECT_EQ(folder->path(), root_ / "lake" / "dms" / "public" / "t");
  rep::FileWriter out(folder->create_file(".x.part"), folder->path() / ".x.part");
  out.write("hello\n");
  out.close(true);
  folder->rename(".x.part", "x.csv");
  EXPECT_EQ(folder->regular_files(), std::vector<std::string>{"x.csv"});
  EXPECT_TRUE(fs::is_regular_file(root_ / "lake" / "dms" / "public" / "t" / "x.csv"));
  EXPECT_TRUE(folder->remove_file("x.csv"));
  EXPECT_FALSE(folder->remove_file("x.csv"));
  const auto parent = root.open({"lake", "dms", "public"}, false);
  ASSERT_TRUE(parent);
  EXPECT_TRUE(parent->remove_empty_directory("t"));
  EXPECT_FALSE(root.open({"lake", "dms", "public", "t"}, false));  // absent, not created
}

TEST_F(ConfinedDirectoryTest, RefusesSegmentsThatAreNotPlainNames) {
  const auto root = rep::ConfinedDirectory::open_root(root_);
  for (const char* bad : {"..", ".", "", "a/b", "../outside"}) {
    EXPECT_THROW((void)root.open({bad}, true), rep::S3PathError) << bad;
    EXPECT_THROW((void)root.create_file(bad), rep::S3PathError) << bad;
    EXPECT_THROW((void)root.remove_file(bad), rep::S3PathError) << bad;
  }
  expect_outside_untouched();
}

TEST_F(ConfinedDirectoryTest, NeverFollowsASymlinkPlantedInsideTheRoot) {
  fs::create_directories(root_ / "lake");
  fs::create_directory_symlink(outside_, root_ / "lake" / "dms");  // a folder that points out
  fs::create_directory_symlink(outside_, root_ / "bucket");        // a bucket that points out
  const auto root = rep::ConfinedDirectory::open_root(root_);
  for (const auto& segments : std::vector<std::vector<std::string>>{
           {"lake", "dms"}, {"lake", "dms", "public", "t"}, {"bucket"}, {"bucket", "x"}}) {
    try {
      (void)root.open(segments, true);
      ADD_FAILURE() << "a symbolic link was followed";
    } catch (const rep::S3PathError& error) {
      EXPECT_THAT(error.what(), HasSubstr("symbolic link"));
    }
  }
  // A link in the place of a file is refused too, and removing one removes only the link.
  const auto lake = root.open({"lake"}, false);
  ASSERT_TRUE(lake);
  fs::create_symlink(outside_ / "LOAD00000001.csv", root_ / "lake" / "LOAD00000002.csv");
  EXPECT_THROW((void)lake->create_file("LOAD00000002.csv"), rep::S3PathError);
  EXPECT_TRUE(lake->regular_files().empty());  // links are not listed as files
  EXPECT_TRUE(lake->remove_file("LOAD00000002.csv"));
  expect_outside_untouched();
}

TEST_F(ConfinedDirectoryTest, LoadFilesStayInsideAndDropAndCreateDeletesNothingOutside) {
  fs::create_directories(root_ / "lake" / "public");
  fs::create_directory_symlink(outside_, root_ / "lake" / "public" / "t");
  const auto root = rep::ConfinedDirectory::open_root(root_);
  // DROP_AND_CREATE's clean-up through a planted link: refused, the outside file survives.
  EXPECT_THROW(rep::remove_load_files(root, {"lake", "public", "t"}), rep::S3PathError);
  EXPECT_THROW((void)rep::next_load_index(root, {"lake", "public", "t"}), rep::S3PathError);
  {
    rep::LoadFileWriter writer(root, {"lake", "public", "t"}, rep::CsvFormat{}, 100, {"a"});
    EXPECT_THROW(writer.write_row({"x"}), rep::S3PathError);
  }
  expect_outside_untouched();
  // Without the link, the same calls work inside the root (and only remove LOAD files).
  fs::remove(root_ / "lake" / "public" / "t");
  {
    rep::LoadFileWriter writer(root, {"lake", "public", "t"}, rep::CsvFormat{}, 100, {"a"});
    writer.write_row({"x"});
    writer.finish();
  }
  std::ofstream(root_ / "lake" / "public" / "t" / "keep.txt") << "mine\n";
  EXPECT_EQ(rep::next_load_index(root, {"lake", "public", "t"}), 2U);
  rep::remove_load_files(root, {"lake", "public", "t"});
  EXPECT_EQ(rep::next_load_index(root, {"lake", "public", "t"}), 1U);
  EXPECT_TRUE(fs::exists(root_ / "lake" / "public" / "t" / "keep.txt"));
  expect_outside_untouched();
}

}  // namespace
