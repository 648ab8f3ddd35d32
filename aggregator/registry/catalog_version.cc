#include "aggregator/registry/catalog_version.h"

#include <openssl/sha.h>

#include <algorithm>
#include <tuple>

#include "absl/strings/escaping.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace pinning::aggregator {

std::string CatalogVersion(const v1::Catalog& catalog) {
  v1::Catalog canonical = catalog;
  canonical.clear_version();
  canonical.clear_source();
  auto* hosts = canonical.mutable_hosts();
  std::sort(hosts->begin(), hosts->end(), [](const v1::PinnedHost& a, const v1::PinnedHost& b) {
    return std::make_tuple(a.host(), a.include_subdomains(), a.pinset_index(),
                           static_cast<int>(a.mode())) <
           std::make_tuple(b.host(), b.include_subdomains(), b.pinset_index(),
                           static_cast<int>(b.mode()));
  });
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    canonical.SerializeToCodedStream(&coded);
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

}  // namespace pinning::aggregator
