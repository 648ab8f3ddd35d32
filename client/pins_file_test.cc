#include "client/pins_file.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/file_io.h"
#include "client/testing/test_certs.h"
#include "client/testing/test_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::client {
namespace {

using ::testing::HasSubstr;

constexpr char kZeroPin[] = "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

std::string PinsPath() {
  absl::StatusOr<std::string> dir = testing::PinListsDir();
  EXPECT_TRUE(dir.ok()) << dir.status();
  return dir.ok() ? absl::StrCat(*dir, "/chromium/transport_security_state_static.pins") : "";
}

// The openssl command's SPKI hash of the PEM block that follows `name` in the .pins file,
// extracted with awk: independent of the parser under test.
std::string OpensslHashOfEntry(const std::string& path, const std::string& name) {
  const std::string block_path = testing::WriteTempFile("entry.pem", "");
  const std::string extract =
      absl::StrCat("awk '$0 == \"", name, "\" {f=1; next} f && /^-----BEGIN/ {p=1} p {print} ",
                   "p && /^-----END/ {exit}' '", path, "' > '", block_path, "'");
  EXPECT_TRUE(testing::RunShellCommand(extract).ok());
  absl::StatusOr<std::string> pem = ReadFileToString(block_path);
  EXPECT_TRUE(pem.ok());
  const bool is_key = pem.ok() && absl::StrContains(*pem, "BEGIN PUBLIC KEY");
  absl::StatusOr<std::string> hex = testing::OpensslSpkiSha256Hex(block_path, is_key);
  EXPECT_TRUE(hex.ok()) << name << ": " << hex.status();
  return hex.ok() ? *hex : "";
}

TEST(PinsFileTest, ParsesChromiumPinsFile) {
  const std::string path = PinsPath();
  ASSERT_FALSE(path.empty());
  absl::StatusOr<std::string> text = ReadFileToString(path);
  ASSERT_TRUE(text.ok()) << text.status();
  absl::StatusOr<PinsFile> pins =
      ParsePinsFile(*text, "transport_security_state_static.pins", nullptr);
  ASSERT_TRUE(pins.ok()) << pins.status();
  // Counted with grep: 28 "BEGIN CERTIFICATE" and 3 "BEGIN PUBLIC KEY" lines, one of each in
  // the header comment; one "sha256/" line.
  EXPECT_EQ(pins->certificates, 27);
  EXPECT_EQ(pins->public_keys, 2);
  EXPECT_EQ(pins->sha256_hashes, 1);
  EXPECT_EQ(pins->store_names, 0);
  EXPECT_EQ(pins->dictionary.size(), 30u);
  ASSERT_TRUE(pins->timestamp.has_value());
  EXPECT_EQ(*pins->timestamp, 1723121786);

  absl::StatusOr<std::vector<SpkiHash>> test_spki = pins->dictionary.Resolve("TestSPKI");
  ASSERT_TRUE(test_spki.ok());
  ASSERT_EQ(test_spki->size(), 1u);
  EXPECT_EQ(SpkiHashToHex(test_spki->front()), std::string(64, '0'));

  // Every PEM entry hashes as the openssl command says.
  int compared = 0;
  for (const std::string& name : pins->dictionary.Names()) {
    if (name == "TestSPKI") continue;
    absl::StatusOr<std::vector<SpkiHash>> got = pins->dictionary.Resolve(name);
    ASSERT_TRUE(got.ok()) << name;
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ(SpkiHashToHex(got->front()), OpensslHashOfEntry(path, name)) << name;
    ++compared;
  }
  EXPECT_EQ(compared, 29);
  EXPECT_FALSE(pins->dictionary.Resolve("Tor1").ok());
  EXPECT_FALSE(pins->dictionary.Resolve("RapidSSL").ok());
}

TEST(PinsFileTest, ParsesAllValueKindsWithCommentsAndCrlf) {
  const testing::TestKey key = testing::TestKey::GenerateEc();
  const std::string cert_der = testing::MakeCertificateDer(
      {.subject_cn = "C", .subject_key = &key, .issuer_cn = "C", .issuer_key = &key});
  const std::string text = absl::StrCat("# comment\n\nPinsListTimestamp\n42\n\nZero\r\n", kZeroPin,
                                        "\r\n\nCert\n", testing::DerCertificateToPem(cert_der),
                                        "\n# between\nKey\n", key.PublicKeyPem());
  absl::StatusOr<PinsFile> pins = ParsePinsFile(text, "t.pins", nullptr);
  ASSERT_TRUE(pins.ok()) << pins.status();
  EXPECT_EQ(*pins->timestamp, 42);
  EXPECT_EQ(pins->certificates, 1);
  EXPECT_EQ(pins->public_keys, 1);
  EXPECT_EQ(pins->sha256_hashes, 1);
  // The certificate and the bare key are the same key, so the same pin.
  EXPECT_EQ(*pins->dictionary.Resolve("Cert"), *pins->dictionary.Resolve("Key"));
  EXPECT_EQ(SpkiHashToHex(pins->dictionary.Resolve("Zero")->front()), std::string(64, '0'));
}

TEST(PinsFileTest, StoreNamesResolveThroughTheStore) {
  SpkiDictionary store("fake store");
  SpkiHash h{};
  h.fill(7);
  ASSERT_TRUE(store.Add("Some Root CA", {h}).ok());
  const std::string text = "A\nstore:Some Root CA\n\nB\nstore: Missing Root\n";
  EXPECT_THAT(ParsePinsFile(text, "d.pins", nullptr).status().message(),
              HasSubstr("d.pins:2: store: values are not allowed"));
  absl::StatusOr<PinsFile> pins = ParsePinsFile(text, "d.pins", &store);
  ASSERT_TRUE(pins.ok()) << pins.status();
  EXPECT_EQ(pins->store_names, 2);
  EXPECT_EQ(pins->dictionary.Resolve("A")->front(), h);
  absl::StatusOr<std::vector<SpkiHash>> b = pins->dictionary.Resolve("B");
  EXPECT_EQ(b.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(b.status().message(), HasSubstr("certificate \"Missing Root\""));
  EXPECT_THAT(b.status().message(), HasSubstr("line 4"));
}

TEST(PinsFileTest, ReportsErrorsWithLineNumbers) {
  struct Case {
    std::string text;
    std::string error;
  };
  const Case cases[] = {
      {"A\n", "t.pins:1: \"A\" has no value"},
      {"A\n\nB\n", "t.pins:2: \"A\" must be followed by"},
      {"A\n-----BEGIN CERTIFICATE-----\nAAAA\n", "t.pins:2: PEM block of \"A\" not closed"},
      {"A\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "t.pins:2: \"A\""},
      {"A\nsha256/abc\n", "t.pins:2:"},
      {"bad name\nsha256/x\n", "t.pins:1: invalid SPKI name"},
      {"PinsListTimestamp\nsoon\n", "t.pins:2: PinsListTimestamp"},
      {absl::StrCat("A\n", kZeroPin, "\nA\n", kZeroPin, "\n"), "defined twice"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<PinsFile> pins = ParsePinsFile(c.text, "t.pins", nullptr);
    ASSERT_FALSE(pins.ok()) << c.text;
    EXPECT_THAT(pins.status().message(), HasSubstr(c.error)) << c.text;
  }
}

}  // namespace
}  // namespace pinning::client
