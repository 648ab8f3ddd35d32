// pins_file.h: parser for Chromium's transport_security_state_static.pins.
//
// The .pins file defines the SPKI names that the pinsets of transport_security_state_static
// pins .json refer to. After `#` comment lines and blank lines, each entry is a name line
// followed by its value, one of:
//   - a PEM certificate (`-----BEGIN CERTIFICATE-----` ... `-----END CERTIFICATE-----`): the
//     name stands for the certificate's SPKI;
//   - a PEM public key (`-----BEGIN PUBLIC KEY-----` ...): the SPKI itself;
//   - `sha256/<base64>`: the hash itself.
// The special entry `PinsListTimestamp` is followed by a decimal Unix time.
// Our own companion files (client/data/default_catalog.pins) may also use
//   - `store:<Mozilla root-store name>`: the SPKI of that certificate in the system's CA store,
// resolved through a CaStore-like resolver; a certificate the store lacks makes the name
// defined-but-unresolvable, so pin-list resolution reports it like any unresolved name.
//
//   ASSIGN_OR_RETURN(PinsFile pins,
//                    ParsePinsFile(text, "transport_security_state_static.pins", nullptr));
//   absl::StatusOr<std::vector<SpkiHash>> h = pins.dictionary.Resolve("GTSRootR1");
#ifndef CLIENT_PINS_FILE_H_
#define CLIENT_PINS_FILE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/spki_name_resolver.h"

namespace pinning::client {

struct PinsFile {
  explicit PinsFile(std::string file) : dictionary(std::move(file)) {}
  SpkiDictionary dictionary;
  // The PinsListTimestamp value, when present.
  std::optional<int64_t> timestamp;
  // How many names each kind of value defined.
  int certificates = 0;
  int public_keys = 0;
  int sha256_hashes = 0;
  int store_names = 0;
};

// ParsePinsFile parses .pins text. `file` names it in messages and in the dictionary's
// description. `store` resolves `store:` values; when it is null, a `store:` value is an error
// (Chromium's own format has none).
// Errors: INVALID_ARGUMENT naming the line: a name without a value, a malformed or unterminated
// PEM block, bad base64, a bad timestamp, or a name defined twice.
absl::StatusOr<PinsFile> ParsePinsFile(absl::string_view text, absl::string_view file,
                                       const SpkiNameResolver* store);

}  // namespace pinning::client

#endif  // CLIENT_PINS_FILE_H_
