// test_certs.h: a throw-away CA and a server certificate for TLS tests, made with OpenSSL's C API.
//
//   absl::StatusOr<TestCertificates> certs = MakeTestCertificates(testing::TempDir() + "/certs");
//   options.tls_cert_file = certs->server_cert_file;
//   options.tls_key_file = certs->server_key_file;
//   client_credentials.pem_root_certs = certs->ca_pem;
//
// The CA and the server use fresh P-256 keys. The server certificate is valid for DNS:localhost and
// IP:127.0.0.1 for one day. Each call makes new keys, so a second call gives a CA the first server
// certificate does not chain to (useful for negative tests).
#ifndef TESTS_TEST_CERTS_H_
#define TESTS_TEST_CERTS_H_

#include <string>

#include "absl/status/statusor.h"

namespace pinning::tests {

struct TestCertificates {
  std::string ca_pem;
  std::string server_cert_pem;
  std::string server_key_pem;
  // Files written in the directory given to MakeTestCertificates.
  std::string ca_file;
  std::string server_cert_file;
  std::string server_key_file;
};

// MakeTestCertificates creates `dir` if needed and writes ca.pem, server.pem and server.key in it.
absl::StatusOr<TestCertificates> MakeTestCertificates(const std::string& dir);

}  // namespace pinning::tests

#endif  // TESTS_TEST_CERTS_H_
