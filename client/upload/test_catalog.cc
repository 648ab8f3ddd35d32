#include "client/upload/test_catalog.h"

#include <string>

#include "client/catalog.h"

namespace pinning::client {

v1::Catalog MakeTestCatalog(int num_pinsets, uint8_t salt) {
  v1::Catalog catalog;
  for (int i = 0; i < num_pinsets; ++i) {
    v1::Pinset* pinset = catalog.add_pinsets();
    pinset->set_index(static_cast<uint32_t>(i));
    pinset->set_name("p" + std::to_string(i));
    pinset->set_organization("Org" + std::to_string(i));
    pinset->set_mode(v1::PIN_MODE_ENFORCE);
    std::string hash(32, static_cast<char>(i + 1));
    hash[31] = static_cast<char>(salt);
    pinset->add_spki_sha256(hash);
    v1::PinnedHost* host = catalog.add_hosts();
    host->set_host("h" + std::to_string(i) + ".test");
    host->set_include_subdomains(true);
    host->set_pinset_index(static_cast<uint32_t>(i));
  }
  catalog.set_source("test");
  catalog.set_version(CatalogVersion(catalog));
  return catalog;
}

v1::Catalog MakeTestCatalogWithPins(const std::vector<std::string>& pinset_spki) {
  v1::Catalog catalog = MakeTestCatalog(static_cast<int>(pinset_spki.size()));
  for (size_t i = 0; i < pinset_spki.size(); ++i) {
    catalog.mutable_pinsets(static_cast<int>(i))->set_spki_sha256(0, pinset_spki[i]);
  }
  catalog.set_version(CatalogVersion(catalog));
  return catalog;
}

v1::ParamsVersion MakeTestParamsVersion(uint32_t version, const v1::Catalog& catalog, double f,
                                        double p, double q, uint32_t pinsets_per_ping) {
  v1::ParamsVersion pv;
  pv.set_version(version);
  pv.set_catalog_version(catalog.version());
  v1::RandomizationParams* params = pv.mutable_params();
  params->set_f(f);
  params->set_p(p);
  params->set_q(q);
  params->set_pinsets_per_ping(pinsets_per_ping);
  params->set_bits_per_pinset(2);
  return pv;
}

}  // namespace pinning::client
