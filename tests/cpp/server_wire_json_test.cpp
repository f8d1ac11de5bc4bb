// Answers keep the AWS JSON shape even when they echo bytes that are not UTF-8.
#include <gtest/gtest.h>

#include "server/front/api_error.hpp"
#include "server/front/wire_json.hpp"

namespace dagster_dms::server {
namespace {

TEST(WireJson, InvalidUtf8FromTheClientIsReplacedNotThrown) {
  // An X-Amz-Target header is not guaranteed UTF-8; the error message names the operation.
  const ApiError error(400, "UnknownOperationException", "Unknown operation Delete\xed\x69on.");
  EXPECT_THROW((void)error.body().dump(), nlohmann::json::type_error);
  const auto text = wire_json(error.body());
  EXPECT_EQ(nlohmann::json::parse(text)["message"], "Unknown operation Delete\xef\xbf\xbdion.");
  EXPECT_EQ(nlohmann::json::parse(text)["__type"], "UnknownOperationException");
}

TEST(WireJson, ValidDocumentsAreUnchanged) {
  const nlohmann::json document = {{"a", "caf\xc3\xa9"}, {"n", 1}};
  EXPECT_EQ(wire_json(document), document.dump());
}

}  // namespace
}  // namespace dagster_dms::server
