// connection_config.h: how the PostgreSQL backend connects: a libpq connection string without a
// password, plus a password from a file or from libpq's own environment mechanisms.
//
// Credentials never travel on a command line or into a log: a connection string (or URI) that
// carries a password is refused, and Describe() prints the connection without one. The password
// comes from, in order: `password_file` (the password alone on its first line; the file must not
// be readable by group or others), then libpq's own sources (PGPASSWORD, the PGPASSFILE file or
// ~/.pgpass, see the libpq documentation, section "The Password File").
//
//   ASSIGN_OR_RETURN(PgConnectionConfig config,
//                    PgConnectionConfig::Create("host=DBHOST dbname=pinning user=agg",
//                                               "/etc/aggregatord/pg_password"));
//   LOG << "database: " << config.Describe();       // host=DBHOST dbname=pinning user=agg
//   PGconn* conn = PQconnectdbParams(config.keywords(), config.values(), 0);
//
// Defaults added unless the connection string sets them: connect_timeout=5, TCP keepalives
// (idle 10 s, interval 5 s, 3 probes) and tcp_user_timeout=15000 ms, so that a network partition
// turns a blocked query into an error in seconds instead of the kernel's minutes, and
// application_name=aggregatord so the server's pg_stat_activity names the replica's connections.
#ifndef AGGREGATOR_STORAGE_POSTGRES_CONNECTION_CONFIG_H_
#define AGGREGATOR_STORAGE_POSTGRES_CONNECTION_CONFIG_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pinning::aggregator::postgres {

class PgConnectionConfig {
 public:
  // Create parses `conninfo` (keyword=value pairs or a postgresql:// URI; may be empty, meaning
  // libpq's PG* environment defaults) and reads `password_file` when non-empty.
  // INVALID_ARGUMENT when the string does not parse or contains a password; NOT_FOUND when the
  // password file is missing; FAILED_PRECONDITION when it is readable by group or others or empty.
  [[nodiscard]] static absl::StatusOr<PgConnectionConfig> Create(absl::string_view conninfo,
                                                                 absl::string_view password_file);

  // keywords / values are the NULL-terminated parallel arrays for PQconnectdbParams (with
  // expand_dbname = 0). They stay valid while this object lives and is not moved.
  const char* const* keywords() const { return keyword_ptrs_.data(); }
  const char* const* values() const { return value_ptrs_.data(); }

  // Describe returns the connection's settings as keyword=value pairs, without the password:
  // safe for logs and error messages.
  std::string Describe() const;

  // Get returns the value of `keyword`, or "" when it is not set.
  std::string Get(absl::string_view keyword) const;

  PgConnectionConfig(const PgConnectionConfig& other) { *this = other; }
  PgConnectionConfig& operator=(const PgConnectionConfig& other);
  PgConnectionConfig(PgConnectionConfig&& other) { *this = other; }
  PgConnectionConfig& operator=(PgConnectionConfig&& other) { return *this = other; }

 private:
  PgConnectionConfig() = default;
  void Set(std::string keyword, std::string value);
  void RebuildPointers();

  std::vector<std::pair<std::string, std::string>> settings_;
  std::vector<const char*> keyword_ptrs_;
  std::vector<const char*> value_ptrs_;
};

}  // namespace pinning::aggregator::postgres

#endif  // AGGREGATOR_STORAGE_POSTGRES_CONNECTION_CONFIG_H_
