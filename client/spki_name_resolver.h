// spki_name_resolver.h: turns the SPKI names used in pin lists into SPKI hashes.
//
// Pin lists name keys rather than spelling out hashes: Chromium's pinsets say "GTSRootR1" and
// the companion .pins file defines it; Firefox's pinsets say "DigiCert Global Root CA", a
// certificate of the Mozilla root store. A SpkiNameResolver answers "which SPKI hashes does this
// name stand for", so pin-list resolution (pin_list.h) works the same for both formats.
// SpkiDictionary is the in-memory implementation, filled by the .pins parser (pins_file.h);
// CaStore (ca_store.h) resolves certificate names from the system's CA certificates.
//
//   SpkiDictionary dict("my.pins");
//   RETURN_IF_ERROR(dict.Add("Backup", {hash}, /*line=*/12));
//   absl::StatusOr<std::vector<SpkiHash>> hashes = dict.Resolve("Backup");
#ifndef CLIENT_SPKI_NAME_RESOLVER_H_
#define CLIENT_SPKI_NAME_RESOLVER_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/spki.h"

namespace pinning::client {

// SpkiNameResolver maps a name from a pin list to the SPKI hashes it stands for. Implementations
// are immutable after construction and safe to use from several threads.
class SpkiNameResolver {
 public:
  virtual ~SpkiNameResolver() = default;

  // Resolve returns the hashes for `name` (at least one, no duplicates), or NOT_FOUND with a
  // message that says why the name could not be resolved.
  virtual absl::StatusOr<std::vector<SpkiHash>> Resolve(absl::string_view name) const = 0;

  // Description names where names are looked up (e.g. the file), for reports.
  virtual std::string Description() const = 0;
};

// SpkiDictionary is a SpkiNameResolver over an explicit table. A name may also be recorded as
// defined-but-unresolvable, with the reason (e.g. a .pins entry naming a certificate the CA store
// lacks); Resolve then returns NOT_FOUND with that reason.
class SpkiDictionary final : public SpkiNameResolver {
 public:
  explicit SpkiDictionary(std::string description) : description_(std::move(description)) {}

  // Add defines `name` as `hashes` (deduplicated; must not be empty). `line` is where the name
  // is defined (0 if unknown). Errors: ALREADY_EXISTS if `name` is defined, INVALID_ARGUMENT if
  // `hashes` is empty.
  absl::Status Add(std::string name, std::vector<SpkiHash> hashes, int line = 0);

  // AddUnresolvable defines `name` as known but unresolvable for `reason`.
  // Errors: ALREADY_EXISTS if `name` is defined.
  absl::Status AddUnresolvable(std::string name, std::string reason, int line = 0);

  absl::StatusOr<std::vector<SpkiHash>> Resolve(absl::string_view name) const override;
  std::string Description() const override { return description_; }

  // size is the number of defined names, resolvable or not.
  size_t size() const { return entries_.size(); }

  // Names returns every defined name in sorted order.
  std::vector<std::string> Names() const;

 private:
  struct Entry {
    std::vector<SpkiHash> hashes;  // Empty when unresolvable.
    std::string unresolvable_reason;
    int line = 0;
  };
  std::string description_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace pinning::client

#endif  // CLIENT_SPKI_NAME_RESOLVER_H_
