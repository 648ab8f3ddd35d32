// catalog_loader.h: reads pin lists, the organization map and the default catalog from disk.
//
// The parsing and resolution live in pin_list.h, pins_file.h, ca_store.h and catalog.h; these
// functions only add file reading and the file names used in reports.
//
//   ASSIGN_OR_RETURN(CaStore store, CaStore::Load(CaStore::Options()));
//   ASSIGN_OR_RETURN(BuiltCatalog built,
//                    LoadDefaultCatalog("client/data", store, UnresolvedPolicy::kStrict));
#ifndef CLIENT_CATALOG_LOADER_H_
#define CLIENT_CATALOG_LOADER_H_

#include <string>

#include "absl/status/statusor.h"
#include "client/ca_store.h"
#include "client/catalog.h"
#include "client/organization_map.h"
#include "client/pin_list.h"

namespace pinning::client {

// LoadChromiumPinList reads Chromium's transport_security_state_static_pins.json and its
// transport_security_state_static.pins and resolves the list under `policy`.
absl::StatusOr<PinList> LoadChromiumPinList(const std::string& json_path,
                                            const std::string& pins_path, UnresolvedPolicy policy);

// LoadFirefoxPinList reads Firefox's PreloadedHPKPins.json and resolves its certificate names
// with `store` under `policy`.
absl::StatusOr<PinList> LoadFirefoxPinList(const std::string& json_path, const CaStore& store,
                                           UnresolvedPolicy policy);

// LoadOrganizationMap reads an organization map file (organization_map.h).
absl::StatusOr<OrganizationMap> LoadOrganizationMap(const std::string& path);

// LoadDefaultCatalog builds the product's default catalog from `data_dir`
// (default_catalog.json, default_catalog.pins, organizations.json), resolving `store:` names
// with `store`.
absl::StatusOr<BuiltCatalog> LoadDefaultCatalog(const std::string& data_dir, const CaStore& store,
                                                UnresolvedPolicy policy);

}  // namespace pinning::client

#endif  // CLIENT_CATALOG_LOADER_H_
