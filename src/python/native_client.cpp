#include "python/native_client.hpp"

#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

#include "aws/client_options.hpp"
#include "aws/session.hpp"
#include "aws/sigv4.hpp"
#include "dms/cloudwatch_client.hpp"
#include "dms/dispatch.hpp"
#include "dms/dms_client.hpp"
#include "dms/logs_client.hpp"
#include "orchestrate/metric_reader.hpp"
#include "python/assessment_bindings.hpp"
#include "python/orchestration_bindings.hpp"

namespace nb = nanobind;

namespace dagster_dms::python {
namespace {

using nlohmann::json;

class NativeClient {
 public:
  NativeClient(std::optional<std::string> region, std::optional<std::string> profile,
               std::optional<std::string> endpoint_url, std::optional<std::string> access_key_id,
               std::optional<std::string> secret_access_key,
               std::optional<std::string> session_token, std::optional<int> max_attempts,
               std::optional<std::string> retry_mode, bool verify,
               std::optional<std::string> ca_bundle, std::optional<double> connect_timeout,
               std::optional<double> read_timeout) {
    aws::ClientOptions options;
    options.region = std::move(region);
    options.profile = std::move(profile);
    options.endpoint_url = std::move(endpoint_url);
    options.access_key_id = std::move(access_key_id);
    if (secret_access_key) options.secret_access_key = aws::Secret(std::move(*secret_access_key));
    if (session_token) options.session_token = aws::Secret(std::move(*session_token));
    options.max_attempts = max_attempts;
    options.retry_mode = std::move(retry_mode);
    options.verify_tls = verify;
    options.ca_bundle = std::move(ca_bundle);
    auto to_ms = [](double seconds) {
      return std::chrono::milliseconds(static_cast<long long>(seconds * 1000.0));
    };
    if (connect_timeout) options.connect_timeout = to_ms(*connect_timeout);
    if (read_timeout) options.read_timeout = to_ms(*read_timeout);
    session_ = aws::Session::create(options);
    dms_ = std::make_unique<dms::DmsClient>(session_);
    cloudwatch_ = std::make_unique<dms::CloudWatchClient>(session_);
    logs_ = std::make_unique<dms::LogsClient>(session_);
  }

  // Calls one operation with a JSON request document and returns the JSON response document.
  std::string invoke(const std::string& service, const std::string& operation,
                     const std::string& input) {
    return by_name(service, input, [&](auto& client, const json& request) {
      return dms::invoke(client, operation, request);
    });
  }

  // Every item of a paginated listing (following its pagination token); DMS filters that match
  // nothing give an empty list, as DMS answers those with ResourceNotFoundFault.
  std::string list_all(const std::string& service, const std::string& operation,
                       const std::string& input) {
    return by_name(service, input, [&](auto& client, const json& request) {
      return dms::list_all(client, operation, request);
    });
  }

  [[nodiscard]] std::string region() const { return session_->region(); }
  [[nodiscard]] std::string endpoint(const std::string& service) const {
    if (service == "dms") return session_->endpoint_for(aws::dms_service());
    if (service == "cloudwatch") return session_->endpoint_for(aws::cloudwatch_service());
    if (service == "logs") return session_->endpoint_for(aws::logs_service());
    if (service == "sts") return session_->endpoint_for(aws::sts_service());
    throw std::invalid_argument("unknown service '" + service + "'");
  }

  // Tags of every ARN (ResourceArnList batches, with a per-ARN fallback for servers without it).
  std::string tags_for_resources(const std::vector<std::string>& arns) {
    json out = json::object();
    for (const auto& [arn, tags] : dms_->tags_for_resources(arns)) {
      json map = json::object();
      for (const auto& tag : tags) {
        if (tag.key) map[*tag.key] = tag.value.value_or("");
      }
      out[arn] = std::move(map);
    }
    return out.dump();
  }

  // GetMetricData for any number of queries: batches of 500, NextToken followed, merged per Id.
  std::string metric_data_all(const std::string& input) {
    dms::cloudwatch::GetMetricDataInput request;
    try {
      from_json(json::parse(input), request);
    } catch (const aws::ProtocolError& e) {
      throw std::invalid_argument(std::string("GetMetricData request: ") + e.what());
    }
    json out;
    to_json(out, cloudwatch_->get_metric_data_all(std::move(request)));
    return out.dump();
  }

  // orchestrate::read_metrics (GetMetricData, falling back to GetMetricStatistics) for
  // {"queries": [{"id", "metric", "dimensions": {name: value}}], "start", "end" (epoch seconds),
  // "period_seconds", "statistic"}; answers {"series": [{"id", "timestamps", "values"}],
  // "source", "notes"}.
  std::string read_metrics(const std::string& input_text) {
    const json input = json::parse(input_text);
    std::vector<orchestrate::MetricQuery> queries;
    for (const auto& item : input.at("queries")) {
      orchestrate::MetricQuery query{
          item.at("id").get<std::string>(), item.at("metric").get<std::string>(), {}};
      for (const auto& [name, value] : item.at("dimensions").items()) {
        query.dimensions.push_back({name, value.get<std::string>(), {}});
      }
      queries.push_back(std::move(query));
    }
    const auto start = dms::parse_timestamp(input.at("start"));
    const auto end = dms::parse_timestamp(input.at("end"));
    if (!start || !end) throw std::invalid_argument("start and end must be epoch seconds");
    const orchestrate::MetricReading reading = orchestrate::read_metrics(
        *cloudwatch_, queries, *start, *end, input.value("period_seconds", 60),
        input.value("statistic", std::string("Average")));
    json series = json::array();
    for (const auto& one : reading.series) {
      json timestamps = json::array();
      json values = json::array();
      for (const auto& [when, value] : one.points) {
        timestamps.push_back(dms::timestamp_to_json(when));
        values.push_back(value);
      }
      series.push_back({{"id", one.id}, {"timestamps", timestamps}, {"values", values}});
    }
    return json{{"series", series}, {"source", reading.source}, {"notes", reading.notes}}.dump();
  }

  std::string watch_tasks(const std::string& input) {
    return python::watch_tasks(*dms_, *cloudwatch_, input);
  }
  std::string cdc_metrics(const std::string& input) {
    return python::cdc_metrics(*cloudwatch_, input);
  }

  // Which provider in the chain produced the credentials (never the credentials themselves).
  std::string credentials_provider() { return session_->credentials().provider; }

  dms::DmsClient& dms() { return *dms_; }
  aws::Session& session() { return *session_; }

 private:
  // `use(client, request)` with the client of `service` and the parsed JSON `input`, dumped.
  template <class Use>
  std::string by_name(const std::string& service, const std::string& input, Use&& use) {
    const json request = input.empty() ? json::object() : json::parse(input);
    if (service == "dms") return use(*dms_, request).dump();
    if (service == "cloudwatch") return use(*cloudwatch_, request).dump();
    if (service == "logs") return use(*logs_, request).dump();
    throw std::invalid_argument("unknown service '" + service +
                                "': expected dms, cloudwatch or logs");
  }

  std::shared_ptr<aws::Session> session_;
  std::unique_ptr<dms::DmsClient> dms_;
  std::unique_ptr<dms::CloudWatchClient> cloudwatch_;
  std::unique_ptr<dms::LogsClient> logs_;
};

// Signs a request exactly as the JSON clients do; used by the tests that hold our signer to
// botocore's. Returns the headers that signing added and the intermediate strings.
// Typed so the generated stub says what the dictionary holds.
using SignatureParts = nb::typed<nb::dict, nb::str, nb::object>;

SignatureParts sigv4_sign(const std::string& method, const std::string& url,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          const nb::bytes& body, const std::string& region,
                          const std::string& service, const std::string& access_key_id,
                          const std::string& secret_access_key,
                          const std::optional<std::string>& session_token, double epoch_seconds) {
  aws::HttpRequest request;
  request.method = method;
  request.url = url;
  for (const auto& [name, value] : headers) request.headers.add(name, value);
  request.body.assign(body.c_str(), body.size());
  aws::Credentials credentials;
  credentials.access_key_id = access_key_id;
  credentials.secret_access_key = aws::Secret(secret_access_key);
  if (session_token) credentials.session_token = aws::Secret(*session_token);
  aws::SigningParams params;
  params.region = region;
  params.service = service;
  params.time = aws::TimePoint(std::chrono::duration_cast<aws::TimePoint::duration>(
      std::chrono::duration<double>(epoch_seconds)));
  aws::SigningResult result = aws::sign_request(request, credentials, params);
  SignatureParts out;
  out["canonical_request"] = result.canonical_request;
  out["string_to_sign"] = result.string_to_sign;
  out["signature"] = result.signature;
  out["authorization"] = result.authorization;
  nb::list signed_headers;
  for (const auto& header : request.headers) {
    signed_headers.append(nb::make_tuple(header.name, header.value));
  }
  out["headers"] = signed_headers;
  return out;
}

}  // namespace

void bind_native_client(nb::module_& m) {
  // Every call that may wait on the network releases the GIL.
  const auto released = nb::call_guard<nb::gil_scoped_release>();
  const auto input = nb::arg("input");
  nb::class_<NativeClient>(m, "NativeClient")
      .def(nb::init<std::optional<std::string>, std::optional<std::string>,
                    std::optional<std::string>, std::optional<std::string>,
                    std::optional<std::string>, std::optional<std::string>, std::optional<int>,
                    std::optional<std::string>, bool, std::optional<std::string>,
                    std::optional<double>, std::optional<double>>(),
           nb::arg("region").none(), nb::arg("profile").none(), nb::arg("endpoint_url").none(),
           nb::arg("access_key_id").none(), nb::arg("secret_access_key").none(),
           nb::arg("session_token").none(), nb::arg("max_attempts").none(),
           nb::arg("retry_mode").none(), nb::arg("verify"), nb::arg("ca_bundle").none(),
           nb::arg("connect_timeout").none(), nb::arg("read_timeout").none())
      .def("invoke", &NativeClient::invoke, nb::arg("service"), nb::arg("operation"), input,
           released)
      .def_prop_ro("region", &NativeClient::region)
      .def("endpoint", &NativeClient::endpoint, nb::arg("service"))
      .def("list_all", &NativeClient::list_all, nb::arg("service"), nb::arg("operation"), input,
           released)
      .def("tags_for_resources", &NativeClient::tags_for_resources, nb::arg("arns"), released)
      .def("metric_data_all", &NativeClient::metric_data_all, input, released)
      .def("read_metrics", &NativeClient::read_metrics, input, released)
      .def("watch_tasks", &NativeClient::watch_tasks, input, released)
      .def("cdc_metrics", &NativeClient::cdc_metrics, input, released)
      .def(
          "run_task",
          [](NativeClient& self, const std::string& task, const std::string& options,
             nb::object on_progress, nb::object should_stop) {
            return run_task(self.dms(), self.session().clock(), task, options, on_progress,
                            should_stop);
          },
          nb::arg("task"), nb::arg("options"), nb::arg("on_progress").none(),
          nb::arg("should_stop").none())
      .def(
          "run_replication",
          [](NativeClient& self, const std::string& config, const std::string& options,
             nb::object on_progress, nb::object should_stop) {
            return run_replication(self.dms(), self.session().clock(), config, options, on_progress,
                                   should_stop);
          },
          nb::arg("config"), nb::arg("options"), nb::arg("on_progress").none(),
          nb::arg("should_stop").none())
      .def(
          "discover",
          [](NativeClient& self, const std::string& kind, const std::string& options) {
            nb::gil_scoped_release release;
            return discover(self.dms(), kind, options);
          },
          nb::arg("kind"), nb::arg("options"))
      .def(
          "reload_tables",
          [](NativeClient& self, const std::string& task, const std::string& options,
             nb::object should_stop) {
            return reload_tables(self.dms(), self.session().clock(), task, options, should_stop);
          },
          nb::arg("task"), nb::arg("options"), nb::arg("should_stop").none())
      .def(
          "run_assessment",
          [](NativeClient& self, const std::string& task, const std::string& options,
             nb::object on_progress, nb::object should_stop) {
            return run_assessment(self.dms(), self.session().clock(), task, options, on_progress,
                                  should_stop);
          },
          nb::arg("task"), nb::arg("options"), nb::arg("on_progress").none(),
          nb::arg("should_stop").none())
      .def("credentials_provider", &NativeClient::credentials_provider, released);

  m.def("sigv4_sign", &sigv4_sign, nb::arg("method"), nb::arg("url"), nb::arg("headers"),
        nb::arg("body"), nb::arg("region"), nb::arg("service"), nb::arg("access_key_id"),
        nb::arg("secret_access_key"), nb::arg("session_token").none(), nb::arg("epoch_seconds"),
        "Signs a request with SigV4 as the clients do (for tests against botocore's signer).");
}

}  // namespace dagster_dms::python
