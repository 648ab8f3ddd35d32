#include "aggregator/registry/catalog_version.h"

#include <openssl/sha.h>

#include <string>

#include "absl/strings/escaping.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

v1::Catalog Sample() {
  v1::Catalog catalog;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
    pinsets {
      index: 0
      name: "google"
      organization: "Google"
      mode: PIN_MODE_ENFORCE
      spki_sha256: "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01"
    }
    pinsets {
      index: 1
      name: "tor"
      organization: "Tor"
      mode: PIN_MODE_TEST
      spki_sha256: "\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02"
    }
    hosts { host: "google.com" include_subdomains: true pinset_index: 0 }
    hosts { host: "torproject.org" pinset_index: 1 }
    source: "a.json"
  )pb", &catalog));
  return catalog;
}

std::string Sha256Hex(const std::string& bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

// The expected version is computed here from the documented canonical form (client/catalog.h,
// format 1), written out by hand for the sample catalog.
TEST(CatalogVersionTest, IsSha256OfTheDocumentedCanonicalForm) {
  const std::string canonical = std::string("pinning-catalog-v1\n") +
                                "pinsets 2\n"
                                "pinset 0 6:google 6:Google ENFORCE\n"
                                "spki 1\n"
                                "0101010101010101010101010101010101010101010101010101010101010101\n"
                                "bad 0\n"
                                "pinset 1 3:tor 3:Tor TEST\n"
                                "spki 1\n"
                                "0202020202020202020202020202020202020202020202020202020202020202\n"
                                "bad 0\n"
                                "hosts 2\n"
                                "host 10:google.com 1 0 UNSPECIFIED\n"
                                "host 14:torproject.org 0 1 UNSPECIFIED\n";
  EXPECT_EQ(CatalogVersion(Sample()), Sha256Hex(canonical));
}

TEST(CatalogVersionTest, IgnoresHostOrderSourceAndVersionField) {
  v1::Catalog a = Sample();
  v1::Catalog b = Sample();
  b.mutable_hosts()->SwapElements(0, 1);
  b.set_source("other.json");
  b.set_version("stale");
  EXPECT_EQ(CatalogVersion(a), CatalogVersion(b));
}

TEST(CatalogVersionTest, ChangesWithContent) {
  v1::Catalog a = Sample();
  v1::Catalog b = Sample();
  b.mutable_pinsets(1)->set_mode(v1::PIN_MODE_ENFORCE);
  EXPECT_NE(CatalogVersion(a), CatalogVersion(b));
}

TEST(CatalogVersionTest, ValidationFollowsTheClients) {
  v1::Catalog catalog = Sample();
  EXPECT_EQ(ValidateCatalogForClients(catalog).code(), absl::StatusCode::kInvalidArgument);
  catalog.set_version(CatalogVersion(catalog));
  EXPECT_TRUE(ValidateCatalogForClients(catalog).ok());
  v1::Catalog no_hash = catalog;
  no_hash.mutable_pinsets(0)->clear_spki_sha256();
  no_hash.set_version(CatalogVersion(no_hash));
  EXPECT_EQ(ValidateCatalogForClients(no_hash).code(), absl::StatusCode::kInvalidArgument);
  v1::Catalog upper_host = catalog;
  upper_host.mutable_hosts(0)->set_host("Google.com");
  upper_host.set_version(CatalogVersion(upper_host));
  EXPECT_EQ(ValidateCatalogForClients(upper_host).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pinning::aggregator
