#include "client/catalog_loader.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/ca_store.h"
#include "client/catalog.h"
#include "client/file_io.h"
#include "client/pins_file.h"
#include "client/testing/test_env.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

// Counts below were made independently of this code, with grep and a throwaway script over the
// files in shared/data/pinlists (see SOURCES.md there): e.g. `grep -c '"pins"'` gives 377
// Chromium entries and `grep -c '"name"'` 381 = 377 entries + 4 pinsets.
constexpr int kChromiumPinsets = 4;
constexpr int kChromiumEntries = 377;
constexpr int kChromiumIncludeSubdomains = 370;
constexpr int kFirefoxPinsets = 4;
constexpr int kFirefoxEntries = 10;
constexpr int kFirefoxTestModeEntries = 3;

class RealListsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> dir = testing::PinListsDir();
    ASSERT_TRUE(dir.ok()) << dir.status();
    chromium_json_ = absl::StrCat(*dir, "/chromium/transport_security_state_static_pins.json");
    chromium_pins_ = absl::StrCat(*dir, "/chromium/transport_security_state_static.pins");
    firefox_json_ = absl::StrCat(*dir, "/firefox/PreloadedHPKPins.json");
  }

  PinListDocument Document(const std::string& path, bool firefox) {
    absl::StatusOr<std::string> text = ReadFileToString(path);
    EXPECT_TRUE(text.ok()) << text.status();
    absl::StatusOr<PinListDocument> doc =
        firefox ? ParseFirefoxPinList(*text, "ff.json") : ParseChromiumPinList(*text, "cr.json");
    EXPECT_TRUE(doc.ok()) << doc.status();
    return doc.ok() ? *std::move(doc) : PinListDocument();
  }

  static const CaStore& Store() {
    static const CaStore* store = [] {
      absl::StatusOr<CaStore> s = CaStore::Load(CaStore::Options());
      EXPECT_TRUE(s.ok()) << s.status();
      return new CaStore(*std::move(s));
    }();
    return *store;
  }

  static std::string OpensslHashOfRoot(const std::string& debian_file) {
    absl::StatusOr<std::string> hex = testing::OpensslSpkiSha256Hex(
        absl::StrCat("/usr/share/ca-certificates/mozilla/", debian_file, ".crt"), false);
    EXPECT_TRUE(hex.ok()) << hex.status();
    return hex.ok() ? *hex : "";
  }

  // How many of each Firefox pinset's listed names have a root file in Debian's ca-certificates
  // (/usr/share/ca-certificates/mozilla, named after the Mozilla nickname, spaces as '_'): what
  // the loader must resolve. It depends on the installed ca-certificates: bookworm's 20230311
  // ships 4 of mozilla's 21 names and 21 of google_root_pems' 60; 20250419~deb12u2 4 and 20.
  std::map<std::string, int> FirefoxNamesWithRootFile() {
    std::map<std::string, int> with_file;
    for (const PinsetSpec& p : Document(firefox_json_, true).pinsets) {
      int& n = with_file[p.name];
      for (const SpkiNameRef& ref : p.spki_names) {
        std::string file = ref.name;
        std::replace(file.begin(), file.end(), ' ', '_');
        n += FileExists(absl::StrCat("/usr/share/ca-certificates/mozilla/", file, ".crt"));
      }
    }
    return with_file;
  }

  static std::vector<std::string> Hex(const google::protobuf::RepeatedPtrField<std::string>& h) {
    std::vector<std::string> out;
    for (const std::string& bytes : h) out.push_back(SpkiHashToHex(*SpkiHashFromBytes(bytes)));
    return out;
  }

  std::string chromium_json_;
  std::string chromium_pins_;
  std::string firefox_json_;
};

TEST_F(RealListsTest, ChromiumDocumentCounts) {
  const PinListDocument doc = Document(chromium_json_, false);
  ASSERT_EQ(doc.pinsets.size(), static_cast<size_t>(kChromiumPinsets));
  EXPECT_EQ(doc.entries.size(), static_cast<size_t>(kChromiumEntries));
  std::map<std::string, int> per_pinset;
  int include_subdomains = 0;
  for (const PinEntry& e : doc.entries) {
    ++per_pinset[e.pinset];
    include_subdomains += e.include_subdomains;
    EXPECT_FALSE(e.test_mode);
  }
  EXPECT_EQ(include_subdomains, kChromiumIncludeSubdomains);
  EXPECT_THAT(per_pinset, ElementsAre(std::pair<const std::string, int>("facebook", 18),
                                      std::pair<const std::string, int>("google", 351),
                                      std::pair<const std::string, int>("test", 3),
                                      std::pair<const std::string, int>("tor", 5)));
  std::map<std::string, std::pair<size_t, size_t>> names;
  for (const PinsetSpec& p : doc.pinsets) {
    names[p.name] = {p.spki_names.size(), p.bad_spki_names.size()};
  }
  EXPECT_EQ(names["test"], std::make_pair(size_t{1}, size_t{0}));
  EXPECT_EQ(names["google"], std::make_pair(size_t{6}, size_t{3}));
  EXPECT_EQ(names["tor"], std::make_pair(size_t{9}, size_t{0}));
  EXPECT_EQ(names["facebook"], std::make_pair(size_t{20}, size_t{0}));
}

TEST_F(RealListsTest, ChromiumStrictFailsNamingTheEightTorNames) {
  absl::StatusOr<PinList> list =
      LoadChromiumPinList(chromium_json_, chromium_pins_, UnresolvedPolicy::kStrict);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string message(list.status().message());
  EXPECT_THAT(message, HasSubstr("8 SPKI name(s) of transport_security_state_static_pins.json"));
  for (const char* name : {"RapidSSL", "Tor1", "Tor2", "Tor3", "LetsEncryptAuthorityPrimary_X1_X3",
                           "LetsEncryptAuthorityBackup_X2_X4", "R3LetsEncrypt", "R4LetsEncrypt"}) {
    EXPECT_THAT(message,
                HasSubstr(absl::StrCat("pinset \"tor\": SPKI name \"", name,
                                       "\": not defined in transport_security_state_static.pins")))
        << name;
  }
  // DigiCertEVRoot, the ninth tor name, is defined.
  EXPECT_THAT(message, ::testing::Not(HasSubstr("DigiCertEVRoot")));
  // Names carry their line in the .json: "RapidSSL" is on line 65.
  EXPECT_THAT(message, HasSubstr("transport_security_state_static_pins.json:65: pinset \"tor\""));
}

TEST_F(RealListsTest, ChromiumLenientSkipsTorWithWarnings) {
  absl::StatusOr<PinList> list =
      LoadChromiumPinList(chromium_json_, chromium_pins_, UnresolvedPolicy::kSkipPinset);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->skipped_pinsets, ElementsAre("tor"));
  ASSERT_EQ(list->unresolved.size(), 8u);
  std::set<std::string> unresolved;
  for (const UnresolvedName& u : list->unresolved) {
    EXPECT_EQ(u.pinset, "tor");
    EXPECT_EQ(u.file, "transport_security_state_static_pins.json");
    EXPECT_FALSE(u.bad_list);
    unresolved.insert(u.name);
  }
  EXPECT_THAT(
      unresolved,
      UnorderedElementsAre("RapidSSL", "Tor1", "Tor2", "Tor3", "LetsEncryptAuthorityPrimary_X1_X3",
                           "LetsEncryptAuthorityBackup_X2_X4", "R3LetsEncrypt", "R4LetsEncrypt"));
  EXPECT_THAT(list->warnings, ::testing::Contains(HasSubstr("pinset \"tor\" skipped")));
  EXPECT_THAT(list->warnings,
              ::testing::Contains(HasSubstr("5 host(s) of skipped pinset \"tor\" dropped")));
  ASSERT_EQ(list->pinsets.size(), 3u);
  EXPECT_EQ(list->entries.size(), static_cast<size_t>(kChromiumEntries - 5));
  for (const ResolvedPinset& p : list->pinsets) {
    if (p.name == "google") {
      EXPECT_EQ(p.spki.size(), 6u);
      EXPECT_EQ(p.bad_spki.size(), 3u);
    }
  }
  EXPECT_THAT(list->sources, ElementsAre("transport_security_state_static_pins.json",
                                         "transport_security_state_static.pins"));

  absl::StatusOr<OrganizationMap> orgs = LoadOrganizationMap("client/data/organizations.json");
  ASSERT_TRUE(orgs.ok()) << orgs.status();
  absl::StatusOr<BuiltCatalog> built = BuildCatalog(*list, *orgs);
  ASSERT_TRUE(built.ok()) << built.status();
  const auto& c = built->catalog;
  ASSERT_EQ(c.pinsets_size(), 3);
  EXPECT_EQ(c.pinsets(0).name(), "facebook");
  EXPECT_EQ(c.pinsets(0).organization(), "Facebook");
  EXPECT_EQ(c.pinsets(1).organization(), "Google");
  EXPECT_EQ(c.pinsets(2).organization(), "Test");
  EXPECT_EQ(c.hosts_size(), kChromiumEntries - 5);
  EXPECT_TRUE(ValidateCatalog(c).ok());
  // GTS Root R1 in the .pins file is the same key as in the system store.
  EXPECT_THAT(Hex(c.pinsets(1).spki_sha256()),
              ::testing::Contains(OpensslHashOfRoot("GTS_Root_R1")));

  // Same files, same version.
  absl::StatusOr<PinList> again =
      LoadChromiumPinList(chromium_json_, chromium_pins_, UnresolvedPolicy::kSkipPinset);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(BuildCatalog(*again, *orgs)->catalog.version(), c.version());
}

TEST_F(RealListsTest, FirefoxDocumentCounts) {
  const PinListDocument doc = Document(firefox_json_, true);
  ASSERT_EQ(doc.pinsets.size(), static_cast<size_t>(kFirefoxPinsets));
  EXPECT_EQ(doc.entries.size(), static_cast<size_t>(kFirefoxEntries));
  int test_mode = 0;
  for (const PinEntry& e : doc.entries) test_mode += e.test_mode;
  EXPECT_EQ(test_mode, kFirefoxTestModeEntries);
  std::map<std::string, size_t> names;
  for (const PinsetSpec& p : doc.pinsets) names[p.name] = p.spki_names.size();
  EXPECT_EQ(names["mozilla"], 21u);
  EXPECT_EQ(names["mozilla_fxa"], 1u);
  EXPECT_EQ(names["mozilla_test"], 1u);
  EXPECT_EQ(names["google_root_pems"], 60u);
}

TEST_F(RealListsTest, FirefoxResolutionAgainstTheSystemStore) {
  absl::StatusOr<PinList> strict =
      LoadFirefoxPinList(firefox_json_, Store(), UnresolvedPolicy::kStrict);
  ASSERT_FALSE(strict.ok());
  EXPECT_THAT(strict.status().message(),
              HasSubstr("pinset \"mozilla_test\": SPKI name \"End Entity Test Cert\""));
  EXPECT_THAT(strict.status().message(),
              HasSubstr("pinset \"mozilla\": SPKI name \"GeoTrust Global CA\""));

  absl::StatusOr<PinList> list =
      LoadFirefoxPinList(firefox_json_, Store(), UnresolvedPolicy::kDropName);
  ASSERT_TRUE(list.ok()) << list.status();
  // Every listed name without a root file is unresolved (with bookworm's ca-certificates 20230311:
  // 17 of mozilla's 21, mozilla_test's one, 39 of google_root_pems' 60); the rest resolve.
  std::map<std::string, int> with_file = FirefoxNamesWithRootFile();
  ASSERT_GE(with_file["mozilla"], 3);
  ASSERT_GE(with_file["google_root_pems"], 15);
  EXPECT_EQ(with_file["mozilla_fxa"], 1);
  EXPECT_EQ(with_file["mozilla_test"], 0);
  std::map<std::string, int> unresolved;
  for (const UnresolvedName& u : list->unresolved) ++unresolved[u.pinset];
  EXPECT_EQ(unresolved["mozilla"], 21 - with_file["mozilla"]);
  EXPECT_EQ(unresolved["mozilla_fxa"], 0);
  EXPECT_EQ(unresolved["mozilla_test"], 1);
  EXPECT_EQ(unresolved["google_root_pems"], 60 - with_file["google_root_pems"]);
  EXPECT_THAT(list->skipped_pinsets, ElementsAre("mozilla_test"));
  EXPECT_EQ(list->entries.size(), static_cast<size_t>(kFirefoxEntries - 3));
  std::map<std::string, std::vector<SpkiHash>> spki;
  for (const ResolvedPinset& p : list->pinsets) spki[p.name] = p.spki;
  EXPECT_EQ(spki["mozilla"].size(), static_cast<size_t>(with_file["mozilla"]));
  EXPECT_EQ(spki["google_root_pems"].size(), static_cast<size_t>(with_file["google_root_pems"]));
  ASSERT_EQ(spki["mozilla_fxa"].size(), 1u);
  EXPECT_EQ(SpkiHashToHex(spki["mozilla_fxa"][0]), OpensslHashOfRoot("DigiCert_Global_Root_CA"));

  // Skipping whole pinsets leaves only mozilla_fxa, whose one root is still trusted.
  absl::StatusOr<PinList> skip =
      LoadFirefoxPinList(firefox_json_, Store(), UnresolvedPolicy::kSkipPinset);
  ASSERT_TRUE(skip.ok());
  ASSERT_EQ(skip->pinsets.size(), 1u);
  EXPECT_EQ(skip->pinsets[0].name, "mozilla_fxa");
  EXPECT_EQ(skip->entries.size(), 1u);

  // As a catalog: google_root_pems pins no Firefox host, so it is left out.
  absl::StatusOr<OrganizationMap> orgs = LoadOrganizationMap("client/data/organizations.json");
  ASSERT_TRUE(orgs.ok());
  absl::StatusOr<BuiltCatalog> built = BuildCatalog(*list, *orgs);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_THAT(built->unused_pinsets, ElementsAre("google_root_pems"));
  const auto& c = built->catalog;
  ASSERT_EQ(c.pinsets_size(), 2);
  EXPECT_EQ(c.pinsets(0).name(), "mozilla");
  EXPECT_EQ(c.pinsets(0).mode(), pinning::v1::PIN_MODE_ENFORCE);
  EXPECT_EQ(c.pinsets(1).name(), "mozilla_fxa");
  EXPECT_EQ(c.pinsets(1).mode(), pinning::v1::PIN_MODE_TEST);
  int explicit_test_hosts = 0;
  for (const auto& h : c.hosts()) explicit_test_hosts += h.mode() == pinning::v1::PIN_MODE_TEST;
  EXPECT_EQ(explicit_test_hosts, 1) << "one test-mode host in the enforced mozilla pinset";
}

TEST_F(RealListsTest, ChromiumAndFirefoxMerge) {
  absl::StatusOr<PinList> chromium =
      LoadChromiumPinList(chromium_json_, chromium_pins_, UnresolvedPolicy::kSkipPinset);
  absl::StatusOr<PinList> firefox =
      LoadFirefoxPinList(firefox_json_, Store(), UnresolvedPolicy::kDropName);
  ASSERT_TRUE(chromium.ok() && firefox.ok());
  absl::StatusOr<PinList> merged = MergePinLists({*chromium, *firefox});
  ASSERT_TRUE(merged.ok()) << merged.status();
  absl::StatusOr<OrganizationMap> orgs = LoadOrganizationMap("client/data/organizations.json");
  ASSERT_TRUE(orgs.ok());
  absl::StatusOr<BuiltCatalog> built = BuildCatalog(*merged, *orgs);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->catalog.pinsets_size(), 5);
  EXPECT_EQ(built->catalog.hosts_size(), kChromiumEntries - 5 + kFirefoxEntries - 3);
  // Merging in the other order gives the same catalog.
  absl::StatusOr<PinList> reversed = MergePinLists({*firefox, *chromium});
  ASSERT_TRUE(reversed.ok());
  EXPECT_EQ(BuildCatalog(*reversed, *orgs)->catalog.version(), built->catalog.version());
}

TEST_F(RealListsTest, DefaultCatalogResolvesOnThisMachine) {
  absl::StatusOr<BuiltCatalog> built =
      LoadDefaultCatalog("client/data", Store(), UnresolvedPolicy::kStrict);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_TRUE(built->unused_pinsets.empty());
  const auto& c = built->catalog;
  ASSERT_EQ(c.pinsets_size(), 6);
  std::set<std::string> orgs;
  for (const auto& p : c.pinsets()) orgs.insert(p.organization());
  EXPECT_THAT(orgs, ElementsAre("Dropbox", "Facebook", "Google", "Mozilla", "Test", "Tor Project"));
  EXPECT_EQ(c.hosts_size(), 21);
  for (const auto& p : c.pinsets()) {
    EXPECT_EQ(p.mode(),
              p.name() == "test" ? pinning::v1::PIN_MODE_TEST : pinning::v1::PIN_MODE_ENFORCE)
        << p.name();
  }
  EXPECT_TRUE(ValidateCatalog(c).ok());
  EXPECT_EQ(c.source(), "default_catalog.json, default_catalog.pins");
  // google (index 2 after sorting: dropbox, facebook, google, ...) holds GTS Root R1.
  ASSERT_EQ(c.pinsets(2).name(), "google");
  EXPECT_THAT(Hex(c.pinsets(2).spki_sha256()),
              ::testing::Contains(OpensslHashOfRoot("GTS_Root_R1")));
  EXPECT_EQ(c.pinsets(2).spki_sha256_size(), 5);
}

}  // namespace
}  // namespace pinning::client
