#include "client/pin_list.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

SpkiHash Hash(uint8_t b) {
  SpkiHash h{};
  h.fill(b);
  return h;
}

constexpr char kChromium[] = R"(// A small list in Chromium's format.
{
  "pinsets": [
    {
      "name": "alpha",
      "static_spki_hashes": ["KeyA", "KeyB"],
      "bad_static_spki_hashes": ["BadKey"],
      "report_uri": "http://report.example.test/x"
    },
    {
      "name": "beta",
      "static_spki_hashes": [
        "KeyB",
        "Missing1"  // defined nowhere
      ]
    }
  ],
  "entries": [
    { "name": "Alpha.Example.", "include_subdomains": true, "pins": "alpha" },
    { "name": "beta.example", "pins": "beta", "test_mode": true },
    { "name": "hsts-only.example", "mode": "force-https" },
    { "name": "b2.example", "include_subdomains": true, "pins": "beta" }
  ]
})";

PinListDocument ParseChromium(absl::string_view text) {
  absl::StatusOr<PinListDocument> doc = ParseChromiumPinList(text, "list.json");
  EXPECT_TRUE(doc.ok()) << doc.status();
  return doc.ok() ? *std::move(doc) : PinListDocument();
}

SpkiDictionary Dictionary() {
  SpkiDictionary dict("keys.pins");
  EXPECT_TRUE(dict.Add("KeyA", {Hash(1)}).ok());
  EXPECT_TRUE(dict.Add("KeyB", {Hash(2)}).ok());
  EXPECT_TRUE(dict.Add("BadKey", {Hash(9)}).ok());
  return dict;
}

TEST(PinListTest, ParsesChromiumFormat) {
  const PinListDocument doc = ParseChromium(kChromium);
  EXPECT_EQ(doc.file, "list.json");
  ASSERT_THAT(doc.pinsets, SizeIs(2));
  EXPECT_EQ(doc.pinsets[0].name, "alpha");
  EXPECT_EQ(doc.pinsets[0].line, 4);
  ASSERT_THAT(doc.pinsets[0].spki_names, SizeIs(2));
  EXPECT_EQ(doc.pinsets[0].spki_names[1].name, "KeyB");
  ASSERT_THAT(doc.pinsets[0].bad_spki_names, SizeIs(1));
  EXPECT_EQ(doc.pinsets[0].bad_spki_names[0].name, "BadKey");
  EXPECT_EQ(doc.pinsets[1].spki_names[1].name, "Missing1");
  EXPECT_EQ(doc.pinsets[1].spki_names[1].line, 14);
  // The HSTS-only entry is not a pin.
  ASSERT_THAT(doc.entries, SizeIs(3));
  EXPECT_EQ(doc.entries[0].host, "alpha.example");
  EXPECT_TRUE(doc.entries[0].include_subdomains);
  EXPECT_FALSE(doc.entries[0].test_mode);
  EXPECT_EQ(doc.entries[0].line, 19);
  EXPECT_EQ(doc.entries[1].host, "beta.example");
  EXPECT_FALSE(doc.entries[1].include_subdomains);
  EXPECT_TRUE(doc.entries[1].test_mode);
  EXPECT_EQ(doc.entries[1].pinset, "beta");
}

TEST(PinListTest, ParsesFirefoxFormat) {
  constexpr char kFirefox[] = R"({
    "chromium_data": { "substitute_pinsets": { "google": "google_root_pems" } },
    "pinsets": [ { "name": "moz", "sha256_hashes": ["Some Root CA", "Other Root"] } ],
    "entries": [
      { "name": "a.example", "include_subdomains": true, "pins": "moz", "test_mode": false,
        "id": 1 },
      { "name": "b.example", "pins": "moz", "test_mode": true }
    ]
  })";
  absl::StatusOr<PinListDocument> doc = ParseFirefoxPinList(kFirefox, "ff.json");
  ASSERT_TRUE(doc.ok()) << doc.status();
  ASSERT_THAT(doc->pinsets, SizeIs(1));
  EXPECT_EQ(doc->pinsets[0].spki_names[0].name, "Some Root CA");
  EXPECT_TRUE(doc->pinsets[0].bad_spki_names.empty());
  ASSERT_THAT(doc->entries, SizeIs(2));
  EXPECT_FALSE(doc->entries[0].test_mode);
  EXPECT_TRUE(doc->entries[1].test_mode);
  // Chromium's field name is not Firefox's.
  EXPECT_FALSE(ParseFirefoxPinList(kChromium, "x.json").ok());
}

TEST(PinListTest, ReportsSchemaErrorsWithFileAndLine) {
  struct Case {
    std::string text;
    std::string error;
  };
  const Case cases[] = {
      {"[]", "list.json:1: the top level must be an object, not an array"},
      {"{\"entries\": []}", "missing \"pinsets\""},
      {"{\"pinsets\": []}", "missing \"entries\""},
      {"{\"pinsets\": [{\"name\": \"a\"}], \"entries\": []}", "missing \"static_spki_hashes\""},
      {"{\"pinsets\": [{\"name\": \"a\", \"static_spki_hashes\": [1]}], \"entries\": []}",
       "an SPKI name must be a string"},
      {"{\"pinsets\": [\n{\"name\": \"a\", \"static_spki_hashes\": []},\n"
       "{\"name\": \"a\", \"static_spki_hashes\": []}], \"entries\": []}",
       "list.json:3: pinset \"a\" defined twice"},
      {"{\"pinsets\": [], \"entries\": [\n{\"name\": \"x.example\", \"pins\": \"nope\"}]}",
       "list.json:2: host \"x.example\" names pinset \"nope\", which is not defined"},
      {"{\"pinsets\": [{\"name\": \"a\", \"static_spki_hashes\": []}], \"entries\": ["
       "{\"name\": \"X.example\", \"pins\": \"a\"},\n{\"name\": \"x.example.\", \"pins\": \"a\"}]}",
       "list.json:2: host \"x.example\" listed twice"},
      {"{\"pinsets\": [{\"name\": \"a\", \"static_spki_hashes\": []}], \"entries\": ["
       "{\"name\": \"x..example\", \"pins\": \"a\"}]}",
       "invalid host name \"x..example\""},
      {"{\"pinsets\": [{\"name\": \"a\", \"static_spki_hashes\": []}], \"entries\": ["
       "{\"name\": \"x.example\", \"pins\": \"a\", \"include_subdomains\": \"yes\"}]}",
       "\"include_subdomains\" must be a boolean, not a string"},
      {"{\"pinsets\": [,]}", "list.json: JSON error at line 1"},
      {"{ /* open", "unterminated /* comment"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<PinListDocument> doc = ParseChromiumPinList(c.text, "list.json");
    ASSERT_FALSE(doc.ok()) << c.text;
    EXPECT_EQ(doc.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(doc.status().message(), HasSubstr(c.error)) << c.text;
  }
}

TEST(PinListTest, StrictPolicyFailsNamingEveryUnresolvedName) {
  const SpkiDictionary dict = Dictionary();
  absl::StatusOr<PinList> list =
      ResolvePinList(ParseChromium(kChromium), dict, UnresolvedPolicy::kStrict);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(list.status().message(),
              HasSubstr("list.json:14: pinset \"beta\": SPKI name \"Missing1\": not defined in "
                        "keys.pins"));
  EXPECT_THAT(list.status().message(), HasSubstr("1 SPKI name(s) of list.json"));
}

TEST(PinListTest, SkipPinsetPolicyDropsThePinsetAndItsHosts) {
  const SpkiDictionary dict = Dictionary();
  absl::StatusOr<PinList> list =
      ResolvePinList(ParseChromium(kChromium), dict, UnresolvedPolicy::kSkipPinset);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_THAT(list->pinsets, SizeIs(1));
  EXPECT_EQ(list->pinsets[0].name, "alpha");
  EXPECT_THAT(list->pinsets[0].spki, ElementsAre(Hash(1), Hash(2)));
  EXPECT_THAT(list->pinsets[0].bad_spki, ElementsAre(Hash(9)));
  ASSERT_THAT(list->entries, SizeIs(1));
  EXPECT_EQ(list->entries[0].host, "alpha.example");
  EXPECT_THAT(list->skipped_pinsets, ElementsAre("beta"));
  ASSERT_THAT(list->unresolved, SizeIs(1));
  EXPECT_EQ(list->unresolved[0].pinset, "beta");
  EXPECT_EQ(list->unresolved[0].name, "Missing1");
  EXPECT_EQ(list->unresolved[0].file, "list.json");
  EXPECT_EQ(list->unresolved[0].line, 14);
  EXPECT_THAT(list->warnings,
              ElementsAre(HasSubstr("SPKI name \"Missing1\""),
                          HasSubstr("pinset \"beta\" skipped: 1 SPKI name(s) unresolved"),
                          HasSubstr("2 host(s) of skipped pinset \"beta\" dropped")));
}

TEST(PinListTest, DropNamePolicyKeepsTheResolvedNames) {
  const SpkiDictionary dict = Dictionary();
  absl::StatusOr<PinList> list =
      ResolvePinList(ParseChromium(kChromium), dict, UnresolvedPolicy::kDropName);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_THAT(list->pinsets, SizeIs(2));
  EXPECT_EQ(list->pinsets[1].name, "beta");
  EXPECT_THAT(list->pinsets[1].spki, ElementsAre(Hash(2)));
  EXPECT_THAT(list->entries, SizeIs(3));
  EXPECT_TRUE(list->skipped_pinsets.empty());
  EXPECT_THAT(list->unresolved, SizeIs(1));

  // A pinset none of whose names resolve is dropped even under kDropName.
  SpkiDictionary only_bad("keys.pins");
  ASSERT_TRUE(only_bad.Add("KeyA", {Hash(1)}).ok());
  list = ResolvePinList(ParseChromium(kChromium), only_bad, UnresolvedPolicy::kDropName);
  ASSERT_TRUE(list.ok());
  EXPECT_THAT(list->skipped_pinsets, ElementsAre("beta"));
  // alpha keeps KeyA; its unresolved KeyB and bad-list BadKey are reported.
  ASSERT_THAT(list->pinsets, SizeIs(1));
  EXPECT_THAT(list->pinsets[0].spki, ElementsAre(Hash(1)));
  EXPECT_TRUE(list->pinsets[0].bad_spki.empty());
  std::vector<std::string> reported;
  for (const UnresolvedName& u : list->unresolved) {
    reported.push_back(u.pinset + "/" + u.name + (u.bad_list ? "/bad" : ""));
  }
  EXPECT_THAT(reported,
              ElementsAre("alpha/KeyB", "alpha/BadKey/bad", "beta/KeyB", "beta/Missing1"));
}

TEST(PinListTest, NormalizeHost) {
  EXPECT_EQ(NormalizeHost("WWW.Example.COM."), "www.example.com");
  EXPECT_EQ(NormalizeHost("xn--7xa.example"), "xn--7xa.example");
  EXPECT_EQ(NormalizeHost("single"), "single");
  EXPECT_EQ(NormalizeHost("_dmarc.example"), "_dmarc.example");
  EXPECT_EQ(NormalizeHost(""), "");
  EXPECT_EQ(NormalizeHost("."), "");
  EXPECT_EQ(NormalizeHost("a..b"), "");
  EXPECT_EQ(NormalizeHost(".a"), "");
  EXPECT_EQ(NormalizeHost("a.b.."), "");
  EXPECT_EQ(NormalizeHost("sp ace.example"), "");
  EXPECT_EQ(NormalizeHost("*.example"), "");
  EXPECT_EQ(NormalizeHost(std::string(63, 'a') + ".example"), std::string(63, 'a') + ".example");
  EXPECT_EQ(NormalizeHost(std::string(64, 'a') + ".example"), "");
}

TEST(PinListTest, MergeRejectsConflicts) {
  PinList a;
  a.pinsets.push_back({"p", {Hash(1)}, {}});
  a.entries.push_back({"a.example", false, "p", false, 1});
  a.sources = {"a.json"};
  PinList b;
  b.pinsets.push_back({"q", {Hash(2)}, {}});
  b.entries.push_back({"b.example", false, "q", false, 1});
  b.sources = {"b.json"};
  absl::StatusOr<PinList> merged = MergePinLists({a, b});
  ASSERT_TRUE(merged.ok());
  EXPECT_THAT(merged->pinsets, SizeIs(2));
  EXPECT_THAT(merged->entries, SizeIs(2));
  EXPECT_THAT(merged->sources, ElementsAre("a.json", "b.json"));
  EXPECT_THAT(MergePinLists({a, a}).status().message(), HasSubstr("pinset \"p\""));
  PinList c = b;
  c.pinsets[0].name = "r";
  c.entries[0] = {"a.example", false, "r", false, 1};
  EXPECT_THAT(MergePinLists({a, c}).status().message(), HasSubstr("host \"a.example\""));
}

}  // namespace
}  // namespace pinning::client
