#include "aggregator/registry/catalog_version.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "google/protobuf/text_format.h"

namespace pinning::aggregator {
namespace {

v1::Catalog Sample() {
  v1::Catalog catalog;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(R"pb(
    pinsets { index: 0 name: "google" organization: "Google" mode: PIN_MODE_ENFORCE }
    pinsets { index: 1 name: "tor" organization: "Tor" mode: PIN_MODE_TEST }
    hosts { host: "google.com" include_subdomains: true pinset_index: 0 }
    hosts { host: "torproject.org" pinset_index: 1 }
    source: "a.json"
  )pb", &catalog));
  return catalog;
}

TEST(CatalogVersionTest, IsHexSha256OfTheCanonicalSerialization) {
  v1::Catalog catalog = Sample();
  // Independent computation: hosts already sorted; clear version and source; the catalog has no
  // map fields, so the default serialization is the deterministic one.
  v1::Catalog canonical = catalog;
  canonical.clear_source();
  const std::string bytes = canonical.SerializeAsString();
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  const std::string expected = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
  EXPECT_EQ(CatalogVersion(catalog), expected);
  EXPECT_EQ(expected.size(), 64u);
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
  v1::Catalog c = Sample();
  c.mutable_pinsets()->SwapElements(0, 1);  // pinset order is part of the content
  EXPECT_NE(CatalogVersion(a), CatalogVersion(c));
}

}  // namespace
}  // namespace pinning::aggregator
