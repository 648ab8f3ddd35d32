#include "aggregator/alerts/alerts_service.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

constexpr DayNumber kToday = 20000;
constexpr char kTokens[] =
    "reader-token-0123456789 reader alice\n"
    "admin-token-0123456789 privacy-admin bob\n";

// A monitor holding one alert for "Acorn Bank" yesterday.
std::unique_ptr<AlertMonitor> MonitorWithOneAlert(MetricsRegistry* metrics) {
  RatesFn rates = [](const v1::RatesRequest& request) -> absl::StatusOr<v1::RatesResponse> {
    v1::RatesResponse response;
    v1::RateSeries* series = response.add_series();
    series->set_key("Acorn Bank");
    if (!request.per_day()) {
      v1::RatePoint* p = series->add_points();
      p->set_sufficient(true);
      p->set_rate(0.01);
      p->set_std_error(0.001);
      p->set_pings(7000);
      return response;
    }
    for (DayNumber d = *ParseDay(request.from_day()); d <= *ParseDay(request.to_day()); ++d) {
      v1::RatePoint* p = series->add_points();
      p->set_day(FormatDay(d));
      p->set_sufficient(true);
      p->set_rate(d == kToday - 1 ? 0.5 : 0.01);
      p->set_std_error(0.005);
      p->set_pings(1000);
    }
    return response;
  };
  AlertMonitorOptions options;
  options.now = [] { return absl::FromUnixSeconds(int64_t{kToday} * 86400); };
  auto monitor = AlertMonitor::Create(options, rates, metrics);
  EXPECT_TRUE(monitor.ok());
  EXPECT_TRUE((*monitor)->EvaluateOnce().ok());
  return *std::move(monitor);
}

class AlertsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    monitor_ = MonitorWithOneAlert(&metrics_);
    tokens_ = std::make_unique<TokenStore>(*TokenStore::Parse(kTokens));
    service_ = std::make_unique<AlertsService>(tokens_.get(), monitor_.get());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::Alerts::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override { server_->Shutdown(); }

  grpc::Status List(const std::string& token, const v1::AlertsRequest& request,
                    v1::AlertsResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    return stub_->List(&context, request, response);
  }

  MetricsRegistry metrics_;
  std::unique_ptr<AlertMonitor> monitor_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<AlertsService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Alerts::Stub> stub_;
  int port_ = 0;
};

TEST_F(AlertsServiceTest, ReaderListsAlerts) {
  v1::AlertsResponse response;
  grpc::Status status = List("reader-token-0123456789", {}, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.alerts_size(), 1);
  EXPECT_EQ(response.alerts(0).organization(), "Acorn Bank");
  EXPECT_EQ(response.alerts(0).day(), FormatDay(kToday - 1));
  EXPECT_TRUE(List("admin-token-0123456789", {}, &response).ok());
}

TEST_F(AlertsServiceTest, RefusesMissingOrUnknownTokensAndBadDays) {
  v1::AlertsResponse response;
  EXPECT_EQ(List("", {}, &response).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(List("not-a-known-token-at-all", {}, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::AlertsRequest bad;
  bad.set_from_day("2024-13-40");
  EXPECT_EQ(List("reader-token-0123456789", bad, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace pinning::aggregator
