#include "aggregator/http/http_gateway.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "aggregator/http/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace pinning::aggregator {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kReader[] = "reader-token-0123456789";
constexpr char kAdmin[] = "admin-token-0123456789";
constexpr char kTokens[] =
    "reader-token-0123456789 reader alice\n"
    "admin-token-0123456789 privacy-admin bob\n";

// FakeBackend records the last request and answers with canned data or a configured error.
class FakeBackend final : public Backend {
 public:
  absl::StatusOr<v1::RatesResponse> Rates(const v1::RatesRequest& request) override {
    absl::MutexLock lock(&mu_);
    last_rates_ = request;
    if (!error_.ok()) return error_;
    v1::RatesResponse response;
    v1::RateSeries* series = response.add_series();
    series->set_key("Acorn Bank");
    series->set_organization("Acorn Bank");
    v1::RatePoint* point = series->add_points();
    point->set_day(request.from_day());
    point->set_sufficient(true);
    point->set_rate(0.0125);
    point->set_ci_low(0.01);
    point->set_ci_high(0.015);
    point->set_pings(4321);
    return response;
  }
  absl::StatusOr<v1::Catalog> Catalog(const v1::CatalogRequest& request) override {
    if (request.version() == "missing") return absl::NotFoundError("no catalog 'missing'");
    v1::Catalog catalog;
    catalog.set_version(request.version().empty() ? "current" : request.version());
    catalog.add_pinsets()->set_name("acorn-bank");
    return catalog;
  }
  absl::StatusOr<v1::EventsResponse> Events(const v1::EventsRequest& request) override {
    absl::MutexLock lock(&mu_);
    last_events_ = request;
    v1::EventsResponse response;
    v1::RolloutEvent* event = response.add_events();
    event->set_day("2024-03-02");
    event->set_kind(v1::EVENT_KIND_PROMOTE_TO_ENFORCE);
    event->set_organization("Acorn Bank");
    return response;
  }
  absl::StatusOr<v1::ListParamsResponse> ListParams() override {
    v1::ListParamsResponse response;
    response.add_versions()->set_version(3);
    response.mutable_versions(0)->set_epsilon_one(1.5);
    return response;
  }
  absl::StatusOr<v1::AlertsResponse> Alerts(const v1::AlertsRequest& request) override {
    absl::MutexLock lock(&mu_);
    last_alerts_ = request;
    v1::AlertsResponse response;
    response.add_alerts()->set_organization("Umbra Security");
    return response;
  }
  absl::StatusOr<v1::PrivacySummary> Privacy() override {
    return absl::FailedPreconditionError("no parameters published yet");
  }
  std::string MetricsText() override { return "pinning_ingest_accepted_total 7\n"; }
  bool Healthy() override { return healthy_; }

  absl::Mutex mu_;
  v1::RatesRequest last_rates_;
  v1::EventsRequest last_events_;
  v1::AlertsRequest last_alerts_;
  absl::Status error_;
  std::atomic<bool> healthy_{true};
};

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/" + name; }

class HttpGatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = std::make_unique<TokenStore>(*TokenStore::Parse(kTokens));
    const std::string dir = TempPath("dashboard");
    ::mkdir(dir.c_str(), 0700);
    std::ofstream(dir + "/index.html") << "<!doctype html><title>Pinning</title>";
    std::ofstream(dir + "/app.js") << "console.log('hi');";
    HttpOptions options;
    options.insecure = true;
    options.dashboard_dir = dir;
    auto gateway = HttpGateway::Start(options, &backend_, tokens_.get(), &metrics_);
    ASSERT_TRUE(gateway.ok()) << gateway.status();
    gateway_ = *std::move(gateway);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", gateway_->port());
  }
  void TearDown() override { gateway_->Shutdown(); }

  httplib::Result Get(const std::string& path, const std::string& token = kReader) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client_->Get(path, headers);
  }
  // ExpectError checks the status and the error body's code.
  void ExpectError(const httplib::Result& result, int status, const std::string& code) {
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, status) << result->body;
    v1::ErrorBody body;
    ASSERT_TRUE(JsonToProto(result->body, &body).ok()) << result->body;
    EXPECT_EQ(body.error().code(), code);
    EXPECT_FALSE(body.error().message().empty());
    EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
  }

  FakeBackend backend_;
  MetricsRegistry metrics_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<HttpGateway> gateway_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpGatewayTest, HealthzFollowsTheBackend) {
  auto ok = Get("/healthz", "");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "{\"status\":\"SERVING\"}");
  backend_.healthy_ = false;
  auto down = Get("/healthz", "");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 503);
  EXPECT_EQ(down->body, "{\"status\":\"NOT_SERVING\"}");
}

TEST_F(HttpGatewayTest, MetricsAreOpenAndIncludeTheGatewayOwn) {
  ASSERT_TRUE(Get("/api/v1/params"));
  auto metrics = Get("/metrics", "");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->body, "pinning_ingest_accepted_total 7\n");
  EXPECT_THAT(metrics->get_header_value("Content-Type"), HasSubstr("version=0.0.4"));
  // The gateway's metrics live in the registry it was given.
  const std::string text = metrics_.ExportPrometheus();
  EXPECT_THAT(text, HasSubstr("pinning_http_responses_total{status=\"200\"}"));
  EXPECT_THAT(text, HasSubstr("pinning_http_api_latency_seconds_count 1"));
}

TEST_F(HttpGatewayTest, RatesParsesEveryParameter) {
  auto result =
      Get("/api/v1/rates?from=2024-03-01&to=2024-03-31&group_by=pinset&key=acorn-bank&key=b%20c"
          "&product=chrome&channel=beta&major_version=131&per_day=false");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(result->get_header_value("Cache-Control"), "no-store");
  v1::RatesResponse rates;
  ASSERT_TRUE(JsonToProto(result->body, &rates).ok()) << result->body;
  ASSERT_EQ(rates.series_size(), 1);
  EXPECT_EQ(rates.series(0).points(0).pings(), 4321u);
  EXPECT_DOUBLE_EQ(rates.series(0).points(0).rate(), 0.0125);
  absl::MutexLock lock(&backend_.mu_);
  const v1::RatesRequest& request = backend_.last_rates_;
  EXPECT_EQ(request.from_day(), "2024-03-01");
  EXPECT_EQ(request.to_day(), "2024-03-31");
  EXPECT_EQ(request.group_by(), v1::GROUP_BY_PINSET);
  EXPECT_THAT(request.keys(), ElementsAre("acorn-bank", "b c"));
  EXPECT_EQ(request.filter().product(), "chrome");
  EXPECT_EQ(request.filter().channel(), "beta");
  EXPECT_EQ(request.filter().major_version(), 131u);
  EXPECT_FALSE(request.per_day());
}

TEST_F(HttpGatewayTest, RatesDefaultsToOrganizationsPerDay) {
  auto result = Get("/api/v1/rates?from=2024-03-01&to=2024-03-02");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  absl::MutexLock lock(&backend_.mu_);
  EXPECT_EQ(backend_.last_rates_.group_by(), v1::GROUP_BY_ORGANIZATION);
  EXPECT_TRUE(backend_.last_rates_.per_day());
}

TEST_F(HttpGatewayTest, BadParametersAreInvalidArgument) {
  for (const char* path : {
           "/api/v1/rates?to=2024-03-01",                             // missing from
           "/api/v1/rates?from=2024-03-01&to=2024-03-02&group_by=x",  // bad group_by
           "/api/v1/rates?from=2024-03-01&to=2024-03-02&major_version=-1",
           "/api/v1/rates?from=2024-03-01&to=2024-03-02&per_day=maybe",
           "/api/v1/rates?from=2024-03-01&to=2024-03-02&form=typo",        // unknown parameter
           "/api/v1/rates?from=2024-03-01&from=2024-03-02&to=2024-03-02",  // repeated
           "/api/v1/params?x=1",
           "/api/v1/events?org=Acorn",
       }) {
    SCOPED_TRACE(path);
    ExpectError(Get(path), 400, "INVALID_ARGUMENT");
  }
}

TEST_F(HttpGatewayTest, BackendErrorsKeepTheirCodes) {
  ExpectError(Get("/api/v1/catalog?version=missing"), 404, "NOT_FOUND");
  ExpectError(Get("/api/v1/privacy"), 400, "FAILED_PRECONDITION");
  {
    absl::MutexLock lock(&backend_.mu_);
    backend_.error_ = absl::UnavailableError("store down");
  }
  ExpectError(Get("/api/v1/rates?from=2024-03-01&to=2024-03-02"), 503, "UNAVAILABLE");
}

TEST_F(HttpGatewayTest, ApiNeedsAReaderToken) {
  auto missing = Get("/api/v1/params", "");
  ExpectError(missing, 401, "UNAUTHENTICATED");
  EXPECT_EQ(missing->get_header_value("WWW-Authenticate"), "Bearer");
  ExpectError(Get("/api/v1/params", "wrong-token-0123456789"), 401, "UNAUTHENTICATED");
  httplib::Headers basic = {{"Authorization", std::string("Basic ") + kReader}};
  ExpectError(client_->Get("/api/v1/params", basic), 401, "UNAUTHENTICATED");
  for (const char* token : {kReader, kAdmin}) {
    auto ok = Get("/api/v1/params", token);
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
    v1::ListParamsResponse params;
    ASSERT_TRUE(JsonToProto(ok->body, &params).ok());
    EXPECT_EQ(params.versions(0).version(), 3u);
  }
}

TEST_F(HttpGatewayTest, CatalogEventsAndAlerts) {
  auto catalog = Get("/api/v1/catalog");
  ASSERT_TRUE(catalog);
  EXPECT_EQ(catalog->status, 200);
  EXPECT_THAT(catalog->body, HasSubstr("\"version\":\"current\""));

  auto events = Get("/api/v1/events?from=2024-01-01&to=2024-12-31&organization=Acorn%20Bank");
  ASSERT_TRUE(events);
  EXPECT_EQ(events->status, 200);
  EXPECT_THAT(events->body, HasSubstr("EVENT_KIND_PROMOTE_TO_ENFORCE"));
  auto alerts = Get("/api/v1/alerts?organization=Umbra%20Security");
  ASSERT_TRUE(alerts);
  EXPECT_EQ(alerts->status, 200);
  v1::AlertsResponse parsed;
  ASSERT_TRUE(JsonToProto(alerts->body, &parsed).ok());
  EXPECT_EQ(parsed.alerts(0).organization(), "Umbra Security");
  absl::MutexLock lock(&backend_.mu_);
  EXPECT_EQ(backend_.last_events_.organization(), "Acorn Bank");
  EXPECT_EQ(backend_.last_events_.from_day(), "2024-01-01");
  EXPECT_EQ(backend_.last_events_.to_day(), "2024-12-31");
  EXPECT_EQ(backend_.last_alerts_.organization(), "Umbra Security");
}

TEST_F(HttpGatewayTest, UnknownRoutesAndMethods) {
  ExpectError(Get("/api/v1/nothing"), 404, "NOT_FOUND");
  ExpectError(Get("/nothing.html", ""), 404, "NOT_FOUND");
  ExpectError(Get("/../etc/passwd", ""), 404, "NOT_FOUND");
  ExpectError(Get("/%2e%2e/etc/passwd", ""), 404, "NOT_FOUND");
  auto post = client_->Post("/api/v1/rates", "{}", "application/json");
  ExpectError(post, 405, "UNIMPLEMENTED");
  EXPECT_EQ(post->get_header_value("Allow"), "GET");
}

// Bodies go out uncompressed even to clients that accept compression (httplib would otherwise
// spend seconds of CPU on Brotli quality 11 for a large JSON answer).
TEST_F(HttpGatewayTest, DoesNotCompress) {
  httplib::Headers headers = {{"Authorization", std::string("Bearer ") + kReader},
                              {"Accept-Encoding", "gzip, deflate, br"}};
  client_->set_decompress(false);
  auto result = client_->Get("/api/v1/rates?from=2024-03-01&to=2024-03-02", headers);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(result->get_header_value("Content-Encoding"), "");
  EXPECT_EQ(result->get_header_value("Content-Length"), std::to_string(result->body.size()));
  v1::RatesResponse rates;
  EXPECT_TRUE(JsonToProto(result->body, &rates).ok());
  auto index = client_->Get("/", {{"Accept-Encoding", "br"}});
  ASSERT_TRUE(index);
  EXPECT_EQ(index->get_header_value("Content-Encoding"), "");
  EXPECT_EQ(index->body, "<!doctype html><title>Pinning</title>");
}

// A page opens several keep-alive connections at once; each holds a worker while idle, so with
// too few workers the next request would wait for a keep-alive timeout.
TEST_F(HttpGatewayTest, IdleKeepAliveConnectionsDoNotStallOthers) {
  std::vector<std::unique_ptr<httplib::Client>> idle;
  for (int i = 0; i < 8; ++i) {
    auto client = std::make_unique<httplib::Client>("127.0.0.1", gateway_->port());
    client->set_keep_alive(true);
    auto result = client->Get("/healthz");
    ASSERT_TRUE(result);
    idle.push_back(std::move(client));  // the connection stays open and idle
  }
  httplib::Client fresh("127.0.0.1", gateway_->port());
  const absl::Time start = absl::Now();
  auto result = fresh.Get("/healthz");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(900));
}

TEST_F(HttpGatewayTest, ServesTheDashboardFiles) {
  auto index = Get("/", "");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->body, "<!doctype html><title>Pinning</title>");
  EXPECT_EQ(index->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_THAT(index->get_header_value("Content-Security-Policy"), HasSubstr("default-src 'self'"));
  auto js = Get("/app.js", "");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js->get_header_value("X-Content-Type-Options"), "nosniff");
}

TEST(HttpGatewayStartTest, RejectsBadOptions) {
  FakeBackend backend;
  TokenStore tokens = *TokenStore::Parse("");
  HttpOptions options;  // TLS without files
  EXPECT_EQ(HttpGateway::Start(options, &backend, &tokens).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.tls_cert_file = TempPath("nope.pem");
  options.tls_key_file = TempPath("nope.key");
  EXPECT_EQ(HttpGateway::Start(options, &backend, &tokens).status().code(),
            absl::StatusCode::kNotFound);
  options = HttpOptions();
  options.insecure = true;
  options.listen_address = "no-port";
  EXPECT_EQ(HttpGateway::Start(options, &backend, &tokens).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.listen_address = "127.0.0.1:0";
  options.dashboard_dir = TempPath("no-such-dir");
  EXPECT_EQ(HttpGateway::Start(options, &backend, &tokens).status().code(),
            absl::StatusCode::kNotFound);
  // Without a dashboard the API still works and / says why there is no page.
  options.dashboard_dir.clear();
  auto gateway = HttpGateway::Start(options, &backend, &tokens);
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  httplib::Client client("127.0.0.1", (*gateway)->port());
  auto root = client.Get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 404);
  EXPECT_THAT(root->body, HasSubstr("--dashboard_dir"));
  // A port in use is UNAVAILABLE.
  options.listen_address = (*gateway)->address();
  EXPECT_EQ(HttpGateway::Start(options, &backend, &tokens).status().code(),
            absl::StatusCode::kUnavailable);
}

// HTTPS with a certificate made by the openssl command; the client verifies it.
TEST(HttpGatewayTlsTest, ServesHttps) {
  const std::string cert = TempPath("gateway.pem");
  const std::string key = TempPath("gateway.key");
  const std::string command = absl::StrCat(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout '",
      key, "' -out '", cert, "' 2>/dev/null");
  ASSERT_EQ(std::system(command.c_str()), 0);
  FakeBackend backend;
  TokenStore tokens = *TokenStore::Parse(kTokens);
  HttpOptions options;
  options.tls_cert_file = cert;
  options.tls_key_file = key;
  auto gateway = HttpGateway::Start(options, &backend, &tokens);
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  httplib::SSLClient client("127.0.0.1", (*gateway)->port());
  client.set_ca_cert_path(cert.c_str());
  client.enable_server_certificate_verification(true);
  auto result = client.Get("/api/v1/params", {{"Authorization", std::string("Bearer ") + kReader}});
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  // A plain-HTTP client gets no answer from the TLS port.
  httplib::Client plain("127.0.0.1", (*gateway)->port());
  plain.set_read_timeout(2, 0);
  auto refused = plain.Get("/healthz");
  EXPECT_TRUE(!refused || refused->status != 200);
}

}  // namespace
}  // namespace pinning::aggregator
