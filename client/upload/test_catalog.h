// test_catalog.h: small, valid catalogs and parameter versions for uploader and profile tests.
//
//   v1::Catalog catalog = MakeTestCatalog(3);          // pinsets p0..p2, hosts h0.test..h2.test
//   v1::ParamsVersion pv = MakeTestParamsVersion(1, catalog, 0.5, 0.25, 0.75, 3);
#ifndef CLIENT_UPLOAD_TEST_CATALOG_H_
#define CLIENT_UPLOAD_TEST_CATALOG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "proto/catalog.pb.h"
#include "proto/params.pb.h"

namespace pinning::client {

// MakeTestCatalog returns a catalog of `num_pinsets` pinsets named p0, p1, ... (organization
// "Org<i>", enforce mode, one made-up 32-byte SPKI hash each), each pinning host "h<i>.test" with
// subdomains, and `version` set to its content hash. `salt` changes the hashes (and the version).
v1::Catalog MakeTestCatalog(int num_pinsets, uint8_t salt = 0);

// MakeTestCatalogWithPins is MakeTestCatalog with pinset i accepting exactly the SPKI hash
// `pinset_spki[i]` (32 raw bytes), for checks with real certificates.
v1::Catalog MakeTestCatalogWithPins(const std::vector<std::string>& pinset_spki);

// MakeTestParamsVersion returns params version `version` for `catalog` with the given f, p, q, s
// and 2 bits per pinset (epsilons left 0: clients recompute them).
v1::ParamsVersion MakeTestParamsVersion(uint32_t version, const v1::Catalog& catalog, double f,
                                        double p, double q, uint32_t pinsets_per_ping);

}  // namespace pinning::client

#endif  // CLIENT_UPLOAD_TEST_CATALOG_H_
