// pin_checker.h: decides whether a TLS certificate chain satisfies a host's pins.
//
// A host is pinned when the catalog lists it, or lists a parent domain with include_subdomains;
// the most specific entry wins (Chromium's and Firefox's rule). Host names compare
// case-insensitively and a trailing dot is ignored. A chain satisfies the pins when the SHA-256
// of at least one certificate's SubjectPublicKeyInfo is in the pinset and none is in the pinset's
// bad set (RFC 7469 §2.6, Chromium's bad_static_spki_hashes). The result says whether the entry
// is in test mode (count the violation, let the connection proceed) or enforce mode (fail it).
//
//   ASSIGN_OR_RETURN(PinChecker checker, PinChecker::Create(catalog));
//   ASSIGN_OR_RETURN(PinCheckResult r, checker.Check("mail.example.com", der_chain));
//   if (r.verdict != PinVerdict::kNotPinned) daily_state.Record(..., r.pinset_index, r.violated());
//   if (r.ShouldBlockConnection()) { ... }
//
// Thread safety: a PinChecker is immutable after Create; any number of threads may call it.
#ifndef CLIENT_PIN_CHECKER_H_
#define CLIENT_PIN_CHECKER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "client/spki.h"
#include "proto/catalog.pb.h"

namespace pinning::client {

enum class PinVerdict {
  kNotPinned,  // The host has no pins; nothing to record.
  kSatisfied,  // The chain holds a pinned SPKI and no bad one.
  kViolated,   // No pinned SPKI, or a bad one.
};

struct PinCheckResult {
  PinVerdict verdict = PinVerdict::kNotPinned;
  // The remaining fields are set only when the host is pinned.
  uint32_t pinset_index = 0;
  // The effective mode: PIN_MODE_TEST or PIN_MODE_ENFORCE (the host's, else its pinset's).
  pinning::v1::PinMode mode = pinning::v1::PIN_MODE_UNSPECIFIED;
  // The catalog entry that matched (the host itself or a parent domain).
  std::string matched_host;
  // Whether a certificate of the chain had a forbidden SPKI.
  bool bad_spki_found = false;

  bool pinned() const { return verdict != PinVerdict::kNotPinned; }
  bool violated() const { return verdict == PinVerdict::kViolated; }
  // ShouldBlockConnection is true for a violation in enforce mode.
  bool ShouldBlockConnection() const {
    return verdict == PinVerdict::kViolated && mode == pinning::v1::PIN_MODE_ENFORCE;
  }
};

// HostMatch is the catalog entry that applies to a host.
struct HostMatch {
  const pinning::v1::PinnedHost* entry;
  uint32_t pinset_index;
  pinning::v1::PinMode mode;  // Effective mode (TEST or ENFORCE).
};

class PinChecker {
 public:
  // Create validates `catalog` (ValidateCatalog) and indexes it. Errors: INVALID_ARGUMENT.
  static absl::StatusOr<PinChecker> Create(pinning::v1::Catalog catalog);

  // FindHost returns the entry that applies to `host`, or nullopt when the host is not pinned
  // (including names that are not valid host names).
  std::optional<HostMatch> FindHost(absl::string_view host) const;

  // Check hashes each DER certificate of `der_chain` (any order; leaf first as TLS sends it)
  // and applies the pins of `host`. An unpinned host returns kNotPinned without parsing the chain.
  // Errors: INVALID_ARGUMENT when the host is pinned and the chain is empty or a certificate
  // does not parse.
  absl::StatusOr<PinCheckResult> Check(absl::string_view host,
                                       absl::Span<const std::string> der_chain) const;

  // CheckHashes is Check for a chain whose SPKI hashes are already known.
  PinCheckResult CheckHashes(absl::string_view host, absl::Span<const SpkiHash> chain_spki) const;

  const pinning::v1::Catalog& catalog() const { return catalog_; }

 private:
  explicit PinChecker(pinning::v1::Catalog catalog) : catalog_(std::move(catalog)) {}
  PinCheckResult Evaluate(const HostMatch& match, absl::Span<const SpkiHash> chain_spki) const;

  pinning::v1::Catalog catalog_;
  std::unordered_map<std::string, int> host_index_;  // host -> position in catalog_.hosts()
  std::vector<std::vector<SpkiHash>> spki_;          // per pinset, sorted
  std::vector<std::vector<SpkiHash>> bad_spki_;      // per pinset, sorted
};

}  // namespace pinning::client

#endif  // CLIENT_PIN_CHECKER_H_
