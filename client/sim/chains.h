// chains.h: TLS certificate chains for the population simulator, built with OpenSSL.
//
// A satisfied connection to a pinned host presents [leaf, intermediate, root] where the root is a
// REAL certificate from the system's CA store whose SPKI the pinset pins (the default catalog
// names roots of the Mozilla store, client/data/default_catalog.pins). A violation (a MITM proxy
// or a misissued certificate) presents [leaf, intermediate, root] made up on the spot, none of
// them pinned. The pin checker (client/pin_checker.h), not the simulator, decides which is which.
//
// Leaves and intermediates are generated (EC P-256). We do not hold the real roots' keys, so an
// intermediate under a real root carries the root's subject as issuer but is signed by a key of
// ours: the chain has the real shape and the real root, but its signatures do not verify. That
// does not matter here: pin checking runs after the browser's path validation and looks only at
// the SubjectPublicKeyInfos of the chain.
//
// Building chains costs a few milliseconds each, so the simulator builds the handful of distinct
// chains once (one per pinset and serving root, plus the interception chain) and reuses them.
//
//   ASSIGN_OR_RETURN(std::vector<SystemRoot> roots, LoadSystemRoots(kSystemCaBundle));
//   ASSIGN_OR_RETURN(const SystemRoot* root, FindPinnedRoot(catalog.pinsets(0), roots, 0));
//   ChainMaker maker;
//   std::vector<std::string> good = maker.ChainUnderRoot("www.google.com", *root);
//   std::vector<std::string> mitm = maker.InterceptionChain("www.google.com");
//
// Thread safety: the results are plain values; ChainMaker is not thread-safe.
#ifndef CLIENT_SIM_CHAINS_H_
#define CLIENT_SIM_CHAINS_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/catalog.pb.h"

namespace pinning::client::sim {

inline constexpr char kSystemCaBundle[] = "/etc/ssl/certs/ca-certificates.crt";

// SystemRoot is one certificate of the system CA bundle.
struct SystemRoot {
  std::string der;
  std::string spki_sha256;  // 32 raw bytes
  std::string subject;      // one-line subject, for reports
};

// LoadSystemRoots reads every certificate of a PEM bundle. NOT_FOUND when the file cannot be read;
// INVALID_ARGUMENT when it holds no certificate.
absl::StatusOr<std::vector<SystemRoot>> LoadSystemRoots(const std::string& bundle_path);

// FindPinnedRoots returns the roots whose SPKI `pinset` pins (in bundle order). NOT_FOUND naming
// the pinset when none is in the bundle.
absl::StatusOr<std::vector<const SystemRoot*>> FindPinnedRoots(
    const v1::Pinset& pinset, const std::vector<SystemRoot>& roots);

// ChainSpkiHashes returns the SHA-256 of each certificate's SubjectPublicKeyInfo (the values pins
// are made of), in chain order, as PinChecker::CheckHashes takes them. INVALID_ARGUMENT when a
// certificate does not parse.
absl::StatusOr<std::vector<std::array<uint8_t, 32>>> ChainSpkiHashes(
    const std::vector<std::string>& der_chain);

// ChainMaker makes leaf and intermediate certificates with fresh EC P-256 keys.
class ChainMaker {
 public:
  ChainMaker();
  ~ChainMaker();
  ChainMaker(const ChainMaker&) = delete;
  ChainMaker& operator=(const ChainMaker&) = delete;

  // ChainUnderRoot returns DER [leaf for `host`, intermediate, root.der] (see the file comment).
  absl::StatusOr<std::vector<std::string>> ChainUnderRoot(absl::string_view host,
                                                          const SystemRoot& root);

  // InterceptionChain returns DER [leaf for `host`, intermediate, generated root], as a
  // TLS-intercepting proxy presents.
  absl::StatusOr<std::vector<std::string>> InterceptionChain(absl::string_view host);

 private:
  struct Keys;
  std::unique_ptr<Keys> keys_;
  long next_serial_ = 1;
};

}  // namespace pinning::client::sim

#endif  // CLIENT_SIM_CHAINS_H_
