#include "client/catalog.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::client {
namespace {

using ::pinning::v1::Catalog;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

SpkiHash Hash(uint8_t b) {
  SpkiHash h{};
  h.fill(b);
  return h;
}

OrganizationMap Orgs() {
  return OrganizationMap(
      OrganizationMap::Map{{"zeta", "Zeta Corp"}, {"alpha", "Alpha Inc"}, {"mid", "Mid"}});
}

// Three pinsets (one unused), five hosts, deliberately out of order.
PinList SampleList() {
  PinList list;
  list.pinsets = {
      {"zeta", {Hash(3), Hash(1)}, {Hash(7)}},
      {"unused", {Hash(5)}, {}},
      {"alpha", {Hash(2)}, {}},
      {"mid", {Hash(4)}, {}},
  };
  list.entries = {
      {"z.example", true, "zeta", false, 0},      {"a.example", false, "alpha", true, 0},
      {"test.z.example", false, "zeta", true, 0}, {"b.example", true, "alpha", true, 0},
      {"m.example", true, "mid", false, 0},
  };
  list.sources = {"one.json", "one.pins"};
  return list;
}

Catalog MustBuild(const PinList& list, const OrganizationMap& orgs = Orgs()) {
  absl::StatusOr<BuiltCatalog> built = BuildCatalog(list, orgs);
  EXPECT_TRUE(built.ok()) << built.status();
  return built.ok() ? built->catalog : Catalog();
}

TEST(CatalogTest, BuildsSortedIndexedCatalog) {
  absl::StatusOr<BuiltCatalog> built = BuildCatalog(SampleList(), Orgs());
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_THAT(built->unused_pinsets, ElementsAre("unused"));
  const Catalog& c = built->catalog;
  ASSERT_EQ(c.pinsets_size(), 3);
  EXPECT_EQ(c.pinsets(0).name(), "alpha");
  EXPECT_EQ(c.pinsets(1).name(), "mid");
  EXPECT_EQ(c.pinsets(2).name(), "zeta");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(c.pinsets(i).index(), static_cast<uint32_t>(i));
  EXPECT_EQ(c.pinsets(2).organization(), "Zeta Corp");
  // alpha: all hosts in test mode; zeta: mixed, so enforce with one test-mode host.
  EXPECT_EQ(c.pinsets(0).mode(), pinning::v1::PIN_MODE_TEST);
  EXPECT_EQ(c.pinsets(2).mode(), pinning::v1::PIN_MODE_ENFORCE);
  ASSERT_EQ(c.pinsets(2).spki_sha256_size(), 2);
  EXPECT_EQ(c.pinsets(2).spki_sha256(0), std::string(32, '\x01'));
  EXPECT_EQ(c.pinsets(2).spki_sha256(1), std::string(32, '\x03'));
  ASSERT_EQ(c.pinsets(2).bad_spki_sha256_size(), 1);
  EXPECT_EQ(c.pinsets(2).bad_spki_sha256(0), std::string(32, '\x07'));
  std::vector<std::string> hosts;
  for (const auto& h : c.hosts()) {
    hosts.push_back(absl::StrCat(h.host(), " ", h.include_subdomains(), " ", h.pinset_index(), " ",
                                 pinning::v1::PinMode_Name(h.mode())));
  }
  EXPECT_THAT(
      hosts, ElementsAre("a.example 0 0 PIN_MODE_UNSPECIFIED", "b.example 1 0 PIN_MODE_UNSPECIFIED",
                         "m.example 1 1 PIN_MODE_UNSPECIFIED", "test.z.example 0 2 PIN_MODE_TEST",
                         "z.example 1 2 PIN_MODE_UNSPECIFIED"));
  EXPECT_EQ(c.source(), "one.json, one.pins");
  EXPECT_THAT(c.version(), MatchesRegex("[0-9a-f]{64}"));
  EXPECT_TRUE(ValidateCatalog(c).ok()) << ValidateCatalog(c);
}

TEST(CatalogTest, CanonicalBytesFollowTheDocumentedFormat) {
  PinList list;
  list.pinsets = {{"p", {Hash(0xab)}, {}}};
  list.entries = {{"x.example", true, "p", false, 0}};
  const Catalog c = MustBuild(list, OrganizationMap(OrganizationMap::Map{{"p", "Org One"}}));
  std::string ab;
  for (int i = 0; i < 32; ++i) ab += "ab";
  const std::string expected = absl::StrCat(
      "pinning-catalog-v1\n", "pinsets 1\n", "pinset 0 1:p 7:Org One ENFORCE\n", "spki 1\n", ab,
      "\n", "bad 0\n", "hosts 1\n", "host 9:x.example 1 0 UNSPECIFIED\n");
  EXPECT_EQ(CanonicalCatalogBytes(c), expected);
  // The version is the SHA-256 of those bytes, computed here with sha256sum.
  FILE* pipe = popen(absl::StrCat("printf '%s' '", expected, "' | sha256sum").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char out[65] = {};
  ASSERT_EQ(fread(out, 1, 64, pipe), 64u);
  pclose(pipe);
  EXPECT_EQ(c.version(), std::string(out));
}

TEST(CatalogTest, VersionIsIndependentOfInputOrder) {
  const Catalog reference = MustBuild(SampleList());
  std::mt19937 rng(20240812);
  for (int trial = 0; trial < 20; ++trial) {
    PinList list = SampleList();
    std::shuffle(list.pinsets.begin(), list.pinsets.end(), rng);
    std::shuffle(list.entries.begin(), list.entries.end(), rng);
    for (ResolvedPinset& p : list.pinsets) std::shuffle(p.spki.begin(), p.spki.end(), rng);
    list.pinsets[0].spki.push_back(list.pinsets[0].spki[0]);  // Duplicates do not count.
    const Catalog c = MustBuild(list);
    EXPECT_EQ(c.version(), reference.version());
    EXPECT_EQ(c.SerializeAsString(), reference.SerializeAsString());
  }
  // The version of a catalog whose hosts are stored out of order is the same too.
  Catalog reordered = reference;
  reordered.mutable_hosts()->SwapElements(0, 4);
  EXPECT_EQ(CatalogVersion(reordered), reference.version());
}

TEST(CatalogTest, EveryContentChangeChangesTheVersion) {
  const std::string reference = MustBuild(SampleList()).version();
  std::vector<std::function<void(PinList&, OrganizationMap::Map&)>> changes = {
      [](PinList& l, auto&) { l.entries[0].include_subdomains = false; },
      [](PinList& l, auto&) { l.entries[0].host = "y.example"; },
      [](PinList& l, auto&) { l.entries[0].test_mode = true; },
      [](PinList& l, auto&) { l.entries[4].pinset = "alpha"; },
      [](PinList& l, auto&) { l.pinsets[0].spki[0] = Hash(9); },
      [](PinList& l, auto&) { l.pinsets[0].bad_spki.clear(); },
      [](PinList& l, auto&) {
        l.pinsets[2].name = "aardvark";
        l.entries[1].pinset = "aardvark";
        l.entries[3].pinset = "aardvark";
      },
      [](PinList&, auto& orgs) { orgs["mid"] = "Mid Inc"; },
      [](PinList& l, auto&) {
        l.entries.push_back({"n.example", false, "mid", false, 0});
      },
  };
  std::set<std::string> versions = {reference};
  for (auto& change : changes) {
    PinList list = SampleList();
    OrganizationMap::Map orgs = Orgs().by_pinset();
    orgs["aardvark"] = "Alpha Inc";
    change(list, orgs);
    versions.insert(MustBuild(list, OrganizationMap(orgs)).version());
  }
  EXPECT_EQ(versions.size(), changes.size() + 1) << "some change kept the version";
  // The source names are not content.
  PinList renamed = SampleList();
  renamed.sources = {"elsewhere.json"};
  EXPECT_EQ(MustBuild(renamed).version(), reference);
}

TEST(CatalogTest, MissingOrganizationsAreListed) {
  absl::StatusOr<BuiltCatalog> built =
      BuildCatalog(SampleList(), OrganizationMap(OrganizationMap::Map{{"alpha", "Alpha Inc"}}));
  EXPECT_EQ(built.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(built.status().message(), HasSubstr("pinset(s): mid, zeta"));
  PinList empty;
  empty.pinsets = {{"alpha", {Hash(1)}, {}}};
  EXPECT_EQ(BuildCatalog(empty, Orgs()).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CatalogTest, ValidateCatalogCatchesBrokenCatalogs) {
  const Catalog good = MustBuild(SampleList());
  std::vector<std::pair<std::string, std::function<void(Catalog&)>>> breakages = {
      {"index differs", [](Catalog& c) { c.mutable_pinsets(1)->set_index(5); }},
      {"duplicate name", [](Catalog& c) { c.mutable_pinsets(1)->set_name("alpha"); }},
      {"no organization", [](Catalog& c) { c.mutable_pinsets(1)->clear_organization(); }},
      {"mode must be", [](Catalog& c) { c.mutable_pinsets(0)->clear_mode(); }},
      {"no acceptable SPKI", [](Catalog& c) { c.mutable_pinsets(1)->clear_spki_sha256(); }},
      {"not 32 bytes", [](Catalog& c) { c.mutable_pinsets(1)->add_bad_spki_sha256("short"); }},
      {"not normalized", [](Catalog& c) { c.mutable_hosts(0)->set_host("A.example"); }},
      {"listed twice", [](Catalog& c) { c.mutable_hosts(1)->set_host("a.example"); }},
      {"pinset index 3 of 3", [](Catalog& c) { c.mutable_hosts(0)->set_pinset_index(3); }},
      {"does not match its content", [](Catalog& c) { c.set_version(std::string(64, '0')); }},
  };
  for (auto& [error, breakage] : breakages) {
    Catalog c = good;
    breakage(c);
    absl::Status status = ValidateCatalog(c);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << error;
    EXPECT_THAT(status.message(), HasSubstr(error));
  }
}

}  // namespace
}  // namespace pinning::client
