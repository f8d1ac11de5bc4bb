// The state store's read scopes: readers answer from a snapshot of their own beside the one
// writer (WAL), and a write attempted inside a read scope is refused so that the service can
// run the request again as a writer.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "server/store/store.hpp"

namespace server = dagster_dms::server;

namespace {

class StoreReadScope : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "dms-read-scope-XXXXXX");
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    store_.emplace(dir_);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static server::Record endpoint(const std::string& id) {
    server::Record record;
    record.arn = "arn:aws:dms:us-east-1:000000000000:endpoint:" + id;
    record.identifier = id;
    record.account = "000000000000";
    record.region = "us-east-1";
    record.doc = {{"EndpointIdentifier", id}};
    return record;
  }

  std::size_t endpoints() const {
    return store_->list(server::ResourceKind::kEndpoint, "000000000000", "us-east-1").size();
  }

  std::filesystem::path dir_;
  std::optional<server::Store> store_;
};

}  // namespace

TEST_F(StoreReadScope, ReadersSeeTheLastCommitWhileAWriteIsOpen) {
  store_->insert(server::ResourceKind::kEndpoint, endpoint("committed"));
  store_->transaction([&] {
    store_->insert(server::ResourceKind::kEndpoint, endpoint("pending"));
    // Another thread reads while this write transaction holds SQLite's write lock: it neither
    // waits for it nor sees its uncommitted row.
    std::size_t seen = 0;
    std::thread reader([&] {
      const server::Store::ReadScope snapshot(*store_);
      seen = endpoints();
    });
    reader.join();
    EXPECT_EQ(seen, 1U);
  });
  const server::Store::ReadScope snapshot(*store_);
  EXPECT_EQ(endpoints(), 2U);
}

TEST_F(StoreReadScope, WritesInsideAReadScopeAreRefused) {
  {
    const server::Store::ReadScope snapshot(*store_);
    EXPECT_TRUE(server::Store::reading());
    EXPECT_THROW(store_->insert(server::ResourceKind::kEndpoint, endpoint("x")),
                 server::WriteInReadScope);
    EXPECT_THROW(store_->transaction([] {}), server::WriteInReadScope);
    EXPECT_THROW(store_->put_tags("arn", {{"k", "v"}}), server::WriteInReadScope);
  }
  EXPECT_FALSE(server::Store::reading());
  store_->insert(server::ResourceKind::kEndpoint, endpoint("x"));
  EXPECT_EQ(endpoints(), 1U);
}

TEST_F(StoreReadScope, ASnapshotStaysConsistentAcrossLaterCommits) {
  store_->insert(server::ResourceKind::kEndpoint, endpoint("a"));
  const server::Store::ReadScope snapshot(*store_);
  EXPECT_EQ(endpoints(), 1U);
  std::thread writer([&] { store_->insert(server::ResourceKind::kEndpoint, endpoint("b")); });
  writer.join();
  EXPECT_EQ(endpoints(), 1U);  // the scope's snapshot, not the newer commit
}
