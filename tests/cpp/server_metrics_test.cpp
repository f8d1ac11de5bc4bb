// dms-local's CloudWatch side: stat aggregation, GetMetricData paging, the datapoint store, the
// publisher's rates and the CloudWatch operations' validation.
#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>

#include "server/front/api_error.hpp"
#include "server/store/sqlite_db.hpp"
#include "server/telemetry/cloudwatch_service.hpp"
#include "server/telemetry/host_metrics.hpp"
#include "server/telemetry/metric_aggregation.hpp"
#include "server/telemetry/metric_data_pages.hpp"
#include "server/telemetry/metrics_publisher.hpp"
#include "server/telemetry/metrics_store.hpp"

namespace dagster_dms::server {
namespace {

class FixedClock final : public aws::Clock {
 public:
  explicit FixedClock(std::int64_t ms) : now_(std::chrono::milliseconds(ms)) {}
  [[nodiscard]] aws::TimePoint now() const override { return now_; }
  void sleep_for(std::chrono::milliseconds duration) override { now_ += duration; }
  void advance(std::chrono::milliseconds duration) { now_ += duration; }

 private:
  aws::TimePoint now_;
};

// A state directory of its own, removed afterwards.
class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("dms-local-metrics-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(MetricAggregation, BucketsAlignToThePeriodAndComputeEachStatistic) {
  // 60-second periods starting at 120 s: samples at 125, 130, 179 s fall in one, 185 s in the next.
  const std::vector<MetricSample> samples{{185'000, 10}, {125'000, 1}, {130'000, 5}, {179'999, 3}};
  const auto buckets = aggregate(samples, 60);
  ASSERT_EQ(buckets.size(), 2u);
  EXPECT_EQ(buckets[0].start_ms, 120'000);
  EXPECT_EQ(buckets[1].start_ms, 180'000);
  EXPECT_DOUBLE_EQ(buckets[0].value(Statistic::kSum), 9);
  EXPECT_DOUBLE_EQ(buckets[0].value(Statistic::kAverage), 3);
  EXPECT_DOUBLE_EQ(buckets[0].value(Statistic::kMinimum), 1);
  EXPECT_DOUBLE_EQ(buckets[0].value(Statistic::kMaximum), 5);
  EXPECT_DOUBLE_EQ(buckets[0].value(Statistic::kSampleCount), 3);
  EXPECT_DOUBLE_EQ(buckets[1].value(Statistic::kAverage), 10);
  EXPECT_TRUE(aggregate({}, 60).empty());
}

TEST(MetricAggregation, StatisticNamesAndPeriodRules) {
  EXPECT_EQ(parse_statistic("SampleCount"), Statistic::kSampleCount);
  EXPECT_FALSE(parse_statistic("p99"));
  EXPECT_FALSE(parse_statistic("average"));
  EXPECT_EQ(statistic_name(Statistic::kMaximum), "Maximum");
  for (const std::int64_t ok : {1, 5, 10, 20, 30, 60, 120, 3600}) {
    EXPECT_FALSE(period_problem(ok, "Period")) << ok;
  }
  EXPECT_EQ(*period_problem(7, "Period"),
            "The parameter Period must be 1, 5, 10, 20, 30, or a multiple of 60.");
  EXPECT_TRUE(period_problem(0, "Period"));
  EXPECT_TRUE(period_problem(90, "Period"));
}

TEST(MetricDataPages, PagesCountDatapointsAcrossQueriesAndResume) {
  const std::vector<MetricDataSeries> all{
      {"a", "A", {1, 2, 3}, {10, 20, 30}},
      {"b", "B", {}, {}},
      {"c", "C", {4, 5}, {40, 50}},
  };
  std::vector<double> seen;
  std::optional<std::string> token;
  int pages = 0;
  do {
    const auto page = page_metric_data(all, 2, token);
    ++pages;
    ASSERT_EQ(page.results.size(), 3u) << "every query is on every page";
    std::size_t count = 0;
    for (const auto& series : page.results) {
      EXPECT_EQ(series.timestamps_ms.size(), series.values.size());
      count += series.values.size();
      seen.insert(seen.end(), series.values.begin(), series.values.end());
    }
    EXPECT_LE(count, 2u);
    if (page.next_token) {
      EXPECT_FALSE(page.complete[0] && page.complete[2]);
    } else {
      EXPECT_TRUE(page.complete[0] && page.complete[1] && page.complete[2]);
    }
    token = page.next_token;
  } while (token);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, (std::vector<double>{10, 20, 30, 40, 50}));

  const auto whole = page_metric_data(all, 100800, std::nullopt);
  EXPECT_FALSE(whole.next_token);
  EXPECT_EQ(whole.results[2].values, (std::vector<double>{40, 50}));
  EXPECT_THROW(page_metric_data(all, 2, std::string("garbage")), std::invalid_argument);
  EXPECT_THROW(page_metric_data(all, 2, std::string("dms-local-1:99")), std::invalid_argument);
}

MetricKey task_key(const std::string& name) {
  return {"AWS/DMS",
          name,
          {{"ReplicationTaskIdentifier", "TASKID"}, {"ReplicationInstanceIdentifier", "inst"}}};
}

TEST(MetricsStore, SeriesMatchExactDimensionsPerAccountAndPrune) {
  TempDir dir;
  SqliteDb db(dir.path() / "state.sqlite3");
  MetricsStore store(db);
  store.put("111", "us-east-1",
            {{task_key("CPUUtilization"), "Percent", 1000, 5},
             {task_key("CPUUtilization"), "Percent", 2000, 7},
             {{"AWS/DMS", "CPUUtilization", {{"ReplicationInstanceIdentifier", "inst"}}},
              "Percent",
              1500,
              50}});
  store.put("222", "us-east-1", {{task_key("CPUUtilization"), "Percent", 1000, 99}});

  // Dimension order does not matter; the set does.
  MetricKey reordered = task_key("CPUUtilization");
  std::reverse(reordered.dimensions.begin(), reordered.dimensions.end());
  const auto series = store.series("111", "us-east-1", reordered, 0, 10'000);
  ASSERT_EQ(series.samples.size(), 2u);
  EXPECT_EQ(series.unit, "Percent");
  EXPECT_DOUBLE_EQ(series.samples[1].value, 7);
  EXPECT_EQ(store.series("111", "us-east-1", reordered, 0, 2000).samples.size(), 1u)
      << "EndTime is exclusive";
  EXPECT_EQ(store.series("111", "eu-west-1", reordered, 0, 10'000).samples.size(), 0u);

  const auto listed = store.metrics("111", "us-east-1", 0);
  ASSERT_EQ(listed.size(), 2u);
  const auto& with_task = listed[0].dimensions.size() == 2 ? listed[0] : listed[1];
  ASSERT_EQ(with_task.dimensions.size(), 2u);
  EXPECT_EQ(with_task.dimensions[0].first, "ReplicationInstanceIdentifier") << "sorted by name";

  EXPECT_EQ(store.prune(1600), 3);
  EXPECT_EQ(store.series("111", "us-east-1", reordered, 0, 10'000).samples.size(), 1u);
}

TEST(MetricsPublisher, ThroughputIsARatePerIntervalThatAddsUpToTheRowsMoved) {
  TempDir dir;
  SqliteDb db(dir.path() / "state.sqlite3");
  MetricsStore store(db);
  FixedClock clock(1'700'000'000'000);
  MetricsPublisherOptions options;
  options.interval = std::chrono::milliseconds(500);
  MetricsPublisher publisher(
      store, HostSampler(dir.path()),
      [] {
        return std::vector<InstanceRef>{{"111", "us-east-1", "inst"}};
      },
      clock, options);
  TaskTelemetryIdentity task;
  task.account = "111";
  task.region = "us-east-1";
  task.task_arn = "arn:aws:dms:us-east-1:111:task:TASKID";
  task.task_resource_id = "TASKID";
  task.instance_identifier = "inst";

  publisher.task_totals(task, 1000, 2048);
  publisher.publish_once();
  clock.advance(options.interval);
  publisher.task_totals(task, 1500, 4096);
  publisher.task_gauge(task, "CDCLatencySource", "Seconds", 3);
  publisher.task_ended(task);
  publisher.publish_once();
  clock.advance(options.interval);
  publisher.publish_once();  // the ended run published its last interval already

  const auto rows = store.series("111", "us-east-1", task_key("FullLoadThroughputRowsTarget"), 0,
                                 std::numeric_limits<std::int64_t>::max());
  ASSERT_EQ(rows.samples.size(), 2u);
  EXPECT_EQ(rows.unit, "Count/Second");
  EXPECT_DOUBLE_EQ(rows.samples[0].value, 2000);  // 1000 rows in 0.5 s
  EXPECT_DOUBLE_EQ(rows.samples[1].value, 1000);
  const double moved = std::accumulate(rows.samples.begin(), rows.samples.end(), 0.0,
                                       [](double sum, const auto& s) { return sum + s.value; }) *
                       0.5;
  EXPECT_DOUBLE_EQ(moved, 1500);
  const auto bandwidth =
      store.series("111", "us-east-1", task_key("FullLoadThroughputBandwidthSource"), 0,
                   std::numeric_limits<std::int64_t>::max());
  ASSERT_EQ(bandwidth.samples.size(), 2u);
  EXPECT_DOUBLE_EQ(bandwidth.samples[0].value, 4);  // 2 KB in 0.5 s
  EXPECT_EQ(bandwidth.unit, "Kilobytes/Second");
  EXPECT_EQ(store
                .series("111", "us-east-1", task_key("CDCLatencySource"), 0,
                        std::numeric_limits<std::int64_t>::max())
                .samples.size(),
            1u);
  const auto storage =
      store.series("111", "us-east-1",
                   {"AWS/DMS", "FreeStorageSpace", {{"ReplicationInstanceIdentifier", "inst"}}}, 0,
                   std::numeric_limits<std::int64_t>::max());
  ASSERT_EQ(storage.samples.size(), 3u);
  EXPECT_GT(storage.samples[0].value, 0);
}

class CloudWatchServiceTest : public ::testing::Test {
 protected:
  CloudWatchServiceTest()
      : db_(dir_.path() / "state.sqlite3"),
        store_(db_),
        clock_(10'000'000),
        service_(store_, clock_) {
    std::vector<MetricDatum> data;
    for (int i = 0; i < 10; ++i) {
      data.push_back({task_key("FullLoadThroughputRowsTarget"), "Count/Second",
                      9'000'000 + i * 30'000, static_cast<double>(i)});
    }
    store_.put("111", "us-east-1", data);
  }

  nlohmann::json call(const std::string& operation, const nlohmann::json& body) {
    return service_.handle(RequestContext{"111", "us-east-1"}, operation, body);
  }

  static nlohmann::json query(const std::string& stat, std::int64_t period) {
    return {{"Id", "rows"},
            {"MetricStat",
             {{"Metric",
               {{"Namespace", "AWS/DMS"},
                {"MetricName", "FullLoadThroughputRowsTarget"},
                {"Dimensions",
                 {{{"Name", "ReplicationInstanceIdentifier"}, {"Value", "inst"}},
                  {{"Name", "ReplicationTaskIdentifier"}, {"Value", "TASKID"}}}}}},
              {"Period", period},
              {"Stat", stat}}}};
  }

  std::string error_of(const std::string& operation, const nlohmann::json& body) {
    try {
      call(operation, body);
    } catch (const ApiError& error) {
      return error.code() + ": " + error.what();
    }
    return "no error";
  }

  TempDir dir_;
  SqliteDb db_;
  MetricsStore store_;
  FixedClock clock_;
  CloudWatchService service_;
};

TEST_F(CloudWatchServiceTest, GetMetricDataAggregatesScansAndPages) {
  const auto answer = call("GetMetricData", {{"MetricDataQueries", {query("Sum", 60)}},
                                             {"StartTime", 9'000},
                                             {"EndTime", 10'000},
                                             {"ScanBy", "TimestampAscending"}});
  const auto& result = answer["MetricDataResults"][0];
  EXPECT_EQ(result["Label"], "FullLoadThroughputRowsTarget");
  EXPECT_EQ(result["StatusCode"], "Complete");
  // Samples every 30 s from 9000 s: pairs per minute, (0+1), (2+3)...
  EXPECT_EQ(result["Values"], (nlohmann::json{1, 5, 9, 13, 17}));
  EXPECT_EQ(result["Timestamps"][0], 9000);

  const auto descending = call("GetMetricData", {{"MetricDataQueries", {query("Maximum", 60)}},
                                                 {"StartTime", 9'000},
                                                 {"EndTime", 10'000},
                                                 {"MaxDatapoints", 3}});
  EXPECT_EQ(descending["MetricDataResults"][0]["Values"], (nlohmann::json{9, 7, 5}));
  EXPECT_EQ(descending["MetricDataResults"][0]["StatusCode"], "PartialData");
  ASSERT_TRUE(descending.contains("NextToken"));
  const auto rest = call("GetMetricData", {{"MetricDataQueries", {query("Maximum", 60)}},
                                           {"StartTime", 9'000},
                                           {"EndTime", 10'000},
                                           {"MaxDatapoints", 3},
                                           {"NextToken", descending["NextToken"]}});
  EXPECT_EQ(rest["MetricDataResults"][0]["Values"], (nlohmann::json{3, 1}));
  EXPECT_FALSE(rest.contains("NextToken"));

  auto hidden = query("Sum", 60);
  hidden["ReturnData"] = false;
  EXPECT_TRUE(call("GetMetricData", {{"MetricDataQueries", {hidden}},
                                     {"StartTime", 9'000},
                                     {"EndTime", 10'000}})["MetricDataResults"]
                  .empty());
}

TEST_F(CloudWatchServiceTest, ValidationErrorsUseCloudWatchCodesAndWords) {
  EXPECT_EQ(error_of("GetMetricData", {{"MetricDataQueries", {query("Sum", 60)}},
                                       {"StartTime", 10'000},
                                       {"EndTime", 9'000}}),
            "InvalidParameterValueException: The parameter StartTime must be less than the "
            "parameter EndTime.");
  EXPECT_NE(error_of("GetMetricData",
                     {{"MetricDataQueries", {{{"Id", "e1"}, {"Expression", "SUM(METRICS())"}}}},
                      {"StartTime", 9'000},
                      {"EndTime", 10'000}})
                .find("does not evaluate metric math"),
            std::string::npos);
  EXPECT_NE(error_of("GetMetricData", {{"MetricDataQueries", {query("p99", 60)}},
                                       {"StartTime", 9'000},
                                       {"EndTime", 10'000}})
                .find("InvalidParameterValueException"),
            std::string::npos);
  EXPECT_EQ(error_of("GetMetricData", {{"MetricDataQueries", {query("Sum", 60)}},
                                       {"StartTime", 9'000},
                                       {"EndTime", 10'000},
                                       {"NextToken", "nope"}}),
            "InvalidNextToken: The service couldn't process the NextToken.");
  EXPECT_EQ(error_of("GetMetricStatistics", {{"Namespace", "AWS/DMS"},
                                             {"MetricName", "x"},
                                             {"StartTime", 9'000},
                                             {"EndTime", 10'000},
                                             {"Period", 60}}),
            "InvalidParameterCombinationException: Must specify either Statistics or "
            "ExtendedStatistics.");
  EXPECT_EQ(error_of("GetMetricStatistics", {{"MetricName", "x"},
                                             {"StartTime", 9'000},
                                             {"EndTime", 10'000},
                                             {"Period", 60},
                                             {"Statistics", {"Sum"}}}),
            "MissingRequiredParameterException: The parameter Namespace is required.");
  EXPECT_NE(error_of("GetMetricStatistics", {{"Namespace", "AWS/DMS"},
                                             {"MetricName", "x"},
                                             {"StartTime", 0},
                                             {"EndTime", 10'000'000},
                                             {"Period", 60},
                                             {"Statistics", {"Sum"}}})
                .find("exceeds the limit of 1,440"),
            std::string::npos);
  EXPECT_EQ(cloudwatch_query_code("InvalidParameterValueException"), "InvalidParameterValue");
  EXPECT_EQ(cloudwatch_query_code("MissingRequiredParameterException"), "MissingParameter");
}

TEST_F(CloudWatchServiceTest, GetMetricStatisticsAndListMetrics) {
  const auto answer = call("GetMetricStatistics",
                           {{"Namespace", "AWS/DMS"},
                            {"MetricName", "FullLoadThroughputRowsTarget"},
                            {"Dimensions",
                             {{{"Name", "ReplicationTaskIdentifier"}, {"Value", "TASKID"}},
                              {{"Name", "ReplicationInstanceIdentifier"}, {"Value", "inst"}}}},
                            {"StartTime", 9'000},
                            {"EndTime", 9'120},
                            {"Period", 120},
                            {"Statistics", {"Average", "SampleCount"}}});
  ASSERT_EQ(answer["Datapoints"].size(), 1u);
  const auto& point = answer["Datapoints"][0];
  EXPECT_EQ(point["SampleCount"], 4.0);
  EXPECT_EQ(point["Average"], 1.5);
  EXPECT_EQ(point["Unit"], "Count/Second");
  EXPECT_FALSE(point.contains("Sum"));

  const auto listed =
      call("ListMetrics",
           {{"Namespace", "AWS/DMS"}, {"Dimensions", {{{"Name", "ReplicationTaskIdentifier"}}}}});
  ASSERT_EQ(listed["Metrics"].size(), 1u);
  EXPECT_EQ(listed["Metrics"][0]["MetricName"], "FullLoadThroughputRowsTarget");
  EXPECT_TRUE(call("ListMetrics",
                   {{"Dimensions",
                     {{{"Name", "ReplicationTaskIdentifier"}, {"Value", "OTHER"}}}}})["Metrics"]
                  .empty());
}

}  // namespace
}  // namespace dagster_dms::server
