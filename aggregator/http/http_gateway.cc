#include "aggregator/http/http_gateway.h"

#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "aggregator/http/json.h"
#include "httplib.h"

namespace pinning::aggregator {
namespace {

constexpr char kJson[] = "application/json";
constexpr size_t kMaxDashboardFileBytes = 8 << 20;

struct StaticFile {
  std::string content_type;
  std::string body;
};

std::string ContentTypeFor(absl::string_view name) {
  static const auto* const kTypes = new absl::flat_hash_map<std::string, std::string>{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
  };
  const size_t dot = name.rfind('.');
  if (dot != absl::string_view::npos) {
    auto it = kTypes->find(absl::AsciiStrToLower(name.substr(dot)));
    if (it != kTypes->end()) return it->second;
  }
  return "application/octet-stream";
}

// LoadDashboard reads the regular files directly inside `dir`.
absl::StatusOr<absl::flat_hash_map<std::string, StaticFile>> LoadDashboard(const std::string& dir) {
  absl::flat_hash_map<std::string, StaticFile> files;
  if (dir.empty()) return files;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return absl::NotFoundError(absl::StrCat("dashboard_dir ", dir, " cannot be read"));
  }
  while (const dirent* entry = ::readdir(d)) {
    const std::string name = entry->d_name;
    if (name.empty() || name[0] == '.') continue;
    const std::string path = dir + "/" + name;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<size_t>(st.st_size) > kMaxDashboardFileBytes) {
      continue;
    }
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    files[name] = StaticFile{ContentTypeFor(name), buffer.str()};
  }
  ::closedir(d);
  if (!files.contains("index.html")) {
    return absl::NotFoundError(absl::StrCat("dashboard_dir ", dir, " has no index.html"));
  }
  return files;
}

// SetBody sets the response body through a content provider of known length. httplib compresses
// plain bodies whenever the client accepts it, with Brotli at its default quality 11: seconds of
// CPU for a year of rates (~5 MB of JSON), far beyond the latency budget. A provider of known
// length is sent as is. (A reverse proxy in front may compress with cheaper settings.)
void SetBody(httplib::Response& response, std::string body, const std::string& content_type) {
  auto data = std::make_shared<const std::string>(std::move(body));
  response.set_content_provider(
      data->size(), content_type, [data](size_t offset, size_t length, httplib::DataSink& sink) {
        if (offset < data->size()) {
          sink.write(data->data() + offset, std::min(length, data->size() - offset));
        }
        return true;
      });
}

absl::Status CheckReadable(const std::string& what, const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(what, " ", path, " cannot be read"));
  return absl::OkStatus();
}

// Query holds a request's query parameters and refuses unknown ones.
class Query {
 public:
  explicit Query(const httplib::Request& request) : request_(request) {}

  // Allow fails with INVALID_ARGUMENT when a parameter outside `names` is present.
  absl::Status Allow(std::initializer_list<absl::string_view> names) const {
    absl::flat_hash_set<absl::string_view> allowed(names.begin(), names.end());
    for (const auto& [name, value] : request_.params) {
      if (!allowed.contains(name)) {
        return absl::InvalidArgumentError(absl::StrCat("unknown query parameter '", name,
                                                       "'; allowed: ", absl::StrJoin(names, ", ")));
      }
    }
    return absl::OkStatus();
  }
  // Get returns the single value of `name` ("" when absent); INVALID_ARGUMENT when repeated.
  absl::StatusOr<std::string> Get(const std::string& name) const {
    const size_t count = request_.get_param_value_count(name);
    if (count > 1) {
      return absl::InvalidArgumentError(absl::StrCat("query parameter '", name, "' is repeated"));
    }
    return count == 0 ? std::string() : request_.get_param_value(name);
  }
  std::vector<std::string> GetAll(const std::string& name) const {
    std::vector<std::string> values;
    for (size_t i = 0; i < request_.get_param_value_count(name); ++i) {
      values.push_back(request_.get_param_value(name, i));
    }
    return values;
  }

 private:
  const httplib::Request& request_;
};

absl::StatusOr<bool> ParseBool(const std::string& name, const std::string& value, bool dflt) {
  if (value.empty()) return dflt;
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  return absl::InvalidArgumentError(
      absl::StrCat("query parameter '", name, "' must be true or false, got '", value, "'"));
}

absl::StatusOr<v1::RatesRequest> ParseRatesRequest(const Query& query) {
  if (absl::Status s = query.Allow(
          {"from", "to", "group_by", "key", "product", "channel", "major_version", "per_day"});
      !s.ok()) {
    return s;
  }
  v1::RatesRequest request;
  absl::StatusOr<std::string> from = query.Get("from");
  if (!from.ok()) return from.status();
  absl::StatusOr<std::string> to = query.Get("to");
  if (!to.ok()) return to.status();
  if (from->empty() || to->empty()) {
    return absl::InvalidArgumentError("query parameters 'from' and 'to' (YYYY-MM-DD) are required");
  }
  request.set_from_day(*from);
  request.set_to_day(*to);
  absl::StatusOr<std::string> group_by = query.Get("group_by");
  if (!group_by.ok()) return group_by.status();
  const std::string group = absl::AsciiStrToLower(*group_by);
  if (group.empty() || group == "organization" || group == "group_by_organization") {
    request.set_group_by(v1::GROUP_BY_ORGANIZATION);
  } else if (group == "pinset" || group == "group_by_pinset") {
    request.set_group_by(v1::GROUP_BY_PINSET);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "query parameter 'group_by' must be organization or pinset, got '", *group_by, "'"));
  }
  for (const std::string& key : query.GetAll("key")) request.add_keys(key);
  absl::StatusOr<std::string> product = query.Get("product");
  if (!product.ok()) return product.status();
  request.mutable_filter()->set_product(*product);
  absl::StatusOr<std::string> channel = query.Get("channel");
  if (!channel.ok()) return channel.status();
  request.mutable_filter()->set_channel(*channel);
  absl::StatusOr<std::string> major = query.Get("major_version");
  if (!major.ok()) return major.status();
  if (!major->empty()) {
    uint32_t version = 0;
    if (!absl::SimpleAtoi(*major, &version)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "query parameter 'major_version' must be a non-negative integer, got '", *major, "'"));
    }
    request.mutable_filter()->set_major_version(version);
  }
  absl::StatusOr<std::string> per_day_text = query.Get("per_day");
  if (!per_day_text.ok()) return per_day_text.status();
  absl::StatusOr<bool> per_day = ParseBool("per_day", *per_day_text, true);
  if (!per_day.ok()) return per_day.status();
  request.set_per_day(*per_day);
  return request;
}

// ParseDayRange reads from/to/organization for events and alerts.
absl::Status ParseDayRange(const Query& query, std::string* from, std::string* to,
                           std::string* organization) {
  if (absl::Status s = query.Allow({"from", "to", "organization"}); !s.ok()) return s;
  for (auto [name, out] : {std::pair<const char*, std::string*>{"from", from},
                           {"to", to},
                           {"organization", organization}}) {
    absl::StatusOr<std::string> value = query.Get(name);
    if (!value.ok()) return value.status();
    *out = *std::move(value);
  }
  return absl::OkStatus();
}

class HttpGatewayImpl final : public HttpGateway {
 public:
  HttpGatewayImpl(Backend* backend, const TokenStore* tokens, MetricsRegistry* metrics,
                  absl::flat_hash_map<std::string, StaticFile> files)
      : backend_(backend), tokens_(tokens), files_(std::move(files)) {
    if (metrics != nullptr) {
      responses_ = metrics->AddLabeledCounter(
          "pinning_http_responses_total", "HTTP responses of the gateway, by status.", "status");
      api_latency_ =
          metrics->AddHistogram("pinning_http_api_latency_seconds",
                                "Time to answer an /api/ request (auth, query, JSON), seconds.",
                                ExponentialBuckets(0.0005, 2, 16));
    }
  }
  ~HttpGatewayImpl() override { Shutdown(); }

  absl::Status Init(const HttpOptions& options);
  int port() const override { return port_; }
  std::string address() const override { return address_; }
  void Shutdown() override;

 private:
  void Handle(const httplib::Request& request, httplib::Response& response);
  void HandleApi(const httplib::Request& request, httplib::Response& response);
  absl::StatusOr<std::string> Api(absl::string_view route, const Query& query);
  void SendError(httplib::Response& response, const absl::Status& status);

  Backend* const backend_;
  const TokenStore* const tokens_;
  const absl::flat_hash_map<std::string, StaticFile> files_;
  LabeledCounter* responses_ = nullptr;
  Histogram* api_latency_ = nullptr;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
  int port_ = 0;
  std::string address_;
  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

absl::Status HttpGatewayImpl::Init(const HttpOptions& options) {
  if (options.threads < 1) return absl::InvalidArgumentError("http threads must be >= 1");
  const size_t colon = options.listen_address.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(options.listen_address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("http listen address '", options.listen_address, "' is not host:port"));
  }
  std::string host = options.listen_address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }

  if (options.insecure) {
    if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
      return absl::InvalidArgumentError("http insecure contradicts tls_cert_file/tls_key_file");
    }
    server_ = std::make_unique<httplib::Server>();
  } else {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      return absl::InvalidArgumentError(
          "http tls_cert_file and tls_key_file are required (or insecure, for tests and "
          "development)");
    }
    if (absl::Status s = CheckReadable("http tls_cert_file", options.tls_cert_file); !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckReadable("http tls_key_file", options.tls_key_file); !s.ok()) {
      return s;
    }
    server_ = std::make_unique<httplib::SSLServer>(options.tls_cert_file.c_str(),
                                                   options.tls_key_file.c_str());
  }
  if (!server_->is_valid()) {
    return absl::InvalidArgumentError("http TLS certificate or key cannot be loaded");
  }
  const int threads = options.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  const int64_t timeout_us = absl::ToInt64Microseconds(options.io_timeout);
  server_->set_read_timeout(timeout_us / 1000000, timeout_us % 1000000);
  server_->set_write_timeout(timeout_us / 1000000, timeout_us % 1000000);
  server_->set_payload_max_length(64 << 10);
  server_->set_keep_alive_max_count(100);
  server_->set_keep_alive_timeout(
      std::max<time_t>(1, absl::ToInt64Seconds(options.keep_alive_timeout)));
  // httplib's default also sets SO_REUSEPORT, which would let a second process bind the same port
  // and take part of the traffic; a server wants only SO_REUSEADDR.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  auto handler = [this](const httplib::Request& request, httplib::Response& response) {
    Handle(request, response);
  };
  auto not_allowed = [this](const httplib::Request& request, httplib::Response& response) {
    response.set_header("Allow", "GET");
    SendError(response, absl::UnimplementedError(
                            absl::StrCat("method ", request.method, " is not allowed; use GET")));
    response.status = 405;
  };
  server_->Get(".*", handler);
  server_->Post(".*", not_allowed);
  server_->Put(".*", not_allowed);
  server_->Patch(".*", not_allowed);
  server_->Delete(".*", not_allowed);
  server_->Options(".*", not_allowed);

  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
  } else if (server_->bind_to_port(host, port)) {
    port_ = port;
  }
  if (port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen_address));
  }
  address_ = absl::StrCat(options.listen_address.substr(0, colon), ":", port_);
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listen_returned_ = true;
  });
  return absl::OkStatus();
}

void HttpGatewayImpl::Shutdown() {
  absl::MutexLock lock(&shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  if (thread_.joinable()) {
    // httplib's stop() does nothing before the listening loop has started, which would leave the
    // loop running forever: wait until it runs (or has already ended).
    while (!server_->is_running() && !listen_returned_) absl::SleepFor(absl::Milliseconds(1));
    server_->stop();
    thread_.join();
  }
}

void HttpGatewayImpl::SendError(httplib::Response& response, const absl::Status& status) {
  response.status = HttpStatusFromCode(status.code());
  if (status.code() == absl::StatusCode::kUnauthenticated) {
    response.set_header("WWW-Authenticate", "Bearer");
  }
  SetBody(response, ErrorJson(status), kJson);
}

void HttpGatewayImpl::Handle(const httplib::Request& request, httplib::Response& response) {
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("Referrer-Policy", "no-referrer");
  const std::string& path = request.path;
  if (absl::StartsWith(path, "/api/")) {
    HandleApi(request, response);
  } else if (path == "/healthz") {
    const bool healthy = backend_->Healthy();
    v1::Health health;
    health.set_status(healthy ? "SERVING" : "NOT_SERVING");
    response.status = healthy ? 200 : 503;
    response.set_header("Cache-Control", "no-store");
    SetBody(response, ProtoToJson(health), kJson);
  } else if (path == "/metrics") {
    response.set_header("Cache-Control", "no-store");
    SetBody(response, backend_->MetricsText(), "text/plain; version=0.0.4; charset=utf-8");
  } else {
    const std::string name = path == "/" ? "index.html" : path.substr(1);
    auto it = files_.find(name);
    if (it == files_.end()) {
      SendError(response,
                absl::NotFoundError(
                    files_.empty() ? "no dashboard: the aggregator was started without its files "
                                     "(see --dashboard_dir)"
                                   : absl::StrCat("no such page: ", path)));
    } else {
      response.set_header("Cache-Control", "no-cache");
      if (name == "index.html") {
        response.set_header("Content-Security-Policy",
                            "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                            "img-src 'self' data:; frame-ancestors 'none'");
        response.set_header("X-Frame-Options", "DENY");
      }
      SetBody(response, it->second.body, it->second.content_type);
    }
  }
  if (responses_ != nullptr) responses_->Increment(absl::StrCat(response.status));
}

void HttpGatewayImpl::HandleApi(const httplib::Request& request, httplib::Response& response) {
  const absl::Time start = absl::Now();
  response.set_header("Cache-Control", "no-store");
  absl::StatusOr<Principal> who =
      tokens_->Authorize(request.get_header_value("Authorization"), Role::kReader);
  absl::StatusOr<std::string> body = who.ok() ? Api(request.path, Query(request)) : who.status();
  if (body.ok()) {
    response.status = 200;
    SetBody(response, *std::move(body), kJson);
  } else {
    SendError(response, body.status());
  }
  if (api_latency_ != nullptr) api_latency_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
}

absl::StatusOr<std::string> HttpGatewayImpl::Api(absl::string_view route, const Query& query) {
  if (route == "/api/v1/rates") {
    absl::StatusOr<v1::RatesRequest> request = ParseRatesRequest(query);
    if (!request.ok()) return request.status();
    return backend_->RatesJson(*request);
  }
  if (route == "/api/v1/catalog") {
    if (absl::Status s = query.Allow({"version"}); !s.ok()) return s;
    v1::CatalogRequest request;
    absl::StatusOr<std::string> version = query.Get("version");
    if (!version.ok()) return version.status();
    request.set_version(*version);
    absl::StatusOr<v1::Catalog> catalog = backend_->Catalog(request);
    if (!catalog.ok()) return catalog.status();
    return ProtoToJson(*catalog);
  }
  if (route == "/api/v1/params") {
    if (absl::Status s = query.Allow({}); !s.ok()) return s;
    absl::StatusOr<v1::ListParamsResponse> params = backend_->ListParams();
    if (!params.ok()) return params.status();
    return ProtoToJson(*params);
  }
  if (route == "/api/v1/privacy") {
    if (absl::Status s = query.Allow({}); !s.ok()) return s;
    absl::StatusOr<v1::PrivacySummary> privacy = backend_->Privacy();
    if (!privacy.ok()) return privacy.status();
    return ProtoToJson(*privacy);
  }
  if (route == "/api/v1/events") {
    v1::EventsRequest request;
    if (absl::Status s = ParseDayRange(query, request.mutable_from_day(), request.mutable_to_day(),
                                       request.mutable_organization());
        !s.ok()) {
      return s;
    }
    absl::StatusOr<v1::EventsResponse> events = backend_->Events(request);
    if (!events.ok()) return events.status();
    return ProtoToJson(*events);
  }
  if (route == "/api/v1/alerts") {
    v1::AlertsRequest request;
    if (absl::Status s = ParseDayRange(query, request.mutable_from_day(), request.mutable_to_day(),
                                       request.mutable_organization());
        !s.ok()) {
      return s;
    }
    absl::StatusOr<v1::AlertsResponse> alerts = backend_->Alerts(request);
    if (!alerts.ok()) return alerts.status();
    return ProtoToJson(*alerts);
  }
  return absl::NotFoundError(absl::StrCat("no such API: ", route));
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpGateway>> HttpGateway::Start(const HttpOptions& options,
                                                                Backend* backend,
                                                                const TokenStore* tokens,
                                                                MetricsRegistry* metrics) {
  if (backend == nullptr || tokens == nullptr) {
    return absl::InvalidArgumentError("http gateway needs a backend and a token store");
  }
  absl::StatusOr<absl::flat_hash_map<std::string, StaticFile>> files =
      LoadDashboard(options.dashboard_dir);
  if (!files.ok()) return files.status();
  auto gateway = std::make_unique<HttpGatewayImpl>(backend, tokens, metrics, *std::move(files));
  if (absl::Status s = gateway->Init(options); !s.ok()) return s;
  return gateway;
}

}  // namespace pinning::aggregator
