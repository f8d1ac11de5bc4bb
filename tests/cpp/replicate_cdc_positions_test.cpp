// CdcStartPosition and CdcStopPosition as dms-local reads them for a PostgreSQL source.
#include <gtest/gtest.h>

#include "replicate/cdc_positions.hpp"

namespace rep = dagster_dms::replicate;

namespace {

std::chrono::system_clock::time_point utc(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  return std::chrono::sys_days{std::chrono::year{y} / mo / d} + std::chrono::hours{h} +
         std::chrono::minutes{mi} + std::chrono::seconds{s};
}

TEST(CdcStartPosition, AcceptsAnLsnAndTheCheckpointForm) {
  EXPECT_EQ(rep::parse_cdc_start_position("4AF/B00000D0"), (rep::Lsn{0x4AF} << 32) | 0xB00000D0);
  EXPECT_EQ(rep::parse_cdc_start_position("0/0"), rep::Lsn{0});
  EXPECT_EQ(rep::parse_cdc_start_position("checkpoint:V1#1#000004AF/B00000D0#0#0#*#0#0"),
            (rep::Lsn{0x4AF} << 32) | 0xB00000D0);
}

TEST(CdcStartPosition, RefusesAnythingElse) {
  for (const char* text :
       {"", "4AF", "/B0", "4AF/", "4AF/G0", "2018-03-08T12:12:12", "mysql-bin-changelog.000024:373",
        "checkpoint:V2#1#0/1", "123456789/0", " 4AF/B0"}) {
    EXPECT_FALSE(rep::parse_cdc_start_position(text)) << text;
  }
}

TEST(CdcStopPosition, ReadsServerAndCommitTimesAsUtc) {
  const auto server = rep::parse_cdc_stop_position("server_time:2018-02-09T12:12:12");
  ASSERT_TRUE(server);
  EXPECT_EQ(server->kind, rep::CdcStopPosition::Kind::kServerTime);
  EXPECT_EQ(server->at, utc(2018, 2, 9, 12, 12, 12));
  EXPECT_EQ(server->stop_reason(), "Stop Reason STOPPED_AT_SERVER_TIME");

  const auto commit = rep::parse_cdc_stop_position("commit_time:2024-02-29T23:59:59");
  ASSERT_TRUE(commit);
  EXPECT_EQ(commit->kind, rep::CdcStopPosition::Kind::kCommitTime);
  EXPECT_EQ(commit->at, utc(2024, 2, 29, 23, 59, 59));
  EXPECT_EQ(commit->stop_reason(), "Stop Reason STOPPED_AT_COMMIT_TIME");
}

TEST(CdcStopPosition, RefusesMalformedValues) {
  for (const char* text :
       {"", "2018-02-09T12:12:12", "server_time:", "server_time:2018-02-09 12:12:12",
        "server_time:2018-02-09T12:12", "server_time:2018-02-09T12:12:12Z",
        "commit_time:2023-02-29T00:00:00", "commit_time:2018-13-01T00:00:00",
        "commit_time:2018-02-09T24:00:00", "commit_time:2018-02-09T-1:00:00",
        "commit_time:2018-02-09T12:60:00", "start_time:2018-02-09T12:12:12",
        "SERVER_TIME:2018-02-09T12:12:12", "server_time:+018-02-09T12:12:12"}) {
    EXPECT_FALSE(rep::parse_cdc_stop_position(text)) << text;
  }
}

}  // namespace
