// organization_map.h: which organization each pinset belongs to.
//
// Security engineers read violation rates per organization (DESIGN §1), so every pinset of a
// catalog must map to one. The map is a small JSON file of ours (client/data/organizations.json;
// `//` comments allowed):
//
//   { "organizations": { "google": "Google", "tor": "Tor Project" } }
//
//   ASSIGN_OR_RETURN(OrganizationMap orgs, ParseOrganizationMap(text, "organizations.json"));
//   const std::string* org = orgs.Find("google");   // "Google"
#ifndef CLIENT_ORGANIZATION_MAP_H_
#define CLIENT_ORGANIZATION_MAP_H_

#include <functional>
#include <map>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pinning::client {

class OrganizationMap {
 public:
  // Pinset name -> organization name.
  using Map = std::map<std::string, std::string, std::less<>>;

  OrganizationMap() = default;
  explicit OrganizationMap(Map by_pinset) : by_pinset_(std::move(by_pinset)) {}

  // Find returns the organization of `pinset`, or nullptr when the map has none.
  const std::string* Find(absl::string_view pinset) const;

  const Map& by_pinset() const { return by_pinset_; }

 private:
  Map by_pinset_;
};

// ParseOrganizationMap parses the file format above. Errors: INVALID_ARGUMENT naming the file
// and line for bad JSON, a missing "organizations" object, a non-string or empty organization,
// or an empty pinset name.
absl::StatusOr<OrganizationMap> ParseOrganizationMap(absl::string_view text,
                                                     absl::string_view file);

}  // namespace pinning::client

#endif  // CLIENT_ORGANIZATION_MAP_H_
