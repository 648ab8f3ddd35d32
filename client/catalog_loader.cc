#include "client/catalog_loader.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "client/file_io.h"
#include "client/pins_file.h"
#include "third_party/absl_compat/status_macros.h"

namespace pinning::client {
namespace {

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

absl::StatusOr<PinList> LoadChromiumPinList(const std::string& json_path,
                                            const std::string& pins_path, UnresolvedPolicy policy) {
  ASSIGN_OR_RETURN(std::string json, ReadFileToString(json_path));
  ASSIGN_OR_RETURN(std::string pins_text, ReadFileToString(pins_path));
  ASSIGN_OR_RETURN(PinListDocument doc, ParseChromiumPinList(json, BaseName(json_path)));
  ASSIGN_OR_RETURN(PinsFile pins, ParsePinsFile(pins_text, BaseName(pins_path), nullptr));
  ASSIGN_OR_RETURN(PinList list, ResolvePinList(doc, pins.dictionary, policy));
  list.sources.push_back(BaseName(pins_path));
  return list;
}

absl::StatusOr<PinList> LoadFirefoxPinList(const std::string& json_path, const CaStore& store,
                                           UnresolvedPolicy policy) {
  ASSIGN_OR_RETURN(std::string json, ReadFileToString(json_path));
  ASSIGN_OR_RETURN(PinListDocument doc, ParseFirefoxPinList(json, BaseName(json_path)));
  return ResolvePinList(doc, store, policy);
}

absl::StatusOr<OrganizationMap> LoadOrganizationMap(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseOrganizationMap(text, BaseName(path));
}

absl::StatusOr<BuiltCatalog> LoadDefaultCatalog(const std::string& data_dir, const CaStore& store,
                                                UnresolvedPolicy policy) {
  const std::string json_path = absl::StrCat(data_dir, "/default_catalog.json");
  const std::string pins_path = absl::StrCat(data_dir, "/default_catalog.pins");
  ASSIGN_OR_RETURN(std::string json, ReadFileToString(json_path));
  ASSIGN_OR_RETURN(std::string pins_text, ReadFileToString(pins_path));
  ASSIGN_OR_RETURN(PinListDocument doc, ParseChromiumPinList(json, BaseName(json_path)));
  ASSIGN_OR_RETURN(PinsFile pins, ParsePinsFile(pins_text, BaseName(pins_path), &store));
  ASSIGN_OR_RETURN(PinList list, ResolvePinList(doc, pins.dictionary, policy));
  list.sources.push_back(BaseName(pins_path));
  ASSIGN_OR_RETURN(OrganizationMap orgs,
                   LoadOrganizationMap(absl::StrCat(data_dir, "/organizations.json")));
  return BuildCatalog(list, orgs);
}

}  // namespace pinning::client
