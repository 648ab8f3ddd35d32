#include "client/pin_list.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/json.h"
#include "client/json_comments.h"
#include "third_party/absl_compat/status_macros.h"

namespace pinning::client {
namespace {

// Field names that differ between the two formats.
struct Format {
  absl::string_view spki_field;
  absl::string_view bad_spki_field;  // Empty when the format has none.
};
constexpr Format kChromium = {"static_spki_hashes", "bad_static_spki_hashes"};
constexpr Format kFirefox = {"sha256_hashes", ""};

std::string WithArticle(absl::string_view noun) {
  const bool vowel =
      !noun.empty() && absl::string_view("aeiou").find(noun.front()) != absl::string_view::npos;
  return absl::StrCat(vowel ? "an " : "a ", noun);
}

class SchemaReader {
 public:
  explicit SchemaReader(absl::string_view file) : file_(file) {}

  absl::Status Error(const JsonValue& at, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(file_, ":", at.line(), ": ", what));
  }

  absl::Status ExpectType(const JsonValue& value, JsonValue::Type type,
                          absl::string_view what) const {
    if (value.type() == type) return absl::OkStatus();
    return Error(value, absl::StrCat(what, " must be ", WithArticle(JsonValue::TypeName(type)),
                                     ", not ", WithArticle(JsonValue::TypeName(value.type()))));
  }

  absl::StatusOr<const JsonValue*> Member(const JsonValue& object, absl::string_view key,
                                          JsonValue::Type type, bool required) const {
    const JsonValue* value = object.Find(key);
    if (value == nullptr) {
      if (required) return Error(object, absl::StrCat("missing \"", key, "\""));
      return nullptr;
    }
    RETURN_IF_ERROR(ExpectType(*value, type, absl::StrCat("\"", key, "\"")));
    return value;
  }

  absl::StatusOr<bool> OptionalBool(const JsonValue& object, absl::string_view key) const {
    ASSIGN_OR_RETURN(const JsonValue* v, Member(object, key, JsonValue::Type::kBool, false));
    return v != nullptr && v->bool_value();
  }

  absl::StatusOr<std::vector<SpkiNameRef>> NameList(const JsonValue& object, absl::string_view key,
                                                    bool required) const {
    ASSIGN_OR_RETURN(const JsonValue* list, Member(object, key, JsonValue::Type::kArray, required));
    std::vector<SpkiNameRef> out;
    if (list == nullptr) return out;
    for (const JsonValue& item : list->array_items()) {
      RETURN_IF_ERROR(ExpectType(item, JsonValue::Type::kString, "an SPKI name"));
      out.push_back({item.string_value(), item.line()});
    }
    return out;
  }

 private:
  std::string file_;
};

absl::StatusOr<PinListDocument> ParsePinList(absl::string_view text, absl::string_view file,
                                             const Format& format) {
  ASSIGN_OR_RETURN(std::string json, StripJsonComments(text));
  absl::StatusOr<JsonValue> root = ParseJson(json);
  if (!root.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", root.status().message()));
  }
  SchemaReader reader(file);
  RETURN_IF_ERROR(reader.ExpectType(*root, JsonValue::Type::kObject, "the top level"));
  PinListDocument doc;
  doc.file = std::string(file);

  ASSIGN_OR_RETURN(const JsonValue* pinsets,
                   reader.Member(*root, "pinsets", JsonValue::Type::kArray, true));
  std::set<std::string> pinset_names;
  for (const JsonValue& p : pinsets->array_items()) {
    RETURN_IF_ERROR(reader.ExpectType(p, JsonValue::Type::kObject, "a pinset"));
    ASSIGN_OR_RETURN(const JsonValue* name,
                     reader.Member(p, "name", JsonValue::Type::kString, true));
    PinsetSpec spec;
    spec.name = name->string_value();
    spec.line = p.line();
    if (spec.name.empty()) return reader.Error(p, "empty pinset name");
    if (!pinset_names.insert(spec.name).second) {
      return reader.Error(p, absl::StrCat("pinset \"", spec.name, "\" defined twice"));
    }
    ASSIGN_OR_RETURN(spec.spki_names, reader.NameList(p, format.spki_field, true));
    if (!format.bad_spki_field.empty()) {
      ASSIGN_OR_RETURN(spec.bad_spki_names, reader.NameList(p, format.bad_spki_field, false));
    }
    doc.pinsets.push_back(std::move(spec));
  }

  ASSIGN_OR_RETURN(const JsonValue* entries,
                   reader.Member(*root, "entries", JsonValue::Type::kArray, true));
  std::set<std::string> hosts;
  for (const JsonValue& e : entries->array_items()) {
    RETURN_IF_ERROR(reader.ExpectType(e, JsonValue::Type::kObject, "an entry"));
    ASSIGN_OR_RETURN(const JsonValue* name,
                     reader.Member(e, "name", JsonValue::Type::kString, true));
    ASSIGN_OR_RETURN(const JsonValue* pins,
                     reader.Member(e, "pins", JsonValue::Type::kString, false));
    if (pins == nullptr) continue;  // An HSTS-only entry: not pinned.
    PinEntry entry;
    entry.host = NormalizeHost(name->string_value());
    if (entry.host.empty()) {
      return reader.Error(e, absl::StrCat("invalid host name \"", name->string_value(), "\""));
    }
    ASSIGN_OR_RETURN(entry.include_subdomains, reader.OptionalBool(e, "include_subdomains"));
    ASSIGN_OR_RETURN(entry.test_mode, reader.OptionalBool(e, "test_mode"));
    entry.pinset = pins->string_value();
    entry.line = e.line();
    if (!pinset_names.contains(entry.pinset)) {
      return reader.Error(e, absl::StrCat("host \"", entry.host, "\" names pinset \"", entry.pinset,
                                          "\", which is not defined"));
    }
    if (!hosts.insert(entry.host).second) {
      return reader.Error(e, absl::StrCat("host \"", entry.host, "\" listed twice"));
    }
    doc.entries.push_back(std::move(entry));
  }
  return doc;
}

// Resolves a list of names; unresolved ones go to `unresolved`.
std::vector<SpkiHash> ResolveNames(const PinListDocument& doc, const PinsetSpec& spec,
                                   const std::vector<SpkiNameRef>& names, bool bad_list,
                                   const SpkiNameResolver& resolver,
                                   std::vector<UnresolvedName>* unresolved) {
  std::vector<SpkiHash> out;
  for (const SpkiNameRef& ref : names) {
    absl::StatusOr<std::vector<SpkiHash>> hashes = resolver.Resolve(ref.name);
    if (hashes.ok()) {
      out.insert(out.end(), hashes->begin(), hashes->end());
    } else {
      unresolved->push_back({spec.name, ref.name, bad_list, doc.file, ref.line,
                             std::string(hashes.status().message())});
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

std::string NormalizeHost(absl::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty() || host.size() > 253) return "";
  std::string out = absl::AsciiStrToLower(host);
  size_t label_length = 0;
  for (char c : out) {
    if (c == '.') {
      if (label_length == 0) return "";
      label_length = 0;
      continue;
    }
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') return "";
    if (++label_length > 63) return "";
  }
  if (label_length == 0) return "";
  return out;
}

std::string UnresolvedName::ToString() const {
  return absl::StrCat(file, ":", line, ": pinset \"", pinset,
                      "\": ", bad_list ? "bad SPKI name \"" : "SPKI name \"", name, "\": ", reason);
}

absl::StatusOr<PinListDocument> ParseChromiumPinList(absl::string_view text,
                                                     absl::string_view file) {
  return ParsePinList(text, file, kChromium);
}

absl::StatusOr<PinListDocument> ParseFirefoxPinList(absl::string_view text,
                                                    absl::string_view file) {
  return ParsePinList(text, file, kFirefox);
}

absl::StatusOr<PinList> ResolvePinList(const PinListDocument& doc, const SpkiNameResolver& resolver,
                                       UnresolvedPolicy policy) {
  PinList list;
  list.sources.push_back(doc.file);
  std::set<std::string> skipped;
  for (const PinsetSpec& spec : doc.pinsets) {
    std::vector<UnresolvedName> unresolved;
    ResolvedPinset pinset;
    pinset.name = spec.name;
    pinset.spki = ResolveNames(doc, spec, spec.spki_names, false, resolver, &unresolved);
    pinset.bad_spki = ResolveNames(doc, spec, spec.bad_spki_names, true, resolver, &unresolved);
    bool keep = true;
    if (!unresolved.empty()) {
      for (const UnresolvedName& u : unresolved) list.warnings.push_back(u.ToString());
      keep = policy == UnresolvedPolicy::kDropName && !pinset.spki.empty();
    } else if (pinset.spki.empty()) {
      keep = false;  // A pinset that accepts nothing (an empty list in the file).
    }
    if (!keep) {
      list.warnings.push_back(absl::StrCat(
          doc.file, ":", spec.line, ": pinset \"", spec.name, "\" skipped: ",
          pinset.spki.empty() ? "none of its SPKI names resolved"
                              : absl::StrCat(unresolved.size(), " SPKI name(s) unresolved")));
      skipped.insert(spec.name);
      list.skipped_pinsets.push_back(spec.name);
    } else {
      list.pinsets.push_back(std::move(pinset));
    }
    list.unresolved.insert(list.unresolved.end(), unresolved.begin(), unresolved.end());
  }
  if (policy == UnresolvedPolicy::kStrict && !list.unresolved.empty()) {
    std::vector<std::string> lines;
    for (const UnresolvedName& u : list.unresolved) lines.push_back(u.ToString());
    return absl::FailedPreconditionError(absl::StrCat(
        list.unresolved.size(), " SPKI name(s) of ", doc.file, " could not be resolved with ",
        resolver.Description(), ":\n", absl::StrJoin(lines, "\n")));
  }
  std::map<std::string, int> dropped_hosts;
  for (const PinEntry& entry : doc.entries) {
    if (skipped.contains(entry.pinset)) {
      ++dropped_hosts[entry.pinset];
    } else {
      list.entries.push_back(entry);
    }
  }
  for (const auto& [pinset, count] : dropped_hosts) {
    list.warnings.push_back(
        absl::StrCat(doc.file, ": ", count, " host(s) of skipped pinset \"", pinset, "\" dropped"));
  }
  return list;
}

absl::StatusOr<PinList> MergePinLists(std::vector<PinList> lists) {
  PinList out;
  std::set<std::string> pinsets;
  std::set<std::string> hosts;
  for (PinList& list : lists) {
    for (ResolvedPinset& p : list.pinsets) {
      if (!pinsets.insert(p.name).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("pinset \"", p.name, "\" is defined by more than one pin list"));
      }
      out.pinsets.push_back(std::move(p));
    }
    for (PinEntry& e : list.entries) {
      if (!hosts.insert(e.host).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("host \"", e.host, "\" is listed by more than one pin list"));
      }
      out.entries.push_back(std::move(e));
    }
    for (std::vector<std::string> PinList::*field :
         {&PinList::sources, &PinList::warnings, &PinList::skipped_pinsets}) {
      (out.*field).insert((out.*field).end(), (list.*field).begin(), (list.*field).end());
    }
    out.unresolved.insert(out.unresolved.end(), list.unresolved.begin(), list.unresolved.end());
  }
  return out;
}

}  // namespace pinning::client
