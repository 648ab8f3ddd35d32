#include "client/spki_name_resolver.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace pinning::client {

absl::Status SpkiDictionary::Add(std::string name, std::vector<SpkiHash> hashes, int line) {
  if (hashes.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("SPKI name \"", name, "\" has no hash"));
  }
  if (auto it = entries_.find(name); it != entries_.end()) {
    return absl::AlreadyExistsError(absl::StrCat("SPKI name \"", name, "\" defined twice in ",
                                                 description_, " (lines ", it->second.line, " and ",
                                                 line, ")"));
  }
  std::sort(hashes.begin(), hashes.end());
  hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
  entries_.emplace(std::move(name), Entry{std::move(hashes), "", line});
  return absl::OkStatus();
}

absl::Status SpkiDictionary::AddUnresolvable(std::string name, std::string reason, int line) {
  if (auto it = entries_.find(name); it != entries_.end()) {
    return absl::AlreadyExistsError(absl::StrCat("SPKI name \"", name, "\" defined twice in ",
                                                 description_, " (lines ", it->second.line, " and ",
                                                 line, ")"));
  }
  entries_.emplace(std::move(name), Entry{{}, std::move(reason), line});
  return absl::OkStatus();
}

absl::StatusOr<std::vector<SpkiHash>> SpkiDictionary::Resolve(absl::string_view name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    return absl::NotFoundError(absl::StrCat("not defined in ", description_));
  }
  if (it->second.hashes.empty()) {
    return absl::NotFoundError(absl::StrCat("defined in ", description_, " line ", it->second.line,
                                            " but unresolvable: ", it->second.unresolvable_reason));
  }
  return it->second.hashes;
}

std::vector<std::string> SpkiDictionary::Names() const {
  std::vector<std::string> names;
  names.reserve(entries_.size());
  for (const auto& [name, entry] : entries_) names.push_back(name);
  return names;
}

}  // namespace pinning::client
