// catalog.h: builds, versions and validates the pin catalog (pinning::v1::Catalog).
//
// A catalog is a resolved pin list plus the organization map. Its pinsets are ordered by name,
// so a pinset's index (its position in a ping) depends only on content. Its version is the
// lower-case hex SHA-256 of a canonical serialization (CanonicalCatalogBytes below), so the
// same content always has the same version, whatever the order of hosts, pinsets or hashes in
// the input files, and any change of content changes it.
//
//   ASSIGN_OR_RETURN(BuiltCatalog built, BuildCatalog(pin_list, organizations));
//   const pinning::v1::Catalog& catalog = built.catalog;   // catalog.version() is set
#ifndef CLIENT_CATALOG_H_
#define CLIENT_CATALOG_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/organization_map.h"
#include "client/pin_list.h"
#include "proto/catalog.pb.h"

namespace pinning::client {

struct BuiltCatalog {
  pinning::v1::Catalog catalog;
  // Pinsets left out because no host uses them: every pinset costs bits in each ping, and so
  // privacy budget (DESIGN §4), so unused ones are not reported.
  std::vector<std::string> unused_pinsets;
};

// BuildCatalog makes a catalog from `list` and `organizations`:
//  - pinsets used by at least one host, sorted by name, index = position;
//  - a pinset's mode is PIN_MODE_TEST when all its hosts are in test mode, else
//    PIN_MODE_ENFORCE; a host whose mode differs from its pinset's carries its own mode,
//    others PIN_MODE_UNSPECIFIED;
//  - SPKI hashes sorted and deduplicated, hosts sorted by name;
//  - source = the pin-list file names joined with ", "; version = CatalogVersion.
// Errors: NOT_FOUND listing every used pinset the organization map lacks; INVALID_ARGUMENT when
// no host is pinned.
absl::StatusOr<BuiltCatalog> BuildCatalog(const PinList& list,
                                          const OrganizationMap& organizations);

// CanonicalCatalogBytes is the serialization the version hashes (format 1). With S(x) =
// "<byte length of x>:<x>" and MODE one of UNSPECIFIED, TEST, ENFORCE:
//   "pinning-catalog-v1\n"
//   "pinsets <K>\n"
//   for each pinset in index order:
//     "pinset <index> S(name) S(organization) MODE\n"
//     "spki <n>\n" then n lines "<64 lower-case hex digits>\n", sorted
//     "bad <n>\n" then n lines likewise, sorted
//   "hosts <H>\n"
//   for each host sorted by host name (bytewise):
//     "host S(host) <0|1 include_subdomains> <pinset index> MODE\n"
// `version` and `source` are not part of it. Numbers are decimal without leading zeros.
std::string CanonicalCatalogBytes(const pinning::v1::Catalog& catalog);

// CatalogVersion returns the lower-case hex SHA-256 of CanonicalCatalogBytes(catalog).
std::string CatalogVersion(const pinning::v1::Catalog& catalog);

// ValidateCatalog checks a catalog received or loaded from disk: pinset indices equal their
// positions, names unique and non-empty, organizations non-empty, pinset modes TEST or ENFORCE,
// hashes 32 bytes with at least one acceptable hash per pinset, hosts normalized
// (NormalizeHost) and unique, host pinset indices in range, and version == CatalogVersion.
// Errors: INVALID_ARGUMENT naming the first problem.
absl::Status ValidateCatalog(const pinning::v1::Catalog& catalog);

}  // namespace pinning::client

#endif  // CLIENT_CATALOG_H_
