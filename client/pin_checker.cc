#include "client/pin_checker.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/catalog.h"
#include "client/pin_list.h"
#include "third_party/absl_compat/status_macros.h"

namespace pinning::client {
namespace {

std::vector<SpkiHash> SortedHashes(const google::protobuf::RepeatedPtrField<std::string>& bytes) {
  std::vector<SpkiHash> out;
  out.reserve(bytes.size());
  for (const std::string& b : bytes) out.push_back(*SpkiHashFromBytes(b));  // Validated.
  std::sort(out.begin(), out.end());
  return out;
}

bool Contains(const std::vector<SpkiHash>& sorted, const SpkiHash& h) {
  return std::binary_search(sorted.begin(), sorted.end(), h);
}

}  // namespace

absl::StatusOr<PinChecker> PinChecker::Create(pinning::v1::Catalog catalog) {
  RETURN_IF_ERROR(ValidateCatalog(catalog));
  PinChecker checker(std::move(catalog));
  const auto& c = checker.catalog_;
  for (const auto& p : c.pinsets()) {
    checker.spki_.push_back(SortedHashes(p.spki_sha256()));
    checker.bad_spki_.push_back(SortedHashes(p.bad_spki_sha256()));
  }
  for (int i = 0; i < c.hosts_size(); ++i) checker.host_index_.emplace(c.hosts(i).host(), i);
  return checker;
}

std::optional<HostMatch> PinChecker::FindHost(absl::string_view host) const {
  const std::string name = NormalizeHost(host);
  if (name.empty()) return std::nullopt;
  // Walk from the full name to ever shorter parent domains; the first applicable entry is the
  // most specific. A parent entry applies only with include_subdomains; one without it does not
  // stop the walk.
  for (size_t start = 0; start != std::string::npos;) {
    auto it = host_index_.find(name.substr(start));
    if (it != host_index_.end()) {
      const pinning::v1::PinnedHost& entry = catalog_.hosts(it->second);
      if (start == 0 || entry.include_subdomains()) {
        pinning::v1::PinMode mode = entry.mode();
        if (mode == pinning::v1::PIN_MODE_UNSPECIFIED) {
          mode = catalog_.pinsets(entry.pinset_index()).mode();
        }
        return HostMatch{&entry, entry.pinset_index(), mode};
      }
    }
    const size_t dot = name.find('.', start);
    start = dot == std::string::npos ? std::string::npos : dot + 1;
  }
  return std::nullopt;
}

PinCheckResult PinChecker::Evaluate(const HostMatch& match,
                                    absl::Span<const SpkiHash> chain_spki) const {
  PinCheckResult result;
  result.pinset_index = match.pinset_index;
  result.mode = match.mode;
  result.matched_host = match.entry->host();
  bool pinned_key_found = false;
  for (const SpkiHash& h : chain_spki) {
    if (Contains(spki_[match.pinset_index], h)) pinned_key_found = true;
    if (Contains(bad_spki_[match.pinset_index], h)) result.bad_spki_found = true;
  }
  result.verdict =
      pinned_key_found && !result.bad_spki_found ? PinVerdict::kSatisfied : PinVerdict::kViolated;
  return result;
}

PinCheckResult PinChecker::CheckHashes(absl::string_view host,
                                       absl::Span<const SpkiHash> chain_spki) const {
  std::optional<HostMatch> match = FindHost(host);
  if (!match.has_value()) return PinCheckResult();
  return Evaluate(*match, chain_spki);
}

absl::StatusOr<PinCheckResult> PinChecker::Check(absl::string_view host,
                                                 absl::Span<const std::string> der_chain) const {
  std::optional<HostMatch> match = FindHost(host);
  if (!match.has_value()) return PinCheckResult();
  if (der_chain.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty certificate chain for pinned host ", match->entry->host()));
  }
  std::vector<SpkiHash> hashes;
  hashes.reserve(der_chain.size());
  for (size_t i = 0; i < der_chain.size(); ++i) {
    absl::StatusOr<SpkiHash> h = SpkiHashFromCertificateDer(der_chain[i]);
    if (!h.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("certificate #", i, " of the chain: ", h.status().message()));
    }
    hashes.push_back(*h);
  }
  return Evaluate(*match, hashes);
}

}  // namespace pinning::client
