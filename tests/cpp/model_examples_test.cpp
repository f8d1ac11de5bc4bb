// The generated DMS models against AWS's own request/response examples (examples-1.json, read from
// the shared reference folder at test time): every example of an operation we model parses into
// the typed structures and serializes back to the same document.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "dms/model/dms_model.hpp"

namespace dagster_dms::dms {
namespace {

using nlohmann::json;

// Parses, serializes, parses again: the two typed values must be equal.
template <class T>
json round_trip(const json& document) {
  const T value = document.get<T>();
  const json back = value;
  EXPECT_EQ(back.get<T>(), value);
  return back;
}

struct Shapes {
  json (*input)(const json&);
  json (*output)(const json&);
};

#define DAGSTER_DMS_SHAPES(op)                            \
  {                                                       \
#op, Shapes {                                         \
      &round_trip<op##Message>, &round_trip<op##Response> \
    }                                                     \
  }

const std::map<std::string, Shapes>& modelled_operations() {
  static const std::map<std::string, Shapes> shapes = {
      DAGSTER_DMS_SHAPES(DescribeReplicationTasks),
      DAGSTER_DMS_SHAPES(StartReplicationTask),
      DAGSTER_DMS_SHAPES(StopReplicationTask),
      DAGSTER_DMS_SHAPES(DescribeTableStatistics),
      DAGSTER_DMS_SHAPES(ReloadTables),
      DAGSTER_DMS_SHAPES(DescribeEndpoints),
      DAGSTER_DMS_SHAPES(DescribeReplicationInstances),
      DAGSTER_DMS_SHAPES(TestConnection),
      DAGSTER_DMS_SHAPES(DescribeConnections),
      DAGSTER_DMS_SHAPES(ListTagsForResource),
      DAGSTER_DMS_SHAPES(AddTagsToResource),
      DAGSTER_DMS_SHAPES(RemoveTagsFromResource),
      DAGSTER_DMS_SHAPES(DescribeReplicationConfigs),
      DAGSTER_DMS_SHAPES(DescribeReplications),
      DAGSTER_DMS_SHAPES(StartReplication),
      DAGSTER_DMS_SHAPES(StopReplication),
      DAGSTER_DMS_SHAPES(DescribeAccountAttributes),
      DAGSTER_DMS_SHAPES(CreateEndpoint),
      DAGSTER_DMS_SHAPES(ModifyEndpoint),
      DAGSTER_DMS_SHAPES(DeleteEndpoint),
      DAGSTER_DMS_SHAPES(CreateReplicationInstance),
      DAGSTER_DMS_SHAPES(ModifyReplicationInstance),
      DAGSTER_DMS_SHAPES(DeleteReplicationInstance),
      DAGSTER_DMS_SHAPES(CreateReplicationTask),
      DAGSTER_DMS_SHAPES(ModifyReplicationTask),
      DAGSTER_DMS_SHAPES(DeleteReplicationTask),
      DAGSTER_DMS_SHAPES(CreateReplicationConfig),
      DAGSTER_DMS_SHAPES(ModifyReplicationConfig),
      DAGSTER_DMS_SHAPES(DeleteReplicationConfig),
  };
  return shapes;
}

#undef DAGSTER_DMS_SHAPES

// Equal, except that timestamps may change spelling: the examples write ISO strings, the wire
// format we send is epoch seconds.
void expect_same_document(const json& original, const json& back, const std::string& where) {
  if (original.is_object() && back.is_object()) {
    EXPECT_EQ(original.size(), back.size()) << where << ": " << original << " vs " << back;
    for (auto it = original.begin(); it != original.end(); ++it) {
      if (!back.contains(it.key())) {
        ADD_FAILURE() << where << "." << it.key() << " lost in the round trip";
        continue;
      }
      expect_same_document(it.value(), back.at(it.key()), where + "." + it.key());
    }
    return;
  }
  if (original.is_array() && back.is_array() && original.size() == back.size()) {
    for (std::size_t i = 0; i < original.size(); ++i) {
      expect_same_document(original[i], back[i], where + "[" + std::to_string(i) + "]");
    }
    return;
  }
  if (original == back) return;
  const auto a = parse_timestamp(original);
  const auto b = parse_timestamp(back);
  EXPECT_TRUE(original.is_string() && a && b && *a == *b)
      << where << ": " << original << " came back as " << back;
}

std::optional<json> load_examples() {
  const char* shared = std::getenv("DAGSTER_DMS_SHARED_DIR");
  if (shared == nullptr) return std::nullopt;
  const auto path =
      std::filesystem::path(shared) / "reference" / "aws-dms-model" / "examples-1.json";
  std::ifstream in(path);
  if (!in) return std::nullopt;
  return json::parse(in);
}

TEST(ModelExamples, EveryModelledExampleRoundTrips) {
  const auto examples = load_examples();
  if (!examples) {
    GTEST_SKIP() << "examples-1.json not found: set DAGSTER_DMS_SHARED_DIR to the folder holding "
                    "reference/aws-dms-model (CMake sets it to ../shared)";
  }
  int checked = 0;
  for (const auto& [operation, list] : examples->at("examples").items()) {
    const auto it = modelled_operations().find(operation);
    if (it == modelled_operations().end()) continue;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto& example = list[i];
      const std::string where = operation + " example " + std::to_string(i);
      for (const auto& [part, convert] :
           {std::pair{"input", it->second.input}, std::pair{"output", it->second.output}}) {
        if (!example.contains(part)) continue;
        SCOPED_TRACE(where + " " + part);
        json back;
        ASSERT_NO_THROW(back = convert(example.at(part))) << example.at(part);
        expect_same_document(example.at(part), back, part);
        ++checked;
      }
    }
  }
  // 20 of the 33 example operations are ones we model, most with input and output.
  EXPECT_GE(checked, 30);
}

TEST(ModelExamples, CreateReplicationTaskExampleIsTyped) {
  const auto examples = load_examples();
  if (!examples) GTEST_SKIP() << "examples-1.json not found (DAGSTER_DMS_SHARED_DIR)";
  const auto& output = examples->at("examples").at("CreateReplicationTask").at(0).at("output");
  const auto response = output.get<CreateReplicationTaskResponse>();
  ASSERT_TRUE(response.replication_task);
  const ReplicationTask& task = *response.replication_task;
  EXPECT_EQ(task.migration_type, "full-load");
  ASSERT_TRUE(task.replication_task_creation_date);
  EXPECT_EQ(format_iso8601(*task.replication_task_creation_date), "2016-12-14T18:25:43Z");
  EXPECT_TRUE(task.unknown_fields.empty());
}

}  // namespace
}  // namespace dagster_dms::dms
