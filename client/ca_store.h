// ca_store.h: the system's CA certificates, searchable by Mozilla root-store name.
//
// Firefox's PreloadedHPKPins.json names the certificates of a pinset by their Mozilla root-store
// names ("DigiCert Global Root CA", "Go Daddy Class 2 CA"). CaStore loads the PEM bundle the
// system trusts (Debian: /etc/ssl/certs/ca-certificates.crt) and resolves such names:
//  1. Nickname: Debian names each Mozilla root's file after its nickname (CKA_LABEL) with
//     ' ' and '/' and ',' turned into '_' and '(' ')' into '=' (ca-certificates'
//     certdata2pem.py); when a nickname directory is loaded (/etc/ssl/certs/*.pem) a name whose
//     transformed form is a file of that directory resolves to that certificate.
//  2. Subject: otherwise the name is compared with the certificate's subject CN and OUs (and O
//     when there is neither), case-insensitively, ignoring punctuation, and treating
//     "Certification Authority"/"Certificate Authority" as "CA" on both sides: Mozilla's nickname
//     is the CN, else the OU, with that abbreviation in older entries.
//  3. Alias: a short table of old nicknames whose subject differs completely (e.g. "Comodo AAA
//     Services root" is CN "AAA Certificate Services") is tried through rule 2.
// A name may resolve to several certificates (Mozilla reused names across key generations);
// all of them count. Names of roots no longer in the store do not resolve.
//
//   ASSIGN_OR_RETURN(CaStore store, CaStore::Load(CaStore::Options()));
//   ASSIGN_OR_RETURN(CaStore::Match m, store.Find("DigiCert Global Root CA"));
#ifndef CLIENT_CA_STORE_H_
#define CLIENT_CA_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/spki.h"
#include "client/spki_name_resolver.h"

namespace pinning::client {

// CaCertificate is one trusted certificate of the store.
struct CaCertificate {
  std::string der;
  SpkiHash spki;
  std::string common_name;                        // Empty when the subject has no CN.
  std::vector<std::string> organizational_units;  // Subject OUs, in order.
  std::vector<std::string> organizations;         // Subject Os, in order.
  std::string nickname_file;  // File base name in the nickname directory, if any.
};

// CaStore is immutable after loading and safe to share between threads.
class CaStore final : public SpkiNameResolver {
 public:
  struct Options {
    // PEM bundle of trusted certificates.
    std::string bundle_path = "/etc/ssl/certs/ca-certificates.crt";
    // Directory of per-certificate files named after Mozilla nicknames ("*.pem" or "*.crt"),
    // or empty to resolve by subject only. Files whose certificate is not in the bundle are
    // ignored: the bundle decides what is trusted.
    std::string nickname_dir = "/etc/ssl/certs";
  };

  // How a name was resolved.
  enum class MatchMethod { kNickname, kSubject, kAlias };

  struct Match {
    std::vector<const CaCertificate*> certificates;  // At least one.
    MatchMethod method;
  };

  // Load reads the bundle (and the nickname directory). Errors: NOT_FOUND / INVALID_ARGUMENT
  // for a missing or unparsable bundle, or one without certificates.
  static absl::StatusOr<CaStore> Load(const Options& options);

  // FromPemBundle builds a store from PEM text (no nickname directory). `description` is
  // used in reports.
  static absl::StatusOr<CaStore> FromPemBundle(absl::string_view pem, std::string description);

  // Find resolves a Mozilla root-store name (see the file comment for the rules).
  // Errors: NOT_FOUND.
  absl::StatusOr<Match> Find(absl::string_view name) const;

  // Resolve is Find, returning the SPKI hashes (deduplicated, sorted).
  absl::StatusOr<std::vector<SpkiHash>> Resolve(absl::string_view name) const override;
  std::string Description() const override { return description_; }

  const std::vector<CaCertificate>& certificates() const { return certificates_; }

  // NicknameFileName converts a Mozilla nickname to Debian's file base name
  // ("Entrust.net Premium 2048 Secure Server CA" -> "Entrust.net_Premium_2048_Secure_Server_CA").
  static std::string NicknameFileName(absl::string_view nickname);

 private:
  CaStore() = default;
  absl::Status LoadNicknameDirectory(const std::string& dir);
  std::vector<const CaCertificate*> FindBySubject(absl::string_view name) const;

  std::string description_;
  std::vector<CaCertificate> certificates_;
};

}  // namespace pinning::client

#endif  // CLIENT_CA_STORE_H_
