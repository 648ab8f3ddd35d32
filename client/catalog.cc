#include "client/catalog.h"

#include <openssl/sha.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/spki.h"

namespace pinning::client {
namespace {

using ::pinning::v1::Catalog;
using ::pinning::v1::PinMode;

std::string Sized(absl::string_view s) { return absl::StrCat(s.size(), ":", s); }

absl::string_view ModeName(PinMode mode) {
  switch (mode) {
    case pinning::v1::PIN_MODE_TEST:
      return "TEST";
    case pinning::v1::PIN_MODE_ENFORCE:
      return "ENFORCE";
    default:
      return "UNSPECIFIED";
  }
}

void AppendHashes(absl::string_view label,
                  const google::protobuf::RepeatedPtrField<std::string>& hashes, std::string* out) {
  std::vector<std::string> hex;
  for (const std::string& h : hashes) hex.push_back(absl::BytesToHexString(h));
  std::sort(hex.begin(), hex.end());
  absl::StrAppend(out, label, " ", hex.size(), "\n");
  for (const std::string& h : hex) absl::StrAppend(out, h, "\n");
}

}  // namespace

std::string CanonicalCatalogBytes(const Catalog& catalog) {
  std::string out = "pinning-catalog-v1\n";
  absl::StrAppend(&out, "pinsets ", catalog.pinsets_size(), "\n");
  for (const auto& p : catalog.pinsets()) {
    absl::StrAppend(&out, "pinset ", p.index(), " ", Sized(p.name()), " ", Sized(p.organization()),
                    " ", ModeName(p.mode()), "\n");
    AppendHashes("spki", p.spki_sha256(), &out);
    AppendHashes("bad", p.bad_spki_sha256(), &out);
  }
  std::vector<const pinning::v1::PinnedHost*> hosts;
  for (const auto& h : catalog.hosts()) hosts.push_back(&h);
  std::sort(hosts.begin(), hosts.end(),
            [](const auto* a, const auto* b) { return a->host() < b->host(); });
  absl::StrAppend(&out, "hosts ", hosts.size(), "\n");
  for (const auto* h : hosts) {
    absl::StrAppend(&out, "host ", Sized(h->host()), " ", h->include_subdomains() ? 1 : 0, " ",
                    h->pinset_index(), " ", ModeName(h->mode()), "\n");
  }
  return out;
}

std::string CatalogVersion(const Catalog& catalog) {
  const std::string bytes = CanonicalCatalogBytes(catalog);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

absl::StatusOr<BuiltCatalog> BuildCatalog(const PinList& list,
                                          const OrganizationMap& organizations) {
  // Hosts per pinset decide which pinsets are used and their modes.
  std::map<std::string, std::vector<const PinEntry*>> hosts_by_pinset;
  for (const PinEntry& e : list.entries) hosts_by_pinset[e.pinset].push_back(&e);
  if (list.entries.empty()) return absl::InvalidArgumentError("the pin list pins no host");

  std::vector<const ResolvedPinset*> pinsets;
  BuiltCatalog built;
  for (const ResolvedPinset& p : list.pinsets) {
    if (hosts_by_pinset.contains(p.name)) {
      pinsets.push_back(&p);
    } else {
      built.unused_pinsets.push_back(p.name);
    }
  }
  std::sort(pinsets.begin(), pinsets.end(),
            [](const auto* a, const auto* b) { return a->name < b->name; });
  std::sort(built.unused_pinsets.begin(), built.unused_pinsets.end());

  std::vector<std::string> missing;
  for (const ResolvedPinset* p : pinsets) {
    if (organizations.Find(p->name) == nullptr) missing.push_back(p->name);
  }
  if (!missing.empty()) {
    return absl::NotFoundError(absl::StrCat("the organization map has no organization for ",
                                            "pinset(s): ", absl::StrJoin(missing, ", ")));
  }

  Catalog& catalog = built.catalog;
  std::map<std::string, uint32_t> index_by_name;
  std::map<std::string, PinMode> mode_by_name;
  for (const ResolvedPinset* p : pinsets) {
    const uint32_t index = catalog.pinsets_size();
    auto* out = catalog.add_pinsets();
    out->set_index(index);
    out->set_name(p->name);
    out->set_organization(*organizations.Find(p->name));
    const auto& hosts = hosts_by_pinset[p->name];
    const bool all_test =
        std::all_of(hosts.begin(), hosts.end(), [](const PinEntry* e) { return e->test_mode; });
    out->set_mode(all_test ? pinning::v1::PIN_MODE_TEST : pinning::v1::PIN_MODE_ENFORCE);
    std::vector<SpkiHash> spki = p->spki;
    std::vector<SpkiHash> bad = p->bad_spki;
    for (auto* v : {&spki, &bad}) {
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
    }
    for (const SpkiHash& h : spki) out->add_spki_sha256(SpkiHashAsBytes(h));
    for (const SpkiHash& h : bad) out->add_bad_spki_sha256(SpkiHashAsBytes(h));
    index_by_name[p->name] = index;
    mode_by_name[p->name] = out->mode();
  }

  std::vector<const PinEntry*> entries;
  for (const PinEntry& e : list.entries) entries.push_back(&e);
  std::sort(entries.begin(), entries.end(),
            [](const auto* a, const auto* b) { return a->host < b->host; });
  for (const PinEntry* e : entries) {
    auto* h = catalog.add_hosts();
    h->set_host(e->host);
    h->set_include_subdomains(e->include_subdomains);
    h->set_pinset_index(index_by_name.at(e->pinset));
    const PinMode mode = e->test_mode ? pinning::v1::PIN_MODE_TEST : pinning::v1::PIN_MODE_ENFORCE;
    h->set_mode(mode == mode_by_name.at(e->pinset) ? pinning::v1::PIN_MODE_UNSPECIFIED : mode);
  }
  catalog.set_source(absl::StrJoin(list.sources, ", "));
  catalog.set_version(CatalogVersion(catalog));
  return built;
}

absl::Status ValidateCatalog(const Catalog& catalog) {
  std::set<std::string> names;
  for (int i = 0; i < catalog.pinsets_size(); ++i) {
    const auto& p = catalog.pinsets(i);
    auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat("pinset #", i, " (\"", p.name(), "\"): ", what));
    };
    if (p.index() != static_cast<uint32_t>(i)) return error("index differs from its position");
    if (p.name().empty() || !names.insert(p.name()).second) return error("empty or duplicate name");
    if (p.organization().empty()) return error("no organization");
    if (p.mode() != pinning::v1::PIN_MODE_TEST && p.mode() != pinning::v1::PIN_MODE_ENFORCE) {
      return error("mode must be TEST or ENFORCE");
    }
    if (p.spki_sha256_size() == 0) return error("no acceptable SPKI hash");
    for (const auto* hashes : {&p.spki_sha256(), &p.bad_spki_sha256()}) {
      for (const std::string& h : *hashes) {
        if (h.size() != 32) return error("an SPKI hash is not 32 bytes");
      }
    }
  }
  std::set<std::string> hosts;
  for (const auto& h : catalog.hosts()) {
    if (NormalizeHost(h.host()) != h.host() || !hosts.insert(h.host()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("host \"", h.host(), "\" is not normalized or is listed twice"));
    }
    if (h.pinset_index() >= static_cast<uint32_t>(catalog.pinsets_size())) {
      return absl::InvalidArgumentError(absl::StrCat("host \"", h.host(), "\" names pinset index ",
                                                     h.pinset_index(), " of ",
                                                     catalog.pinsets_size()));
    }
    if (!pinning::v1::PinMode_IsValid(h.mode())) {
      return absl::InvalidArgumentError(absl::StrCat("host \"", h.host(), "\" has a bad mode"));
    }
  }
  const std::string version = CatalogVersion(catalog);
  if (catalog.version() != version) {
    return absl::InvalidArgumentError(absl::StrCat(
        "catalog version \"", catalog.version(), "\" does not match its content (", version, ")"));
  }
  return absl::OkStatus();
}

}  // namespace pinning::client
