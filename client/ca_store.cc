#include "client/ca_store.h"

#include <dirent.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "third_party/absl_compat/status_macros.h"

namespace pinning::client {
namespace {

// Old Mozilla nicknames whose certificate subject shares no usable name with them. Each maps
// to a subject CN or OU that rule 2 then matches.
constexpr std::pair<absl::string_view, absl::string_view> kNicknameAliases[] = {
    {"Comodo AAA Services root", "AAA Certificate Services"},
    {"Comodo Secure Services root", "Secure Certificate Services"},
    {"Comodo Trusted Services root", "Trusted Certificate Services"},
    {"XRamp Global CA Root", "XRamp Global Certification Authority"},
    {"Entrust.net Premium 2048 Secure Server CA", "Entrust.net Certification Authority (2048)"},
    {"UTN USERFirst Hardware Root CA", "UTN-USERFirst-Hardware"},
    {"UTN DATACorp SGC Root CA", "UTN - DATACorp SGC"},
    {"Verisign Class 3 Public Primary Certification Authority",
     "Class 3 Public Primary Certification Authority"},
};

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

// Lower-cases ASCII, turns every run of other ASCII characters into one space, trims.
std::string NormalizeName(absl::string_view name) {
  std::string out;
  bool pending_space = false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || absl::ascii_isalnum(c)) {
      if (pending_space && !out.empty()) out.push_back(' ');
      pending_space = false;
      out.push_back(absl::ascii_tolower(c));
    } else {
      pending_space = true;
    }
  }
  return out;
}

// The "Certification Authority" -> "CA" abbreviation of Mozilla's older nicknames.
std::string Abbreviate(absl::string_view normalized) {
  std::string padded = absl::StrCat(" ", normalized, " ");
  padded = absl::StrReplaceAll(
      padded, {{" certification authority ", " ca "}, {" certificate authority ", " ca "}});
  return std::string(absl::StripAsciiWhitespace(padded));
}

std::vector<std::string> NameForms(absl::string_view name) {
  std::string normalized = NormalizeName(name);
  std::string abbreviated = Abbreviate(normalized);
  if (abbreviated == normalized) return {normalized};
  return {normalized, abbreviated};
}

std::vector<std::string> SubjectEntries(X509_NAME* name, int nid) {
  std::vector<std::string> out;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char* utf8 = nullptr;
    const int size = ASN1_STRING_to_UTF8(&utf8, data);
    if (size >= 0) {
      out.emplace_back(reinterpret_cast<char*>(utf8), size);
      OPENSSL_free(utf8);
    }
  }
  return out;
}

absl::StatusOr<CaCertificate> MakeCertificate(X509* cert) {
  CaCertificate out;
  unsigned char* der = nullptr;
  const int size = i2d_X509(cert, &der);
  if (size <= 0) return absl::InvalidArgumentError("cannot encode a CA certificate");
  out.der.assign(reinterpret_cast<char*>(der), size);
  OPENSSL_free(der);
  ASSIGN_OR_RETURN(out.spki, SpkiHashFromCertificateDer(out.der));
  X509_NAME* subject = X509_get_subject_name(cert);
  std::vector<std::string> cns = SubjectEntries(subject, NID_commonName);
  if (!cns.empty()) out.common_name = cns.back();
  out.organizational_units = SubjectEntries(subject, NID_organizationalUnitName);
  out.organizations = SubjectEntries(subject, NID_organizationName);
  return out;
}

// Reads every CERTIFICATE block of a PEM text.
absl::StatusOr<std::vector<CaCertificate>> ReadPemCertificates(absl::string_view pem,
                                                               absl::string_view what) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  std::vector<CaCertificate> out;
  ERR_clear_error();
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert == nullptr) {
      const unsigned long err = ERR_peek_last_error();  // NOLINT(google-runtime-int): OpenSSL
      ERR_clear_error();
      if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) break;
      return absl::InvalidArgumentError(
          absl::StrCat("unparsable certificate #", out.size() + 1, " in ", what));
    }
    ASSIGN_OR_RETURN(CaCertificate c, MakeCertificate(cert.get()));
    out.push_back(std::move(c));
  }
  return out;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

std::string CaStore::NicknameFileName(absl::string_view nickname) {
  return absl::StrReplaceAll(nickname,
                             {{"/", "_"}, {" ", "_"}, {"(", "="}, {")", "="}, {",", "_"}});
}

absl::StatusOr<CaStore> CaStore::FromPemBundle(absl::string_view pem, std::string description) {
  CaStore store;
  store.description_ = std::move(description);
  ASSIGN_OR_RETURN(store.certificates_, ReadPemCertificates(pem, store.description_));
  if (store.certificates_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no certificates in ", store.description_));
  }
  return store;
}

absl::StatusOr<CaStore> CaStore::Load(const Options& options) {
  ASSIGN_OR_RETURN(std::string pem, ReadWholeFile(options.bundle_path));
  ASSIGN_OR_RETURN(CaStore store, FromPemBundle(pem, options.bundle_path));
  if (!options.nickname_dir.empty()) {
    RETURN_IF_ERROR(store.LoadNicknameDirectory(options.nickname_dir));
    store.description_ =
        absl::StrCat(options.bundle_path, " (nicknames from ", options.nickname_dir, ")");
  }
  return store;
}

absl::Status CaStore::LoadNicknameDirectory(const std::string& dir) {
  struct DirCloser {
    void operator()(DIR* d) const { closedir(d); }
  };
  std::unique_ptr<DIR, DirCloser> d(opendir(dir.c_str()));
  if (d == nullptr) return absl::NotFoundError(absl::StrCat("cannot open directory ", dir));
  std::map<std::string, CaCertificate*> by_der;
  for (CaCertificate& c : certificates_) by_der[c.der] = &c;
  std::vector<std::string> names;
  while (const dirent* entry = readdir(d.get())) {
    names.emplace_back(entry->d_name);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& file : names) {
    absl::string_view base = file;
    if (!absl::ConsumeSuffix(&base, ".pem") && !absl::ConsumeSuffix(&base, ".crt")) continue;
    absl::StatusOr<std::string> pem = ReadWholeFile(absl::StrCat(dir, "/", file));
    if (!pem.ok()) continue;  // Dangling links are not an error of the store.
    absl::StatusOr<std::vector<CaCertificate>> certs = ReadPemCertificates(*pem, file);
    if (!certs.ok() || certs->size() != 1) continue;  // Not a single-certificate file.
    auto it = by_der.find(certs->front().der);
    if (it != by_der.end() && it->second->nickname_file.empty()) {
      it->second->nickname_file = std::string(base);
    }
  }
  return absl::OkStatus();
}

std::vector<const CaCertificate*> CaStore::FindBySubject(absl::string_view name) const {
  const std::vector<std::string> query = NameForms(name);
  std::vector<const CaCertificate*> out;
  for (const CaCertificate& c : certificates_) {
    std::vector<std::string> keys;
    if (!c.common_name.empty()) keys.push_back(c.common_name);
    keys.insert(keys.end(), c.organizational_units.begin(), c.organizational_units.end());
    if (keys.empty()) keys = c.organizations;
    bool matched = false;
    for (const std::string& key : keys) {
      for (const std::string& form : NameForms(key)) {
        if (std::find(query.begin(), query.end(), form) != query.end()) matched = true;
      }
    }
    if (matched) out.push_back(&c);
  }
  return out;
}

absl::StatusOr<CaStore::Match> CaStore::Find(absl::string_view name) const {
  const std::string file = NicknameFileName(name);
  Match match;
  for (const CaCertificate& c : certificates_) {
    if (!c.nickname_file.empty() && absl::EqualsIgnoreCase(c.nickname_file, file)) {
      match.certificates.push_back(&c);
    }
  }
  if (!match.certificates.empty()) {
    match.method = MatchMethod::kNickname;
    return match;
  }
  match.certificates = FindBySubject(name);
  if (!match.certificates.empty()) {
    match.method = MatchMethod::kSubject;
    return match;
  }
  for (const auto& [alias, subject] : kNicknameAliases) {
    if (NormalizeName(alias) == NormalizeName(name)) {
      match.certificates = FindBySubject(subject);
      if (!match.certificates.empty()) {
        match.method = MatchMethod::kAlias;
        return match;
      }
    }
  }
  return absl::NotFoundError(absl::StrCat("no certificate in ", description_,
                                          " has this Mozilla nickname or subject name"));
}

absl::StatusOr<std::vector<SpkiHash>> CaStore::Resolve(absl::string_view name) const {
  ASSIGN_OR_RETURN(Match match, Find(name));
  std::vector<SpkiHash> hashes;
  for (const CaCertificate* c : match.certificates) hashes.push_back(c->spki);
  std::sort(hashes.begin(), hashes.end());
  hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
  return hashes;
}

}  // namespace pinning::client
