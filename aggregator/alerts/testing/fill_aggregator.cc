// fill_aggregator: fills a running aggregatord with a synthetic population's pings (known rates,
// a MITM spike, rollout events) through its gRPC APIs, for demos, screenshots and browser tests.
//
//   fill_aggregator --server=127.0.0.1:8443 --ca_file=ca.pem --token_file=admin.token
//       --days=120 --clients=1500                                    (one command line)
//
// The aggregator must accept days that old (--max_age_days >= days) and the demo parameters'
// epsilons (f = 0.1, p = 0.1, q = 0.9, 16 pinsets per ping). The token (privacy-admin) is read
// from --token_file, never from the command line. Prints one line: `filled N pings ...`.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "aggregator/alerts/testing/aggregator_filler.h"
#include "grpcpp/grpcpp.h"

ABSL_FLAG(std::string, server, "127.0.0.1:8443", "aggregatord gRPC address, host:port");
ABSL_FLAG(std::string, ca_file, "", "PEM file of the CA that signed the server certificate");
ABSL_FLAG(bool, insecure, false, "plaintext gRPC (tests and development only)");
ABSL_FLAG(std::string, token_file, "", "file holding a privacy-admin token");
ABSL_FLAG(int, days, 120, "days of pings, ending today (UTC)");
ABSL_FLAG(int, clients, 1500, "simulated browsers (one ping each per day)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  using namespace pinning::aggregator;
  std::string token;
  {
    std::ifstream in(absl::GetFlag(FLAGS_token_file));
    std::stringstream text;
    text << in.rdbuf();
    token = std::string(absl::StripAsciiWhitespace(text.str()));
  }
  if (token.empty()) {
    std::cerr << "fill_aggregator: --token_file must name a file holding a privacy-admin token\n";
    return 2;
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (absl::GetFlag(FLAGS_insecure)) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    std::ifstream in(absl::GetFlag(FLAGS_ca_file));
    std::stringstream pem;
    pem << in.rdbuf();
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = pem.str();
    credentials = grpc::SslCredentials(ssl);
  }
  auto channel = grpc::CreateChannel(absl::GetFlag(FLAGS_server), credentials);

  const DayNumber today = DayFromTime(absl::Now());
  testing::FillOptions options;
  options.population = testing::DemoPopulation(today, absl::GetFlag(FLAGS_clients));
  options.first_day = today - absl::GetFlag(FLAGS_days) + 1;
  options.last_day = today;
  options.events = testing::DemoEvents(today);
  options.admin_token = token;
  absl::StatusOr<testing::FillResult> result = testing::FillAggregator(channel, options);
  if (!result.ok()) {
    std::cerr << "fill_aggregator: " << result.status() << "\n";
    return 1;
  }
  std::cout << "filled " << result->accepted << " pings (" << result->duplicates << " duplicates, "
            << result->rejected << " rejected"
            << (result->first_rejection.empty() ? "" : ": " + result->first_rejection)
            << ") with params version " << result->params_version << " and catalog "
            << result->catalog_version << std::endl;
  return result->rejected == 0 ? 0 : 1;
}
