// catalog_version.h: the content version of a pin catalog.
//
// A catalog's version is the lower-case hex SHA-256 of its canonical form, so the same pinsets and
// hosts always give the same version, whatever order the hosts were listed in and whatever the
// `source` text says.
//
//   std::string version = CatalogVersion(catalog);   // 64 hex digits
#ifndef AGGREGATOR_REGISTRY_CATALOG_VERSION_H_
#define AGGREGATOR_REGISTRY_CATALOG_VERSION_H_

#include <string>

#include "proto/catalog.pb.h"

namespace pinning::aggregator {

// CatalogVersion returns the hex SHA-256 of the canonical form of `catalog`: a copy with `version`
// and `source` cleared and `hosts` sorted by (host, include_subdomains, pinset_index, mode),
// serialized with protobuf's deterministic serialization. Pinsets keep their order (their position
// is their index in pings).
std::string CatalogVersion(const v1::Catalog& catalog);

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_REGISTRY_CATALOG_VERSION_H_
