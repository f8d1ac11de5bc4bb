#include "server/dms_api/endpoint_secrets.hpp"

#include "server/dms_api/certificates.hpp"

namespace dagster_dms::server {

void move_secrets(nlohmann::json& doc, nlohmann::json& internal) {
  if (!doc.is_object()) return;
  for (auto it = doc.begin(); it != doc.end();) {
    const std::string& key = it.key();
    const bool secret = (key.size() >= 8 && key.compare(key.size() - 8, 8, "Password") == 0) ||
                        key == "SecurityDbEncryption";
    if (secret) {
      internal[key] = it.value();
      it = doc.erase(it);
    } else {
      if (it->is_object()) move_secrets(*it, internal[key]);
      if (internal.contains(key) &&
          (internal[key].is_null() || (internal[key].is_object() && internal[key].empty()))) {
        internal.erase(key);
      }
      ++it;
    }
  }
}

std::optional<std::string> stored_password(const Record& endpoint) {
  if (endpoint.internal.contains("Password") && endpoint.internal["Password"].is_string()) {
    return endpoint.internal["Password"].get<std::string>();
  }
  for (const char* name : {"PostgreSQLSettings", "MySQLSettings"}) {
    const auto& settings =
        endpoint.internal.contains(name) ? endpoint.internal[name] : nlohmann::json::object();
    if (settings.is_object() && settings.contains("Password") && settings["Password"].is_string()) {
      return settings["Password"].get<std::string>();
    }
  }
  return std::nullopt;
}

void load_run_endpoints(const Store& store, TaskRun& run) {
  const auto load = [&](const std::optional<std::string>& arn, dms::Endpoint& endpoint,
                        std::optional<std::string>& password,
                        std::optional<std::string>& certificate_pem) {
    if (!arn) return;
    if (auto stored = store.find_by_arn(ResourceKind::kEndpoint, *arn)) {
      dms::from_json(stored->doc, endpoint);
      password = stored_password(*stored);
      certificate_pem = endpoint_certificate_pem(store, stored->doc);
    }
  };
  load(run.task.source_endpoint_arn, run.source, run.source_password, run.source_certificate_pem);
  load(run.task.target_endpoint_arn, run.target, run.target_password, run.target_certificate_pem);
}

}  // namespace dagster_dms::server
