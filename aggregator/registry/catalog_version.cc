#include "aggregator/registry/catalog_version.h"

#include "client/catalog.h"

namespace pinning::aggregator {

std::string CatalogVersion(const v1::Catalog& catalog) {
  return pinning::client::CatalogVersion(catalog);
}

absl::Status ValidateCatalogForClients(const v1::Catalog& catalog) {
  return pinning::client::ValidateCatalog(catalog);
}

}  // namespace pinning::aggregator
