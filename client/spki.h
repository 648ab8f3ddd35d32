// spki.h: SHA-256 hashes of SubjectPublicKeyInfos (SPKIs), the values key pins are made of.
//
// A pin is the SHA-256 of the DER encoding of a certificate's SubjectPublicKeyInfo (RFC 7469
// §2.4), so it survives re-issuing a certificate with the same key. These functions compute it
// with OpenSSL from DER or PEM certificates and public keys, and read the `sha256/<base64>`
// notation of Chromium's .pins file and RFC 7469.
//
//   ASSIGN_OR_RETURN(SpkiHash pin, SpkiHashFromCertificateDer(der));
//   std::string hex = SpkiHashToHex(pin);   // 64 lower-case hex digits
#ifndef CLIENT_SPKI_H_
#define CLIENT_SPKI_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pinning::client {

// SpkiHash is the 32-byte SHA-256 of a DER-encoded SubjectPublicKeyInfo.
using SpkiHash = std::array<uint8_t, 32>;

// SpkiHashFromCertificateDer parses one DER X.509 certificate (d2i_X509; the whole input must be
// consumed) and hashes its SubjectPublicKeyInfo (X509_get_X509_PUBKEY + i2d_X509_PUBKEY).
// Errors: INVALID_ARGUMENT when the bytes are not exactly one certificate.
absl::StatusOr<SpkiHash> SpkiHashFromCertificateDer(absl::string_view der);

// SpkiHashFromPublicKeyDer hashes a DER SubjectPublicKeyInfo after checking that it parses
// (d2i_PUBKEY). Errors: INVALID_ARGUMENT.
absl::StatusOr<SpkiHash> SpkiHashFromPublicKeyDer(absl::string_view der);

// SpkiHashFromCertificatePem hashes the SPKI of the first "CERTIFICATE" PEM block in `pem`.
absl::StatusOr<SpkiHash> SpkiHashFromCertificatePem(absl::string_view pem);

// SpkiHashFromPublicKeyPem hashes the first "PUBLIC KEY" PEM block in `pem`.
absl::StatusOr<SpkiHash> SpkiHashFromPublicKeyPem(absl::string_view pem);

// CertificateDerFromPem returns the DER bytes of the first "CERTIFICATE" PEM block in `pem`.
absl::StatusOr<std::string> CertificateDerFromPem(absl::string_view pem);

// ParseSha256Pin reads "sha256/<base64 of 32 bytes>" (RFC 7469 pin-sha256 value with Chromium's
// prefix). Errors: INVALID_ARGUMENT for another prefix, bad base64 or a length other than 32.
absl::StatusOr<SpkiHash> ParseSha256Pin(absl::string_view text);

// SpkiHashToHex returns 64 lower-case hex digits.
std::string SpkiHashToHex(const SpkiHash& hash);

// SpkiHashToBase64Pin returns "sha256/<base64>", the inverse of ParseSha256Pin.
std::string SpkiHashToBase64Pin(const SpkiHash& hash);

// SpkiHashFromBytes converts 32 raw bytes (as stored in the catalog proto). Errors:
// INVALID_ARGUMENT for another length.
absl::StatusOr<SpkiHash> SpkiHashFromBytes(absl::string_view bytes);

// SpkiHashAsBytes returns the 32 raw bytes as a string (for the catalog proto).
std::string SpkiHashAsBytes(const SpkiHash& hash);

}  // namespace pinning::client

#endif  // CLIENT_SPKI_H_
