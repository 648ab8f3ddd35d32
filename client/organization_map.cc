#include "client/organization_map.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/json.h"
#include "client/json_comments.h"
#include "third_party/absl_compat/status_macros.h"

namespace pinning::client {

const std::string* OrganizationMap::Find(absl::string_view pinset) const {
  auto it = by_pinset_.find(pinset);
  return it == by_pinset_.end() ? nullptr : &it->second;
}

absl::StatusOr<OrganizationMap> ParseOrganizationMap(absl::string_view text,
                                                     absl::string_view file) {
  ASSIGN_OR_RETURN(std::string json, StripJsonComments(text));
  absl::StatusOr<JsonValue> root = ParseJson(json);
  if (!root.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", root.status().message()));
  }
  const JsonValue* orgs = root->Find("organizations");
  if (orgs == nullptr || !orgs->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": expected a top-level object with an \"organizations\" object"));
  }
  std::map<std::string, std::string, std::less<>> by_pinset;
  for (const auto& [pinset, org] : orgs->object_members()) {
    if (pinset.empty() || !org.is_string() || org.string_value().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          file, ":", org.line(), ": each pinset name must map to a non-empty organization name"));
    }
    by_pinset.emplace(pinset, org.string_value());
  }
  return OrganizationMap(std::move(by_pinset));
}

}  // namespace pinning::client
