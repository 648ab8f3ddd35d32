// catalog_version.h: the content version of a pin catalog, as the aggregator computes it.
//
// There is one definition of a catalog version in the product: the client library's
// (client/catalog.h, CanonicalCatalogBytes format 1), because browsers check every catalog they
// receive against it. The aggregator recomputes versions with the same function, so a catalog built
// by the client tools can be published with its version set, and a catalog published without one
// gets the version browsers expect.
//
//   std::string version = CatalogVersion(catalog);   // 64 lower-case hex digits
//   RETURN_IF_ERROR(ValidateCatalogForClients(catalog_with_version));
#ifndef AGGREGATOR_REGISTRY_CATALOG_VERSION_H_
#define AGGREGATOR_REGISTRY_CATALOG_VERSION_H_

#include <string>

#include "absl/status/status.h"
#include "proto/catalog.pb.h"

namespace pinning::aggregator {

// CatalogVersion returns the lower-case hex SHA-256 of the canonical form of `catalog`
// (pinning::client::CatalogVersion): independent of host order, SPKI hash order, `source` and the
// `version` field; pinset order is content (a pinset's position is its index in pings).
std::string CatalogVersion(const v1::Catalog& catalog);

// ValidateCatalogForClients returns INVALID_ARGUMENT (naming the first problem) when browsers
// would refuse `catalog` (pinning::client::ValidateCatalog): indices equal to positions, unique
// non-empty names, organizations, TEST/ENFORCE modes, 32-byte hashes with at least one acceptable
// hash per pinset, normalized unique hosts naming existing pinsets, and version ==
// CatalogVersion(catalog).
[[nodiscard]] absl::Status ValidateCatalogForClients(const v1::Catalog& catalog);

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_REGISTRY_CATALOG_VERSION_H_
