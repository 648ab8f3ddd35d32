// Fuzz target: the pin-list parsers (Chromium's JSON, Firefox's JSON, Chromium's .pins), which read
// files that a browser vendor's build fetches. The first byte picks the parser, the rest is the
// text. Any input must give a document or an error, never a crash; a parsed document must be
// consistent: every entry names a pinset of the document.
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "client/pin_list.h"
#include "client/pins_file.h"
#include "tools/fuzzing/fuzz_target.h"

namespace {

void CheckDocument(const pinning::client::PinListDocument& doc) {
  std::set<std::string> pinsets;
  for (const auto& p : doc.pinsets) pinsets.insert(p.name);
  for (const auto& e : doc.entries) {
    if (pinsets.count(e.pinset) == 0 || e.host.empty()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      if (auto doc = pinning::client::ParseChromiumPinList(text, "fuzz.json"); doc.ok()) {
        CheckDocument(*doc);
      }
      break;
    case 1:
      if (auto doc = pinning::client::ParseFirefoxPinList(text, "fuzz.json"); doc.ok()) {
        CheckDocument(*doc);
      }
      break;
    case 2:
      (void)pinning::client::ParsePinsFile(text, "fuzz.pins", nullptr);
      break;
  }
  return 0;
}

std::vector<std::string> pinning::fuzzing::FuzzerSeeds() {
  const std::string chromium = R"({
  // comment
  "pinsets": [
    {"name": "google", "static_spki_hashes": ["GoogleBackup2048", "GTSRootR1"],
     "bad_static_spki_hashes": ["SymantecClass3"], "report_uri": "http://r"},
    {"name": "test", "static_spki_hashes": ["TestSPKI"]}
  ],
  "entries": [
    {"name": "google.com", "include_subdomains": true, "pins": "google"},
    {"name": "pinningtest.appspot.com", "pins": "test", "test_mode": true},
    {"name": "hsts-only.example", "mode": "force-https"}
  ]
})";
  const std::string firefox = R"({
  /* Firefox */
  "chromium_data": {"cert_file_url": "x", "json_file_url": "y", "substitute_pinsets": {},
                    "production_pinsets": ["google_root_pems"], "production_domains": [],
                    "exclude_domains": []},
  "pinsets": [
    {"name": "mozilla", "sha256_hashes": ["DigiCert Global Root CA", "ISRG Root X1"]},
    {"name": "mozilla_test", "sha256_hashes": ["End Entity Test Cert"]}
  ],
  "entries": [
    {"name": "addons.mozilla.org", "include_subdomains": true, "pins": "mozilla", "id": 1},
    {"name": "test-mode.pinning.example.com", "include_subdomains": true, "pins": "mozilla_test",
     "test_mode": true}
  ]
})";
  const std::string pins =
      "# comment\n\nPinsListTimestamp\n1700000000\n\nTestSPKI\n"
      "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\nGoogleBackup2048\n"
      "sha256/vq7OyjSnqOco9nyMCDGdy77eijM=\n\n"
      "SomeKey\n-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n"
      "-----END PUBLIC KEY-----\n";
  return {std::string(1, '\0') + chromium, std::string(1, '\1') + firefox,
          std::string(1, '\2') + pins};
}
