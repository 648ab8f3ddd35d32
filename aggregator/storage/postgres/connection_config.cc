#include "aggregator/storage/postgres/connection_config.h"

#include <postgresql/libpq-fe.h>  // Debian: /usr/include/postgresql
#include <sys/stat.h>

#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace pinning::aggregator::postgres {
namespace {

struct ConninfoFree {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};

// Defaults added when the connection string does not set the keyword.
constexpr std::pair<const char*, const char*> kDefaults[] = {
    {"connect_timeout", "5"},
    {"keepalives", "1"},
    {"keepalives_idle", "10"},
    {"keepalives_interval", "5"},
    {"keepalives_count", "3"},
    {"tcp_user_timeout", "15000"},
    {"application_name", "aggregatord"},
};

absl::StatusOr<std::string> ReadPasswordFile(absl::string_view path) {
  const std::string file(path);
  struct stat st;
  if (stat(file.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("postgres password file ", path, " not found"));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "postgres password file ", path, " is readable by group or others; chmod 600 it"));
  }
  std::ifstream in(file);
  std::string password;
  if (!in || !std::getline(in, password)) {
    return absl::FailedPreconditionError(
        absl::StrCat("postgres password file ", path, " is empty or unreadable"));
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("postgres password file ", path, " has an empty first line"));
  }
  return password;
}

}  // namespace

absl::StatusOr<PgConnectionConfig> PgConnectionConfig::Create(absl::string_view conninfo,
                                                              absl::string_view password_file) {
  PgConnectionConfig config;
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, ConninfoFree> parsed(
      PQconninfoParse(std::string(conninfo).c_str(), &error));
  if (parsed == nullptr) {
    // The parser's message quotes no value, only the offending syntax.
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return absl::InvalidArgumentError(absl::StrCat("postgres connection string: ", message));
  }
  for (const PQconninfoOption* o = parsed.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    if (absl::string_view(o->keyword) == "password") {
      return absl::InvalidArgumentError(
          "postgres connection string contains a password; put it in a password file "
          "(--postgres_password_file, PGPASSFILE or ~/.pgpass) instead");
    }
    config.Set(o->keyword, o->val);
  }
  for (const auto& [keyword, value] : kDefaults) {
    if (config.Get(keyword).empty()) config.Set(keyword, value);
  }
  if (!password_file.empty()) {
    absl::StatusOr<std::string> password = ReadPasswordFile(password_file);
    if (!password.ok()) return password.status();
    config.Set("password", *std::move(password));
  }
  config.RebuildPointers();
  return config;
}

PgConnectionConfig& PgConnectionConfig::operator=(const PgConnectionConfig& other) {
  if (this != &other) {
    settings_ = other.settings_;
    RebuildPointers();
  }
  return *this;
}

void PgConnectionConfig::Set(std::string keyword, std::string value) {
  for (auto& [k, v] : settings_) {
    if (k == keyword) {
      v = std::move(value);
      return;
    }
  }
  settings_.emplace_back(std::move(keyword), std::move(value));
}

void PgConnectionConfig::RebuildPointers() {
  keyword_ptrs_.clear();
  value_ptrs_.clear();
  for (const auto& [k, v] : settings_) {
    keyword_ptrs_.push_back(k.c_str());
    value_ptrs_.push_back(v.c_str());
  }
  keyword_ptrs_.push_back(nullptr);
  value_ptrs_.push_back(nullptr);
}

std::string PgConnectionConfig::Get(absl::string_view keyword) const {
  for (const auto& [k, v] : settings_) {
    if (k == keyword) return v;
  }
  return "";
}

std::string PgConnectionConfig::Describe() const {
  std::vector<std::string> parts;
  for (const auto& [k, v] : settings_) {
    if (k == "password") continue;
    parts.push_back(absl::StrCat(k, "=", v));
  }
  return absl::StrJoin(parts, " ");
}

}  // namespace pinning::aggregator::postgres
