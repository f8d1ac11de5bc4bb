#include "aws/curl_transport.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "aws/errors.hpp"
#include "aws/url.hpp"

namespace dagster_dms::aws {

namespace {

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using ListPtr = std::unique_ptr<curl_slist, ListDeleter>;

// Idle handles kept per transport; each keeps its connections open for the next request.
constexpr std::size_t kMaxIdleHandles = 8;

void global_init() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (result != CURLE_OK) {
    throw TransportError(
        TransportError::Kind::kOther,
        std::string("libcurl failed to initialize: ") + curl_easy_strerror(result));
  }
}

std::optional<std::string> getenv_value(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

void append(ListPtr& list, const std::string& line) {
  curl_slist* grown = curl_slist_append(list.get(), line.c_str());
  if (grown == nullptr) throw TransportError(TransportError::Kind::kOther, "out of memory");
  // Appending to a non-empty list returns the same head.
  if (!list) list.reset(grown);
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<HttpHeaders*>(user);
  std::string_view line(data, size * count);
  // Each response (a 100 Continue, then the real one) starts a fresh header block.
  if (line.starts_with("HTTP/")) {
    *headers = HttpHeaders();
    return size * count;
  }
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * count;
  auto value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  headers->add(std::string(line.substr(0, colon)), std::string(value));
  return size * count;
}

TransportError::Kind kind_of(CURLcode code, bool request_sent) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return TransportError::Kind::kConnect;
    case CURLE_OPERATION_TIMEDOUT:
      // A timeout before the request went out (connect or TLS handshake) cannot have been acted on.
      return request_sent ? TransportError::Kind::kTimeout : TransportError::Kind::kConnect;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
      return request_sent ? TransportError::Kind::kConnectionReset : TransportError::Kind::kConnect;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
      return TransportError::Kind::kTls;
    case CURLE_PARTIAL_FILE:
      return TransportError::Kind::kTruncated;
    default:
      return TransportError::Kind::kOther;
  }
}

const char* what_happened(TransportError::Kind kind) {
  switch (kind) {
    case TransportError::Kind::kConnect:
      return "could not connect to";
    case TransportError::Kind::kTimeout:
      return "timed out waiting for a response from";
    case TransportError::Kind::kConnectionReset:
      return "connection lost while talking to";
    case TransportError::Kind::kTls:
      return "TLS failure with";
    case TransportError::Kind::kTruncated:
      return "truncated response from";
    case TransportError::Kind::kOther:
      break;
  }
  return "HTTP request failed for";
}

// A read timeout means "no byte moved for this long", like a socket read timeout in boto3: a
// total-time limit would cut off a slow but healthy response, and libcurl's low-speed check
// averages over a window that still holds the upload, so it fires late for small requests.
// libcurl calls this at least about once a second while a transfer is idle.
struct ReadWatch {
  std::chrono::milliseconds timeout;
  std::chrono::steady_clock::time_point last_activity = std::chrono::steady_clock::now();
  curl_off_t downloaded = 0;
  curl_off_t uploaded = 0;
  bool timed_out = false;
};

int on_progress(void* data, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
  auto* watch = static_cast<ReadWatch*>(data);
  const auto now = std::chrono::steady_clock::now();
  if (dlnow != watch->downloaded || ulnow != watch->uploaded) {
    watch->downloaded = dlnow;
    watch->uploaded = ulnow;
    watch->last_activity = now;
    return 0;
  }
  if (now - watch->last_activity > watch->timeout) {
    watch->timed_out = true;
    return 1;  // aborts the transfer
  }
  return 0;
}

}  // namespace

struct CurlTransport::Impl {
  TransportOptions options;
  std::mutex mutex;
  std::vector<EasyPtr> idle;

  EasyPtr acquire() {
    {
      std::lock_guard lock(mutex);
      if (!idle.empty()) {
        EasyPtr handle = std::move(idle.back());
        idle.pop_back();
        return handle;
      }
    }
    EasyPtr handle(curl_easy_init());
    if (!handle) throw TransportError(TransportError::Kind::kOther, "curl_easy_init failed");
    return handle;
  }

  void release(EasyPtr handle) {
    std::lock_guard lock(mutex);
    if (idle.size() < kMaxIdleHandles) idle.push_back(std::move(handle));
  }
};

CurlTransport::CurlTransport(TransportOptions options) : impl_(std::make_unique<Impl>()) {
  global_init();
  impl_->options = std::move(options);
}

CurlTransport::~CurlTransport() = default;

HttpResponse CurlTransport::send(const HttpRequest& request) {
  const auto url = parse_url(request.url);
  if (!url || (url->scheme != "http" && url->scheme != "https")) {
    throw TransportError(TransportError::Kind::kOther,
                         "not an absolute http(s) URL: '" + request.url + "'");
  }
  const std::string where = url->scheme + "://" + url->host_header();
  const auto& options = impl_->options;

  EasyPtr handle = impl_->acquire();
  CURL* curl = handle.get();
  // Reset keeps the live connections, DNS cache and TLS sessions: only the options go.
  curl_easy_reset(curl);

  HttpResponse response;
  std::array<char, CURL_ERROR_SIZE> error_buffer{};
  ListPtr headers;
  for (const auto& header : request.headers) {
    append(headers, header.value.empty() ? header.name + ";" : header.name + ": " + header.value);
  }
  // No 100-continue round trip: AWS answers directly, and some proxies mishandle it.
  if (!request.headers.contains("Expect")) append(headers, "Expect:");

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer.data());
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  if (!options.user_agent.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERAGENT, options.user_agent.c_str());
  }

  if (request.method == "GET" && request.body.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    if (request.method != "POST") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  }

  const auto connect_timeout = request.connect_timeout.value_or(options.connect_timeout);
  const auto read_timeout = request.read_timeout.value_or(options.read_timeout);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
  ReadWatch read_watch{read_timeout};
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &read_watch);

  if (options.verify_tls) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (options.ca_bundle) curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_bundle->c_str());
  } else {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }

  // libcurl reads https_proxy/HTTPS_PROXY, all_proxy/ALL_PROXY and no_proxy/NO_PROXY itself,
  // but for plain http only the lower-case http_proxy. The AWS CLI and boto3 also honour
  // HTTP_PROXY, so it is passed on explicitly, together with the no-proxy list.
  if (url->scheme == "http" && !getenv_value("http_proxy")) {
    if (const auto proxy = getenv_value("HTTP_PROXY")) {
      curl_easy_setopt(curl, CURLOPT_PROXY, proxy->c_str());
      const auto no_proxy =
          getenv_value("no_proxy") ? getenv_value("no_proxy") : getenv_value("NO_PROXY");
      if (no_proxy) curl_easy_setopt(curl, CURLOPT_NOPROXY, no_proxy->c_str());
    }
  }

  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);

  const CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    curl_off_t pretransfer = 0;
    long request_size = 0;
    curl_easy_getinfo(curl, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
    curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &request_size);
    const auto kind = read_watch.timed_out ? TransportError::Kind::kTimeout
                                           : kind_of(code, pretransfer > 0 || request_size > 0);
    const std::string detail =
        error_buffer[0] != '\0' ? error_buffer.data() : curl_easy_strerror(code);
    // A handle whose transfer failed may hold a broken connection: drop it.
    throw TransportError(kind, std::string(what_happened(kind)) + " " + where + ": " + detail);
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  // Pooled handles must not point at this call's buffers and header list.
  curl_easy_reset(curl);
  impl_->release(std::move(handle));
  return response;
}

}  // namespace dagster_dms::aws
