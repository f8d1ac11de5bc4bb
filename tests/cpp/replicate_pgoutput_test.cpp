// The pgoutput message parser, the replication frames around it and the LSN/checkpoint forms.
#include <gtest/gtest.h>

#include <string>

#include "replicate/cdc.hpp"
#include "replicate/pgoutput.hpp"
#include "replicate/replication_stream.hpp"

namespace rep = dagster_dms::replicate;
namespace po = dagster_dms::replicate::pgoutput;

namespace {

// Builds protocol bytes the way the server writes them (big-endian).
class Bytes {
 public:
  Bytes& byte(char c) {
    data_.push_back(c);
    return *this;
  }
  template <typename T>
  Bytes& be(T value) {
    const auto raw = static_cast<std::uint64_t>(value);
    for (int i = static_cast<int>(sizeof(T)) - 1; i >= 0; --i) {
      data_.push_back(static_cast<char>((raw >> (8 * i)) & 0xFF));
    }
    return *this;
  }
  Bytes& cstr(const std::string& s) {
    data_ += s;
    data_.push_back('\0');
    return *this;
  }
  Bytes& text(const std::string& s) {
    byte('t').be<std::int32_t>(static_cast<std::int32_t>(s.size()));
    data_ += s;
    return *this;
  }
  [[nodiscard]] const std::string& str() const { return data_; }

 private:
  std::string data_;
};

}  // namespace

TEST(Lsn, FormatsAndParses) {
  EXPECT_EQ(rep::format_lsn(0x16B374D848ULL), "16/B374D848");
  EXPECT_EQ(rep::format_lsn(0), "0/0");
  EXPECT_EQ(rep::parse_lsn("16/B374D848"), 0x16B374D848ULL);
  EXPECT_EQ(rep::parse_lsn("000004af/b00000d0"), 0x4AFB00000D0ULL);
  EXPECT_FALSE(rep::parse_lsn("16B374D848"));
  EXPECT_FALSE(rep::parse_lsn("/1"));
  EXPECT_FALSE(rep::parse_lsn("1/"));
  EXPECT_FALSE(rep::parse_lsn("1/123456789"));
  EXPECT_FALSE(rep::parse_lsn("x/1"));
}

TEST(RecoveryCheckpoint, HasDmsShapeAndRoundTrips) {
  EXPECT_EQ(rep::recovery_checkpoint(0x4AFB00000D0ULL),
            "checkpoint:V1#1#000004AF/B00000D0#0#0#*#0#0");
  EXPECT_EQ(rep::parse_recovery_checkpoint("checkpoint:V1#34#00000132/0F000E48#0#0#*#0#121"),
            0x1320F000E48ULL);
  EXPECT_FALSE(rep::parse_recovery_checkpoint("checkpoint:V2#1#0/1"));
  EXPECT_FALSE(rep::parse_recovery_checkpoint(""));
}

TEST(PgTimestamp, CountsFrom2000) {
  const auto t = rep::from_pg_timestamp(0);
  EXPECT_EQ(std::chrono::system_clock::to_time_t(t), 946684800);
  EXPECT_EQ(rep::to_pg_timestamp(t), 0);
  EXPECT_EQ(rep::to_pg_timestamp(rep::from_pg_timestamp(123456789)), 123456789);
}

TEST(Pgoutput, BeginAndCommit) {
  const auto begin = po::parse_message(
      Bytes().byte('B').be<std::uint64_t>(0x10).be<std::int64_t>(77).be<std::uint32_t>(901).str());
  const auto& b = std::get<po::Begin>(begin);
  EXPECT_EQ(b.final_lsn, 0x10u);
  EXPECT_EQ(b.commit_time, 77);
  EXPECT_EQ(b.xid, 901u);

  const auto commit = po::parse_message(Bytes()
                                            .byte('C')
                                            .be<std::uint8_t>(0)
                                            .be<std::uint64_t>(0x10)
                                            .be<std::uint64_t>(0x48)
                                            .be<std::int64_t>(78)
                                            .str());
  const auto& c = std::get<po::Commit>(commit);
  EXPECT_EQ(c.commit_lsn, 0x10u);
  EXPECT_EQ(c.end_lsn, 0x48u);
  EXPECT_EQ(c.commit_time, 78);
}

TEST(Pgoutput, Relation) {
  const auto message = po::parse_message(Bytes()
                                             .byte('R')
                                             .be<std::uint32_t>(16384)
                                             .cstr("app")
                                             .cstr("Items")
                                             .byte('d')
                                             .be<std::uint16_t>(2)
                                             .be<std::uint8_t>(1)
                                             .cstr("id")
                                             .be<std::uint32_t>(23)
                                             .be<std::int32_t>(-1)
                                             .be<std::uint8_t>(0)
                                             .cstr("name")
                                             .be<std::uint32_t>(1043)
                                             .be<std::int32_t>(24)
                                             .str());
  const auto& r = std::get<po::Relation>(message);
  EXPECT_EQ(r.id, 16384u);
  EXPECT_EQ(r.schema, "app");
  EXPECT_EQ(r.name, "Items");
  EXPECT_EQ(r.replica_identity, 'd');
  ASSERT_EQ(r.columns.size(), 2u);
  EXPECT_TRUE(r.columns[0].key);
  EXPECT_EQ(r.columns[0].name, "id");
  EXPECT_EQ(r.columns[0].type_oid, 23u);
  EXPECT_FALSE(r.columns[1].key);
  EXPECT_EQ(r.columns[1].type_modifier, 24);
}

TEST(Pgoutput, InsertWithNullAndText) {
  const std::string value("a\0b", 3);  // values are length-prefixed, not NUL-terminated
  const auto message = po::parse_message(Bytes()
                                             .byte('I')
                                             .be<std::uint32_t>(7)
                                             .byte('N')
                                             .be<std::uint16_t>(3)
                                             .text("42")
                                             .byte('n')
                                             .text(value)
                                             .str());
  const auto& insert = std::get<po::Insert>(message);
  EXPECT_EQ(insert.relation, 7u);
  ASSERT_EQ(insert.new_tuple.size(), 3u);
  EXPECT_EQ(insert.new_tuple[0], (po::TupleValue{po::ValueKind::kText, "42"}));
  EXPECT_EQ(insert.new_tuple[1].kind, po::ValueKind::kNull);
  EXPECT_EQ(insert.new_tuple[2].text, value);
}

TEST(Pgoutput, UpdateWithAndWithoutOldKey) {
  const auto plain = po::parse_message(Bytes()
                                           .byte('U')
                                           .be<std::uint32_t>(7)
                                           .byte('N')
                                           .be<std::uint16_t>(2)
                                           .text("1")
                                           .byte('u')
                                           .str());
  const auto& u = std::get<po::Update>(plain);
  EXPECT_EQ(u.old_kind, 0);
  EXPECT_TRUE(u.old_tuple.empty());
  EXPECT_EQ(u.new_tuple[1].kind, po::ValueKind::kUnchangedToast);

  const auto keyed = po::parse_message(Bytes()
                                           .byte('U')
                                           .be<std::uint32_t>(7)
                                           .byte('K')
                                           .be<std::uint16_t>(2)
                                           .text("1")
                                           .byte('n')
                                           .byte('N')
                                           .be<std::uint16_t>(2)
                                           .text("2")
                                           .text("x")
                                           .str());
  const auto& k = std::get<po::Update>(keyed);
  EXPECT_EQ(k.old_kind, 'K');
  EXPECT_EQ(k.old_tuple[0].text, "1");
  EXPECT_EQ(k.new_tuple[0].text, "2");
}

TEST(Pgoutput, DeleteAndTruncate) {
  const auto removed = po::parse_message(
      Bytes().byte('D').be<std::uint32_t>(9).byte('O').be<std::uint16_t>(1).text("5").str());
  const auto& d = std::get<po::Delete>(removed);
  EXPECT_EQ(d.relation, 9u);
  EXPECT_EQ(d.old_kind, 'O');
  EXPECT_EQ(d.old_tuple[0].text, "5");

  const auto truncate = po::parse_message(Bytes()
                                              .byte('T')
                                              .be<std::uint32_t>(2)
                                              .be<std::uint8_t>(1)
                                              .be<std::uint32_t>(9)
                                              .be<std::uint32_t>(10)
                                              .str());
  const auto& t = std::get<po::Truncate>(truncate);
  EXPECT_EQ(t.options, 1);
  EXPECT_EQ(t.relations, (std::vector<std::uint32_t>{9, 10}));
}

TEST(Pgoutput, PassesOverOriginAndType) {
  EXPECT_EQ(std::get<po::Other>(po::parse_message("O")).tag, 'O');
  EXPECT_EQ(std::get<po::Other>(po::parse_message("Y")).tag, 'Y');
}

TEST(Pgoutput, RejectsShortAndUnknownMessages) {
  EXPECT_THROW(po::parse_message(""), po::ProtocolError);
  EXPECT_THROW(po::parse_message("Z"), po::ProtocolError);
  EXPECT_THROW(po::parse_message(Bytes().byte('B').be<std::uint32_t>(1).str()), po::ProtocolError);
  // A value longer than what is left.
  EXPECT_THROW(po::parse_message(Bytes()
                                     .byte('I')
                                     .be<std::uint32_t>(7)
                                     .byte('N')
                                     .be<std::uint16_t>(1)
                                     .byte('t')
                                     .be<std::int32_t>(100)
                                     .str()),
               po::ProtocolError);
  // An unterminated schema name.
  EXPECT_THROW(po::parse_message(Bytes().byte('R').be<std::uint32_t>(1).byte('a').str()),
               po::ProtocolError);
  EXPECT_THROW(po::parse_message(
                   Bytes().byte('D').be<std::uint32_t>(9).byte('X').be<std::uint16_t>(0).str()),
               po::ProtocolError);
}

TEST(ReplicationFrames, XLogDataAndKeepalive) {
  const auto frame = Bytes()
                         .byte('w')
                         .be<std::uint64_t>(0x100)
                         .be<std::uint64_t>(0x200)
                         .be<std::int64_t>(5)
                         .byte('O')
                         .str();
  const auto data = std::get<rep::XLogData>(rep::parse_stream_frame(frame));
  EXPECT_EQ(data.start, 0x100u);
  EXPECT_EQ(data.wal_end, 0x200u);
  EXPECT_EQ(data.payload, "O");

  const auto keepalive = std::get<rep::Keepalive>(rep::parse_stream_frame(
      Bytes().byte('k').be<std::uint64_t>(0x300).be<std::int64_t>(6).byte(1).str()));
  EXPECT_EQ(keepalive.wal_end, 0x300u);
  EXPECT_TRUE(keepalive.reply_requested);
  EXPECT_THROW(rep::parse_stream_frame("k"), po::ProtocolError);
  EXPECT_THROW(rep::parse_stream_frame("q"), po::ProtocolError);
}

TEST(ReplicationFrames, StandbyStatusUpdate) {
  const auto message = rep::standby_status_update(0x10, 0x20, 0x30, 0x40, true);
  const auto expected = Bytes()
                            .byte('r')
                            .be<std::uint64_t>(0x10)
                            .be<std::uint64_t>(0x20)
                            .be<std::uint64_t>(0x30)
                            .be<std::int64_t>(0x40)
                            .byte(1)
                            .str();
  EXPECT_EQ(message, expected);
}

TEST(ReplicationSlotName, LowerCaseAndBounded) {
  EXPECT_EQ(rep::replication_slot_name("ABC123XYZ"), "dms_local_abc123xyz");
  EXPECT_EQ(rep::replication_slot_name("a-b"), "dms_local_a_b");
  EXPECT_EQ(rep::replication_slot_name(std::string(80, 'Q')).size(), 63u);
  EXPECT_EQ(rep::publication_with_key(rep::replication_slot_name(std::string(80, 'Q'))).size(),
            63u);
}
