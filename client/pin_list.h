// pin_list.h: Chromium and Firefox static pin lists, parsed and resolved to SPKI hashes.
//
// A pin list has pinsets (a name, the SPKI names it accepts, and for Chromium the SPKI names it
// forbids) and host entries (a host, whether subdomains are included, the pinset, and for
// Firefox whether the entry is in test mode). Parsing keeps the SPKI names; resolution turns
// them into hashes with a SpkiNameResolver (Chromium: the .pins file, pins_file.h; Firefox: the
// system's CA store, ca_store.h) and reports every name it could not resolve precisely
// (pinset, name, file and line).
//
// Chromium's transport_security_state_static_pins.json and its .pins file come from different
// dates, so some names may be missing; UnresolvedPolicy says what to do about them.
//
//   ASSIGN_OR_RETURN(PinListDocument doc, ParseChromiumPinList(json_text, "pins.json"));
//   ASSIGN_OR_RETURN(PinsFile pins, ParsePinsFile(pins_text, "static.pins", nullptr));
//   ASSIGN_OR_RETURN(PinList list,
//                    ResolvePinList(doc, pins.dictionary, UnresolvedPolicy::kSkipPinset));
//   for (const std::string& w : list.warnings) LOG(WARNING) << w;
#ifndef CLIENT_PIN_LIST_H_
#define CLIENT_PIN_LIST_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/spki.h"
#include "client/spki_name_resolver.h"

namespace pinning::client {

// SpkiNameRef is one SPKI name as written in a pinset, with its line in the file.
struct SpkiNameRef {
  std::string name;
  int line = 0;
};

// PinsetSpec is one pinset as written in the file, before resolution.
struct PinsetSpec {
  std::string name;
  std::vector<SpkiNameRef> spki_names;      // static_spki_hashes / sha256_hashes
  std::vector<SpkiNameRef> bad_spki_names;  // bad_static_spki_hashes (Chromium only)
  int line = 0;
};

// PinEntry is one pinned host.
struct PinEntry {
  std::string host;  // Lower case, no trailing dot.
  bool include_subdomains = false;
  std::string pinset;
  bool test_mode = false;  // Firefox's "test_mode": violations are counted, not enforced.
  int line = 0;
};

// PinListDocument is a parsed, unresolved pin list.
struct PinListDocument {
  std::string file;  // For messages.
  std::vector<PinsetSpec> pinsets;
  std::vector<PinEntry> entries;
};

// ParseChromiumPinList parses Chromium's transport_security_state_static_pins.json format
// (comments allowed). Pinsets: "name", "static_spki_hashes", optional
// "bad_static_spki_hashes"; entries: "name", optional "include_subdomains", "pins", and
// optionally Firefox's "test_mode" (used by our default catalog). Other members (report_uri,
// HSTS fields) are ignored; entries without "pins" (HSTS only) are skipped.
// Errors: INVALID_ARGUMENT naming file and line: bad JSON, wrong types, a duplicate pinset
// name or host, an invalid host name, or an entry naming a pinset that does not exist.
absl::StatusOr<PinListDocument> ParseChromiumPinList(absl::string_view text,
                                                     absl::string_view file);

// ParseFirefoxPinList parses Firefox's PreloadedHPKPins.json format (comments allowed).
// Pinsets: "name", "sha256_hashes" (names of Mozilla root-store certificates); entries:
// "name", optional "include_subdomains", "pins", optional "test_mode" and "id".
// "chromium_data" (which imports Chromium's list at build time) is ignored.
// Errors as ParseChromiumPinList.
absl::StatusOr<PinListDocument> ParseFirefoxPinList(absl::string_view text, absl::string_view file);

// UnresolvedPolicy says what to do with a pinset that names an SPKI the resolver cannot
// resolve.
enum class UnresolvedPolicy {
  // Fail with FAILED_PRECONDITION listing every unresolved name.
  kStrict,
  // Drop the pinset and its host entries, with a warning naming each unresolved name.
  kSkipPinset,
  // Keep the pinset without the unresolved names (a warning names each); drop it (and its
  // hosts) only when none of its acceptable names resolves. Useful for Firefox's old list,
  // whose pinsets name many roots that have since left the store.
  kDropName,
};

// UnresolvedName is one SPKI name that could not be resolved.
struct UnresolvedName {
  std::string pinset;
  std::string name;
  bool bad_list = false;  // From bad_static_spki_hashes.
  std::string file;       // The pin-list file naming it.
  int line = 0;           // Line of the name in that file.
  std::string reason;     // From the resolver, e.g. "not defined in static.pins".

  // ToString formats "file:line: pinset "tor": SPKI name "Tor1": <reason>".
  std::string ToString() const;
};

// ResolvedPinset is a pinset with its SPKI hashes (sorted, deduplicated).
struct ResolvedPinset {
  std::string name;
  std::vector<SpkiHash> spki;
  std::vector<SpkiHash> bad_spki;
};

// PinList is a resolved pin list.
struct PinList {
  std::vector<ResolvedPinset> pinsets;
  std::vector<PinEntry> entries;     // Only entries whose pinset was kept.
  std::vector<std::string> sources;  // The files it came from.
  std::vector<UnresolvedName> unresolved;
  std::vector<std::string> warnings;  // One per unresolved name and per dropped pinset.
  std::vector<std::string> skipped_pinsets;
};

// ResolvePinList resolves every SPKI name of `doc` with `resolver`, applying `policy` to the
// names that do not resolve. Errors: FAILED_PRECONDITION under kStrict when a name does not
// resolve; the message lists all of them (UnresolvedName::ToString, one per line).
absl::StatusOr<PinList> ResolvePinList(const PinListDocument& doc, const SpkiNameResolver& resolver,
                                       UnresolvedPolicy policy);

// MergePinLists concatenates several resolved lists (e.g. Chromium's and Firefox's).
// Errors: INVALID_ARGUMENT when two lists define the same pinset name or the same host.
absl::StatusOr<PinList> MergePinLists(std::vector<PinList> lists);

// NormalizeHost lower-cases ASCII and removes one trailing dot. It returns an empty string for
// a name that cannot be a pinned host (empty labels, characters other than letters, digits,
// '-' and '_', labels longer than 63 or names longer than 253 characters).
std::string NormalizeHost(absl::string_view host);

}  // namespace pinning::client

#endif  // CLIENT_PIN_LIST_H_
