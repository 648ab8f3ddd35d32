#include "aggregator/storage/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "aggregator/storage/batch_aggregator.h"
#include "third_party/absl_compat/status_macros.h"

namespace pinning::aggregator {
namespace {

// Ordered schema migrations; migration i (from 0) brings the schema to version i + 1. Never edit
// a released entry: append a new one.
constexpr const char* kMigrations[] = {
    // Version 1: counts and exactly-once ids.
    R"sql(
      CREATE TABLE seen_pings(
        day INTEGER NOT NULL,
        ping_id BLOB NOT NULL,
        PRIMARY KEY (day, ping_id)
      ) WITHOUT ROWID;
      CREATE TABLE catalog_ids(
        id INTEGER PRIMARY KEY,
        version TEXT NOT NULL UNIQUE
      );
      CREATE TABLE dims(
        id INTEGER PRIMARY KEY,
        product TEXT NOT NULL,
        channel TEXT NOT NULL,
        major_version INTEGER NOT NULL,
        UNIQUE (product, channel, major_version)
      );
      CREATE TABLE counts(
        day INTEGER NOT NULL,
        params_version INTEGER NOT NULL,
        catalog_id INTEGER NOT NULL,
        dims_id INTEGER NOT NULL,
        pinset INTEGER NOT NULL,
        reports INTEGER NOT NULL,
        ones0 INTEGER NOT NULL DEFAULT 0,
        ones1 INTEGER NOT NULL DEFAULT 0,
        ones2 INTEGER NOT NULL DEFAULT 0,
        ones3 INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, params_version, catalog_id, dims_id, pinset)
      ) WITHOUT ROWID;
    )sql",
    // Version 2: published versions, rollout events and the audit log.
    R"sql(
      CREATE TABLE params_versions(
        version INTEGER PRIMARY KEY,
        body BLOB NOT NULL
      );
      CREATE TABLE catalogs(
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        version TEXT NOT NULL UNIQUE,
        body BLOB NOT NULL
      );
      CREATE TABLE rollout_events(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        day TEXT NOT NULL,
        organization TEXT NOT NULL,
        body BLOB NOT NULL
      );
      CREATE INDEX rollout_events_by_day ON rollout_events(day, id);
      CREATE TABLE audit_log(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        body BLOB NOT NULL
      );
    )sql",
    // Version 3: append-only log of recently seen ids (see "Exactly-once ids" in the header).
    R"sql(
      CREATE TABLE seen_log(
        seq INTEGER PRIMARY KEY,
        day INTEGER NOT NULL,
        ping_id BLOB NOT NULL
      );
    )sql",
    // Version 4: counts summed over dimensions, for queries without a dimension filter.
    R"sql(
      CREATE TABLE counts_rollup(
        day INTEGER NOT NULL,
        params_version INTEGER NOT NULL,
        catalog_id INTEGER NOT NULL,
        pinset INTEGER NOT NULL,
        reports INTEGER NOT NULL,
        ones0 INTEGER NOT NULL DEFAULT 0,
        ones1 INTEGER NOT NULL DEFAULT 0,
        ones2 INTEGER NOT NULL DEFAULT 0,
        ones3 INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (day, params_version, catalog_id, pinset)
      ) WITHOUT ROWID;
      INSERT INTO counts_rollup
        SELECT day, params_version, catalog_id, pinset, SUM(reports), SUM(ones0), SUM(ones1),
               SUM(ones2), SUM(ones3)
        FROM counts GROUP BY day, params_version, catalog_id, pinset;
    )sql",
    // Version 5: the id log holds one row per commit (its new ids packed in a blob) instead of
    // one row per ping, and remembers the day before which ids were pruned.
    R"sql(
      CREATE TABLE seen_log_batches(
        seq INTEGER PRIMARY KEY,
        ids BLOB NOT NULL
      );
      CREATE TABLE seen_meta(
        key TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      );
    )sql",
};
// The first schema version with seen_log_batches; CommitBatch needs it.
constexpr int kSeenLogSchemaVersion = 5;
// One packed id in seen_log_batches.ids: the day (4 bytes, little-endian) and the 16-byte id.
constexpr size_t kPackedIdBytes = 4 + kPingIdBytes;
// The first schema version with counts_rollup.
constexpr int kRollupSchemaVersion = 4;
constexpr int kLatestSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

absl::Status Error(sqlite3* db, int rc, absl::string_view what) {
  const char* detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return absl::UnavailableError(absl::StrCat("sqlite: ", what, ": ", detail, " (code ", rc, ")"));
}

// Statement owns a prepared statement; Reset() readies it for reuse and clears bindings.
class Statement {
 public:
  Statement() = default;
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  absl::Status Prepare(sqlite3* db, absl::string_view sql) {
    db_ = db;
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    if (rc != SQLITE_OK) return Error(db, rc, absl::StrCat("prepare ", sql));
    return absl::OkStatus();
  }

  // The Bind* helpers take 1-based parameter indices. Text and blobs are bound without a copy:
  // the caller keeps them alive until the statement is reset.
  void BindInt(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void BindText(int i, absl::string_view v) {
    // An empty view may have a null data pointer, which SQLite would bind as NULL.
    sqlite3_bind_text(stmt_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()),
                      SQLITE_STATIC);
  }
  void BindBlob(int i, absl::string_view v) {
    // A zero-length blob must still be a blob, not NULL: give SQLite a non-null pointer.
    sqlite3_bind_blob(stmt_, i, v.empty() ? "" : v.data(), static_cast<int>(v.size()),
                      SQLITE_STATIC);
  }

  // Step returns SQLITE_ROW or SQLITE_DONE, anything else as an error status.
  absl::StatusOr<int> Step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) return rc;
    return Error(db_, rc, absl::StrCat("step ", sqlite3_sql(stmt_)));
  }
  // Run steps a statement that returns no rows and resets it.
  absl::Status Run() {
    absl::StatusOr<int> rc = Step();
    Reset();
    return rc.status();
  }
  // last_rc is the raw result of the last step (for constraint checks).
  int ExtendedErrorCode() const { return sqlite3_extended_errcode(db_); }

  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  absl::string_view Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return absl::string_view(p == nullptr ? "" : p, sqlite3_column_bytes(stmt_, col));
  }
  absl::string_view Blob(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return absl::string_view(p == nullptr ? "" : p, sqlite3_column_bytes(stmt_, col));
  }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

absl::Status Exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    absl::Status s = absl::UnavailableError(
        absl::StrCat("sqlite: ", sql, ": ", message == nullptr ? "" : message, " (code ", rc, ")"));
    sqlite3_free(message);
    return s;
  }
  return absl::OkStatus();
}

struct DimsKey {
  std::string product;
  std::string channel;
  uint32_t major_version = 0;
};

std::string DimsMapKey(absl::string_view product, absl::string_view channel, uint32_t major) {
  // '\0' cannot appear in the vocabularies' TEXT values, so the key is unambiguous.
  return absl::StrCat(product, absl::string_view("\0", 1), channel, absl::string_view("\0", 1),
                      major);
}

// IdKey is a remembered ping id with its day, ordered like the (day, ping_id) primary key of
// seen_pings (SQLite compares blobs with memcmp).
struct IdKey {
  DayNumber day = 0;
  std::array<char, kPingIdBytes> id{};

  static IdKey Of(DayNumber day, absl::string_view ping_id) {
    IdKey k;
    k.day = day;
    std::memcpy(k.id.data(), ping_id.data(), kPingIdBytes);
    return k;
  }
  absl::string_view Id() const { return absl::string_view(id.data(), id.size()); }
  friend bool operator==(const IdKey& a, const IdKey& b) { return a.day == b.day && a.id == b.id; }
  friend bool operator<(const IdKey& a, const IdKey& b) {
    if (a.day != b.day) return a.day < b.day;
    return std::memcmp(a.id.data(), b.id.data(), kPingIdBytes) < 0;
  }
  template <typename H>
  friend H AbslHashValue(H h, const IdKey& k) {
    return H::combine(std::move(h), k.day, k.Id());
  }
};


// ReadIdBodyRows collects the rows of a prepared `SELECT id, body ...` whose body is a serialized
// `Message` carrying its row id in `id`, as rollout events and audit records are stored.
template <typename Message>
absl::StatusOr<std::vector<Message>> ReadIdBodyRows(Statement& st, absl::string_view what) {
  std::vector<Message> out;
  for (;;) {
    ASSIGN_OR_RETURN(int rc, st.Step());
    if (rc != SQLITE_ROW) break;
    Message& m = out.emplace_back();
    absl::string_view body = st.Blob(1);
    if (!m.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return absl::DataLossError(absl::StrCat("stored ", what, " does not parse"));
    }
    m.set_id(static_cast<uint64_t>(st.Int(0)));
  }
  return out;
}

}  // namespace

// A connection with its own dictionaries and prepared statements. The writer and the reader each
// own one; their mutexes serialize use of each connection.
class SqliteStore::Impl {
 public:
  struct Connection {
    sqlite3* db = nullptr;
    ~Connection() { sqlite3_close_v2(db); }
  };

  absl::Status OpenConnection(const SqliteStoreOptions& options, bool reader, Connection* c) {
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(options.path.c_str(), &c->db, flags, nullptr);
    if (rc != SQLITE_OK) {
      return Error(c->db, rc, absl::StrCat("open ", options.path));
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, options.busy_timeout_ms);
    // WAL lets readers run during a commit; synchronous=FULL makes a commit durable before it
    // returns (https://www.sqlite.org/pragma.html#pragma_synchronous).
    RETURN_IF_ERROR(Exec(c->db, "PRAGMA journal_mode=WAL"));
    RETURN_IF_ERROR(Exec(c->db, "PRAGMA synchronous=FULL"));
    RETURN_IF_ERROR(Exec(c->db, "PRAGMA temp_store=MEMORY"));
    RETURN_IF_ERROR(
        Exec(c->db, absl::StrCat("PRAGMA cache_size=-", options.cache_size_kib).c_str()));
    if (reader) RETURN_IF_ERROR(Exec(c->db, "PRAGMA query_only=1"));
    return absl::OkStatus();
  }

  absl::Status Migrate(int target) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    sqlite3* db = writer_.db;
    RETURN_IF_ERROR(Exec(db,
                         "CREATE TABLE IF NOT EXISTS schema_version("
                         "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"));
    for (;;) {
      RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE"));
      // Read the version inside the write transaction, so two processes opening the same file
      // cannot both apply a migration.
      absl::StatusOr<int> current = ReadSchemaVersion(db);
      if (!current.ok()) {
        (void)Exec(db, "ROLLBACK");
        return current.status();
      }
      if (*current > kLatestSchemaVersion) {
        (void)Exec(db, "ROLLBACK");
        return absl::FailedPreconditionError(absl::StrCat("database schema version ", *current,
                                                          " is newer than this build's ",
                                                          kLatestSchemaVersion));
      }
      if (*current >= target) return Exec(db, "COMMIT");
      const int next = *current + 1;
      absl::Status s = Exec(db, kMigrations[next - 1]);
      if (s.ok()) {
        s = Exec(db, absl::StrCat("INSERT INTO schema_version(version, applied_at) VALUES(", next,
                                  ", datetime('now'))")
                         .c_str());
      }
      if (s.ok()) s = Exec(db, "COMMIT");
      if (!s.ok()) {
        (void)Exec(db, "ROLLBACK");
        return s;
      }
    }
  }

  static absl::StatusOr<int> ReadSchemaVersion(sqlite3* db) {
    Statement st;
    RETURN_IF_ERROR(st.Prepare(db, "SELECT MAX(version) FROM schema_version"));
    ASSIGN_OR_RETURN(int rc, st.Step());
    if (rc != SQLITE_ROW || st.IsNull(0)) return 0;
    return static_cast<int>(st.Int(0));
  }

  absl::Status PrepareStatements() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, read_mu_) {
    RETURN_IF_ERROR(w_upsert_count_.Prepare(
        writer_.db,
        "INSERT INTO counts(day, params_version, catalog_id, dims_id, pinset, reports, ones0, "
        "ones1, ones2, ones3) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
        "ON CONFLICT(day, params_version, catalog_id, dims_id, pinset) DO UPDATE SET "
        "reports = reports + excluded.reports, ones0 = ones0 + excluded.ones0, "
        "ones1 = ones1 + excluded.ones1, ones2 = ones2 + excluded.ones2, "
        "ones3 = ones3 + excluded.ones3"));
    if (has_rollup_) {
      RETURN_IF_ERROR(w_upsert_rollup_.Prepare(
          writer_.db,
          "INSERT INTO counts_rollup(day, params_version, catalog_id, pinset, reports, ones0, "
          "ones1, ones2, ones3) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
          "ON CONFLICT(day, params_version, catalog_id, pinset) DO UPDATE SET "
          "reports = reports + excluded.reports, ones0 = ones0 + excluded.ones0, "
          "ones1 = ones1 + excluded.ones1, ones2 = ones2 + excluded.ones2, "
          "ones3 = ones3 + excluded.ones3"));
      RETURN_IF_ERROR(r_rollup_.Prepare(
          reader_.db,
          "SELECT day, params_version, catalog_id, pinset, reports, ones0, ones1, ones2, ones3 "
          "FROM counts_rollup WHERE day >= ?1 AND day <= ?2 AND pinset >= ?3 ORDER BY day"));
    }
    RETURN_IF_ERROR(w_insert_catalog_id_.Prepare(
        writer_.db, "INSERT OR IGNORE INTO catalog_ids(version) VALUES(?1)"));
    RETURN_IF_ERROR(
        w_find_catalog_id_.Prepare(writer_.db, "SELECT id FROM catalog_ids WHERE version = ?1"));
    RETURN_IF_ERROR(w_insert_dims_.Prepare(
        writer_.db,
        "INSERT OR IGNORE INTO dims(product, channel, major_version) VALUES(?1, ?2, ?3)"));
    RETURN_IF_ERROR(w_find_dims_.Prepare(
        writer_.db,
        "SELECT id FROM dims WHERE product = ?1 AND channel = ?2 AND major_version = ?3"));
    RETURN_IF_ERROR(w_begin_.Prepare(writer_.db, "BEGIN IMMEDIATE"));
    RETURN_IF_ERROR(w_commit_.Prepare(writer_.db, "COMMIT"));
    RETURN_IF_ERROR(w_rollback_.Prepare(writer_.db, "ROLLBACK"));
    RETURN_IF_ERROR(r_counts_.Prepare(
        reader_.db,
        "SELECT day, params_version, catalog_id, dims_id, pinset, reports, ones0, ones1, ones2, "
        "ones3 FROM counts WHERE day >= ?1 AND day <= ?2 AND pinset >= ?3 ORDER BY day"));
    return absl::OkStatus();
  }

  // PrepareIdIndex prepares the exactly-once statements and loads the logged ids (those not yet
  // merged into seen_pings, or merged by an interrupted merge) into the recent set. Ids of the
  // per-ping log of schema version 3 (seen_log) are loaded too; they are deleted after the first
  // merge, which includes them.
  absl::Status PrepareIdIndex() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    RETURN_IF_ERROR(w_find_seen_.Prepare(
        writer_.db, "SELECT 1 FROM seen_pings WHERE day = ?1 AND ping_id = ?2"));
    RETURN_IF_ERROR(
        w_append_log_.Prepare(writer_.db, "INSERT INTO seen_log_batches(ids) VALUES(?1)"));
    RETURN_IF_ERROR(w_merge_id_.Prepare(
        writer_.db, "INSERT OR IGNORE INTO seen_pings(day, ping_id) VALUES(?1, ?2)"));
    RETURN_IF_ERROR(
        w_trim_log_.Prepare(writer_.db, "DELETE FROM seen_log_batches WHERE seq <= ?1"));
    Statement st;
    RETURN_IF_ERROR(st.Prepare(writer_.db, "SELECT value FROM seen_meta WHERE key = 'pruned'"));
    ASSIGN_OR_RETURN(int rc, st.Step());
    if (rc == SQLITE_ROW) prune_floor_ = static_cast<DayNumber>(st.Int(0));
    RETURN_IF_ERROR(st.Prepare(writer_.db, "SELECT day, ping_id FROM seen_log"));
    for (;;) {
      ASSIGN_OR_RETURN(rc, st.Step());
      if (rc != SQLITE_ROW) break;
      absl::string_view id = st.Blob(1);
      if (id.size() != kPingIdBytes) return absl::DataLossError("seen_log holds a bad ping id");
      const IdKey key = IdKey::Of(static_cast<DayNumber>(st.Int(0)), id);
      if (key.day >= prune_floor_) recent_.insert(key);
      legacy_log_ = true;
    }
    RETURN_IF_ERROR(st.Prepare(writer_.db, "SELECT seq, ids FROM seen_log_batches"));
    for (;;) {
      ASSIGN_OR_RETURN(rc, st.Step());
      if (rc != SQLITE_ROW) break;
      last_log_seq_ = std::max(last_log_seq_, st.Int(0));
      absl::string_view ids = st.Blob(1);
      if (ids.size() % kPackedIdBytes != 0) {
        return absl::DataLossError("seen_log_batches holds a truncated id list");
      }
      for (size_t at = 0; at < ids.size(); at += kPackedIdBytes) {
        const IdKey key = Unpack(ids.substr(at, kPackedIdBytes));
        if (key.day >= prune_floor_) recent_.insert(key);
      }
    }
    ids_ready_ = true;
    return absl::OkStatus();
  }

  static void Pack(const IdKey& key, std::string* out) {
    const uint32_t day = static_cast<uint32_t>(key.day);
    const char le[4] = {static_cast<char>(day & 0xff), static_cast<char>((day >> 8) & 0xff),
                        static_cast<char>((day >> 16) & 0xff),
                        static_cast<char>((day >> 24) & 0xff)};
    out->append(le, 4);
    out->append(key.id.data(), key.id.size());
  }
  static IdKey Unpack(absl::string_view packed) {
    const auto* b = reinterpret_cast<const uint8_t*>(packed.data());
    const uint32_t day = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<uint32_t>(b[3]) << 24);
    return IdKey::Of(static_cast<DayNumber>(day), packed.substr(4));
  }

  // InSeenPings looks `key` up in seen_pings.
  absl::StatusOr<bool> InSeenPings(const IdKey& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    w_find_seen_.BindInt(1, key.day);
    w_find_seen_.BindBlob(2, key.Id());
    absl::StatusOr<int> rc = w_find_seen_.Step();
    w_find_seen_.Reset();
    if (!rc.ok()) return rc.status();
    return *rc == SQLITE_ROW;
  }

  // IsSeen looks `key` up in the recent set, the frozen set being merged, then seen_pings.
  absl::StatusOr<bool> IsSeen(const IdKey& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    if (recent_.contains(key) || frozen_set_.contains(key)) return true;
    return InSeenPings(key);
  }

  // MaybeFreeze turns a full recent set into the frozen set that later commits merge into
  // seen_pings, in key order. Only committed state is involved. The hash set itself moves (for
  // lookups); the sorted copy drives the merge.
  void MaybeFreeze() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    if (!frozen_.empty() || recent_.size() < recent_capacity_) return;
    frozen_set_ = std::move(recent_);
    recent_ = absl::flat_hash_set<IdKey>();
    recent_.reserve(recent_capacity_);
    frozen_.assign(frozen_set_.begin(), frozen_set_.end());
    std::sort(frozen_.begin(), frozen_.end());
    frozen_max_seq_ = last_log_seq_;
    merge_pos_ = 0;
  }

  // MergeChunk inserts the next `n` frozen ids, in key order, into seen_pings inside the open
  // transaction and, after the last one, deletes their log rows. Returns the new merge position;
  // the caller applies it once the transaction commits. Merging is idempotent (INSERT OR IGNORE),
  // so a crash in the middle only repeats work.
  absl::StatusOr<size_t> MergeChunk(size_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    const size_t end = std::min(frozen_.size(), merge_pos_ + n);
    for (size_t i = merge_pos_; i < end; ++i) {
      w_merge_id_.BindInt(1, frozen_[i].day);
      w_merge_id_.BindBlob(2, frozen_[i].Id());
      RETURN_IF_ERROR(w_merge_id_.Run());
    }
    if (end == frozen_.size()) {
      w_trim_log_.BindInt(1, frozen_max_seq_);
      RETURN_IF_ERROR(w_trim_log_.Run());
      // The first freeze after opening included every id of the old per-ping log.
      if (legacy_log_) RETURN_IF_ERROR(Exec(writer_.db, "DELETE FROM seen_log"));
    }
    return end;
  }

  // FinishMerge drops the frozen set once fully merged (after the commit).
  void FinishMerge() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    if (frozen_.empty() || merge_pos_ < frozen_.size()) return;
    std::vector<IdKey>().swap(frozen_);
    frozen_set_ = absl::flat_hash_set<IdKey>();
    merge_pos_ = 0;
    legacy_log_ = false;
  }

  // Loads the dictionaries of the writer connection.
  absl::Status LoadWriterDictionaries() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    Statement st;
    RETURN_IF_ERROR(st.Prepare(writer_.db, "SELECT id, version FROM catalog_ids"));
    for (;;) {
      ASSIGN_OR_RETURN(int rc, st.Step());
      if (rc != SQLITE_ROW) break;
      w_catalog_ids_[std::string(st.Text(1))] = st.Int(0);
    }
    RETURN_IF_ERROR(st.Prepare(writer_.db, "SELECT id, product, channel, major_version FROM dims"));
    for (;;) {
      ASSIGN_OR_RETURN(int rc, st.Step());
      if (rc != SQLITE_ROW) break;
      w_dims_ids_[DimsMapKey(st.Text(1), st.Text(2), static_cast<uint32_t>(st.Int(3)))] = st.Int(0);
    }
    return absl::OkStatus();
  }

  // Reloads the reader's id -> value dictionaries (ids are never reused or changed).
  absl::Status LoadReaderDictionaries() ABSL_EXCLUSIVE_LOCKS_REQUIRED(read_mu_) {
    Statement st;
    RETURN_IF_ERROR(st.Prepare(reader_.db, "SELECT id, version FROM catalog_ids"));
    for (;;) {
      ASSIGN_OR_RETURN(int rc, st.Step());
      if (rc != SQLITE_ROW) break;
      r_catalogs_[st.Int(0)] = std::string(st.Text(1));
    }
    RETURN_IF_ERROR(st.Prepare(reader_.db, "SELECT id, product, channel, major_version FROM dims"));
    for (;;) {
      ASSIGN_OR_RETURN(int rc, st.Step());
      if (rc != SQLITE_ROW) break;
      r_dims_[st.Int(0)] = DimsKey{std::string(st.Text(1)), std::string(st.Text(2)),
                                   static_cast<uint32_t>(st.Int(3))};
    }
    return absl::OkStatus();
  }

  // ReadCountRows runs `st`, a SELECT over counts (`with_dims`: day, params_version, catalog_id,
  // dims_id, pinset, reports, ones0..) or counts_rollup (the same without dims_id: rows summed over
  // dimensions), and calls `fn` with the rows that pass `query`'s params and dimension filters.
  absl::Status ReadCountRows(Statement& st, const CountQuery& query, bool with_dims,
                             absl::FunctionRef<void(const CountRow&)> fn)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(read_mu_) {
    st.BindInt(1, query.from_day);
    st.BindInt(2, query.to_day);
    st.BindInt(3, query.include_group_totals ? kGroupTotalPinset : 0);
    const int d = with_dims ? 1 : 0;  // columns after catalog_id shift by one with dims_id
    // Dimension filter, evaluated once per dims id.
    absl::flat_hash_map<int64_t, bool> dims_match;
    bool reloaded = false;
    int64_t last_catalog_id = -1, last_dims_id = -1;
    const std::string* last_catalog = nullptr;
    const DimsKey* last_dims = nullptr;
    bool last_match = true;
    absl::Status status = absl::OkStatus();
    for (;;) {
      absl::StatusOr<int> rc = st.Step();
      if (!rc.ok()) {
        status = rc.status();
        break;
      }
      if (*rc != SQLITE_ROW) break;
      const uint32_t params_version = static_cast<uint32_t>(st.Int(1));
      if (query.params_version != 0 && params_version != query.params_version) continue;
      const int64_t catalog_id = st.Int(2);
      const int64_t dims_id = with_dims ? st.Int(3) : -1;
      // Consecutive rows mostly share their catalog and dimensions: skip the lookups then.
      if (catalog_id != last_catalog_id || dims_id != last_dims_id) {
        if (!reloaded &&
            (!r_catalogs_.contains(catalog_id) || (with_dims && !r_dims_.contains(dims_id)))) {
          // Ids created after the dictionaries were loaded.
          status = LoadReaderDictionaries();
          if (!status.ok()) break;
          reloaded = true;
        }
        auto cat = r_catalogs_.find(catalog_id);
        auto dims = with_dims ? r_dims_.find(dims_id) : r_dims_.end();
        if (cat == r_catalogs_.end() || (with_dims && dims == r_dims_.end())) {
          status = absl::DataLossError(
              with_dims ? absl::StrCat("counts row references unknown catalog id ", catalog_id,
                                       " or dims id ", dims_id)
                        : absl::StrCat("rollup row references unknown catalog id ", catalog_id));
          break;
        }
        last_catalog_id = catalog_id;
        last_dims_id = dims_id;
        last_catalog = &cat->second;
        if (with_dims) {
          auto [match_it, inserted] = dims_match.try_emplace(dims_id, false);
          if (inserted) {
            const DimsKey& k = dims->second;
            match_it->second = (query.product.empty() || query.product == k.product) &&
                               (query.channel.empty() || query.channel == k.channel) &&
                               (query.major_version == 0 || query.major_version == k.major_version);
          }
          last_dims = &dims->second;
          last_match = match_it->second;
        }
      }
      if (!last_match) continue;
      CountRow row;
      row.day = static_cast<DayNumber>(st.Int(0));
      row.params_version = params_version;
      row.catalog_version = *last_catalog;
      if (last_dims != nullptr) {
        row.product = last_dims->product;
        row.channel = last_dims->channel;
        row.major_version = last_dims->major_version;
      }
      row.pinset = static_cast<int32_t>(st.Int(3 + d));
      row.reports = st.Int(4 + d);
      for (int b = 0; b < kMaxBitsPerPinset; ++b) row.ones[b] = st.Int(5 + d + b);
      fn(row);
    }
    st.Reset();
    return status;
  }

  // Resolves (or creates, inside the open transaction) the id of a catalog version.
  absl::StatusOr<int64_t> CatalogId(absl::string_view version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    auto it = w_catalog_ids_.find(version);
    if (it != w_catalog_ids_.end()) return it->second;
    // Another process (e.g. an import) may have added the version since the cache was loaded:
    // insert if missing, then read the id either way.
    w_insert_catalog_id_.BindText(1, version);
    RETURN_IF_ERROR(w_insert_catalog_id_.Run());
    w_find_catalog_id_.BindText(1, version);
    absl::StatusOr<int> rc = w_find_catalog_id_.Step();
    const int64_t id = w_find_catalog_id_.Int(0);
    w_find_catalog_id_.Reset();
    if (!rc.ok()) return rc.status();
    if (*rc != SQLITE_ROW) return absl::InternalError("catalog id vanished");
    w_catalog_ids_.emplace(std::string(version), id);
    pending_catalog_ids_.emplace_back(version);
    return id;
  }

  absl::StatusOr<int64_t> DimsId(absl::string_view product, absl::string_view channel,
                                 uint32_t major) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    std::string key = DimsMapKey(product, channel, major);
    auto it = w_dims_ids_.find(key);
    if (it != w_dims_ids_.end()) return it->second;
    w_insert_dims_.BindText(1, product);
    w_insert_dims_.BindText(2, channel);
    w_insert_dims_.BindInt(3, major);
    RETURN_IF_ERROR(w_insert_dims_.Run());
    w_find_dims_.BindText(1, product);
    w_find_dims_.BindText(2, channel);
    w_find_dims_.BindInt(3, major);
    absl::StatusOr<int> rc = w_find_dims_.Step();
    const int64_t id = w_find_dims_.Int(0);
    w_find_dims_.Reset();
    if (!rc.ok()) return rc.status();
    if (*rc != SQLITE_ROW) return absl::InternalError("dims id vanished");
    w_dims_ids_.emplace(key, id);
    pending_dims_ids_.push_back(std::move(key));
    return id;
  }

  absl::Status UpsertRow(const CountRow& row) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    ASSIGN_OR_RETURN(const int64_t catalog_id, CatalogId(row.catalog_version));
    ASSIGN_OR_RETURN(const int64_t dims_id, DimsId(row.product, row.channel, row.major_version));
    Statement& st = w_upsert_count_;
    st.BindInt(1, row.day);
    st.BindInt(2, row.params_version);
    st.BindInt(3, catalog_id);
    st.BindInt(4, dims_id);
    st.BindInt(5, row.pinset);
    st.BindInt(6, row.reports);
    for (int b = 0; b < kMaxBitsPerPinset; ++b) st.BindInt(7 + b, row.ones[b]);
    RETURN_IF_ERROR(st.Run());
    if (!has_rollup_) return absl::OkStatus();
    Statement& rollup = w_upsert_rollup_;
    rollup.BindInt(1, row.day);
    rollup.BindInt(2, row.params_version);
    rollup.BindInt(3, catalog_id);
    rollup.BindInt(4, row.pinset);
    rollup.BindInt(5, row.reports);
    for (int b = 0; b < kMaxBitsPerPinset; ++b) rollup.BindInt(6 + b, row.ones[b]);
    return rollup.Run();
  }

  absl::Status Begin() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    pending_catalog_ids_.clear();
    pending_dims_ids_.clear();
    return w_begin_.Run();
  }
  absl::Status Commit() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    absl::Status s = w_commit_.Run();
    if (s.ok()) {
      pending_catalog_ids_.clear();
      pending_dims_ids_.clear();
    }
    return s;
  }
  // Rollback undoes the transaction and forgets dictionary ids created inside it.
  void Rollback() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    if (!sqlite3_get_autocommit(writer_.db)) (void)w_rollback_.Run();
    for (const std::string& v : pending_catalog_ids_) w_catalog_ids_.erase(v);
    for (const std::string& k : pending_dims_ids_) w_dims_ids_.erase(k);
    pending_catalog_ids_.clear();
    pending_dims_ids_.clear();
  }

  // Runs `body` in a write transaction; rolls back when it fails.
  template <typename F>
  absl::Status InTransaction(F body) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    absl::Status s = Begin();
    if (s.ok()) s = body();
    if (s.ok()) s = Commit();
    if (!s.ok()) Rollback();
    return s;
  }

  absl::Mutex write_mu_;
  Connection writer_ ABSL_GUARDED_BY(write_mu_);
  Statement w_upsert_count_ ABSL_GUARDED_BY(write_mu_);
  bool has_rollup_ = false;  // set at open, then constant
  Statement w_upsert_rollup_ ABSL_GUARDED_BY(write_mu_);
  Statement w_find_seen_ ABSL_GUARDED_BY(write_mu_);
  Statement w_append_log_ ABSL_GUARDED_BY(write_mu_);
  Statement w_merge_id_ ABSL_GUARDED_BY(write_mu_);
  Statement w_trim_log_ ABSL_GUARDED_BY(write_mu_);
  Statement w_insert_catalog_id_ ABSL_GUARDED_BY(write_mu_);
  Statement w_insert_dims_ ABSL_GUARDED_BY(write_mu_);
  Statement w_find_catalog_id_ ABSL_GUARDED_BY(write_mu_);
  Statement w_find_dims_ ABSL_GUARDED_BY(write_mu_);
  Statement w_begin_ ABSL_GUARDED_BY(write_mu_);
  Statement w_commit_ ABSL_GUARDED_BY(write_mu_);
  Statement w_rollback_ ABSL_GUARDED_BY(write_mu_);
  absl::flat_hash_map<std::string, int64_t> w_catalog_ids_ ABSL_GUARDED_BY(write_mu_);
  absl::flat_hash_map<std::string, int64_t> w_dims_ids_ ABSL_GUARDED_BY(write_mu_);
  std::vector<std::string> pending_catalog_ids_ ABSL_GUARDED_BY(write_mu_);
  std::vector<std::string> pending_dims_ids_ ABSL_GUARDED_BY(write_mu_);
  BatchAggregator aggregator_ ABSL_GUARDED_BY(write_mu_);

  // Exactly-once ids not yet in seen_pings (committed state, plus this batch's during a commit).
  bool ids_ready_ ABSL_GUARDED_BY(write_mu_) = false;
  size_t recent_capacity_ ABSL_GUARDED_BY(write_mu_) = 0;
  absl::flat_hash_set<IdKey> recent_ ABSL_GUARDED_BY(write_mu_);
  std::vector<IdKey> frozen_ ABSL_GUARDED_BY(write_mu_);              // sorted, drives the merge
  absl::flat_hash_set<IdKey> frozen_set_ ABSL_GUARDED_BY(write_mu_);  // the same, for lookups
  bool legacy_log_ ABSL_GUARDED_BY(write_mu_) = false;                // seen_log rows were loaded
  DayNumber prune_floor_ ABSL_GUARDED_BY(write_mu_) = 0;              // ids before it were pruned
  std::string batch_log_ ABSL_GUARDED_BY(write_mu_);  // this commit's packed new ids
  size_t merge_pos_ ABSL_GUARDED_BY(write_mu_) = 0;
  int64_t frozen_max_seq_ ABSL_GUARDED_BY(write_mu_) = 0;
  int64_t last_log_seq_ ABSL_GUARDED_BY(write_mu_) = 0;
  std::vector<IdKey> batch_ids_ ABSL_GUARDED_BY(write_mu_);  // added to recent_ by this batch

  absl::Mutex read_mu_ ABSL_ACQUIRED_AFTER(write_mu_);
  Connection reader_ ABSL_GUARDED_BY(read_mu_);
  Statement r_counts_ ABSL_GUARDED_BY(read_mu_);
  Statement r_rollup_ ABSL_GUARDED_BY(read_mu_);
  absl::flat_hash_map<int64_t, std::string> r_catalogs_ ABSL_GUARDED_BY(read_mu_);
  absl::flat_hash_map<int64_t, DimsKey> r_dims_ ABSL_GUARDED_BY(read_mu_);
};

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteStoreOptions& options) {
  return OpenWithSchemaVersion(options, kLatestSchemaVersion);
}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::OpenWithSchemaVersion(
    const SqliteStoreOptions& options, int schema_version) {
  if (options.path.empty() || options.path == ":memory:" || options.path.front() == ':') {
    return absl::InvalidArgumentError("SqliteStore needs a database file path");
  }
  if (schema_version < 1 || schema_version > kLatestSchemaVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("schema version ", schema_version, " outside 1..", kLatestSchemaVersion));
  }
  auto impl = std::make_unique<Impl>();
  absl::MutexLock wl(&impl->write_mu_);
  absl::MutexLock rl(&impl->read_mu_);
  RETURN_IF_ERROR(impl->OpenConnection(options, /*reader=*/false, &impl->writer_));
  RETURN_IF_ERROR(impl->Migrate(schema_version));
  RETURN_IF_ERROR(impl->OpenConnection(options, /*reader=*/true, &impl->reader_));
  impl->has_rollup_ = schema_version >= kRollupSchemaVersion;
  RETURN_IF_ERROR(impl->PrepareStatements());
  impl->recent_capacity_ = static_cast<size_t>(std::max<int64_t>(1, options.recent_ids));
  if (schema_version >= kSeenLogSchemaVersion) RETURN_IF_ERROR(impl->PrepareIdIndex());
  RETURN_IF_ERROR(impl->LoadWriterDictionaries());
  RETURN_IF_ERROR(impl->LoadReaderDictionaries());
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(impl)));
}

int SqliteStore::LatestSchemaVersion() { return kLatestSchemaVersion; }

SqliteStore::SqliteStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStore::~SqliteStore() = default;

absl::StatusOr<int> SqliteStore::CurrentSchemaVersion() {
  absl::MutexLock lock(&impl_->read_mu_);
  return Impl::ReadSchemaVersion(impl_->reader_.db);
}

absl::Status SqliteStore::CommitBatch(absl::Span<const PingRecord> pings,
                                      absl::Span<CommitOutcome> outcomes) {
  if (outcomes.size() != pings.size()) {
    return absl::InvalidArgumentError("CommitBatch: outcomes and pings differ in size");
  }
  for (const PingRecord& ping : pings) RETURN_IF_ERROR(ValidatePingRecord(ping));
  if (pings.empty()) return absl::OkStatus();
  Impl& m = *impl_;
  absl::MutexLock lock(&m.write_mu_);
  if (!m.ids_ready_) {
    return absl::FailedPreconditionError("CommitBatch needs schema version 5 or later");
  }
  m.MaybeFreeze();
  m.batch_ids_.clear();
  m.batch_log_.clear();
  int64_t last_seq = m.last_log_seq_;
  size_t merge_to = m.merge_pos_;
  absl::Status s = m.InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(m.write_mu_) {
    for (size_t i = 0; i < pings.size(); ++i) {
      const IdKey key = IdKey::Of(pings[i].day, pings[i].ping_id);
      // The recent set also holds the earlier pings of this batch, so repeats within the batch
      // are duplicates too.
      ASSIGN_OR_RETURN(const bool seen, m.IsSeen(key));
      outcomes[i] = seen ? CommitOutcome::kDuplicate : CommitOutcome::kCounted;
      if (seen) continue;
      Impl::Pack(key, &m.batch_log_);
      m.recent_.insert(key);
      m.batch_ids_.push_back(key);
      m.aggregator_.Add(pings[i]);
    }
    if (!m.batch_log_.empty()) {
      // One log row per commit: appending is a few sequential pages, whatever the batch size.
      m.w_append_log_.BindBlob(1, m.batch_log_);
      RETURN_IF_ERROR(m.w_append_log_.Run());
      last_seq = sqlite3_last_insert_rowid(m.writer_.db);
    }
    absl::Status rows = absl::OkStatus();
    m.aggregator_.ForEachRow([&](const CountRow& row) {
      if (rows.ok()) rows = m.UpsertRow(row);
    });
    RETURN_IF_ERROR(rows);
    if (!m.frozen_.empty()) {
      // Merge at least as fast as ids arrive, so the frozen set is gone before the recent set
      // fills up again: memory stays within two recent sets.
      ASSIGN_OR_RETURN(merge_to, m.MergeChunk(std::max<size_t>(4096, 2 * pings.size())));
    }
    return absl::OkStatus();
  });
  m.aggregator_.Clear();
  if (s.ok()) {
    m.last_log_seq_ = last_seq;
    m.merge_pos_ = merge_to;
    m.FinishMerge();
  } else {
    for (const IdKey& key : m.batch_ids_) m.recent_.erase(key);
  }
  m.batch_ids_.clear();
  return s;
}

absl::Status SqliteStore::ForEachCount(const CountQuery& query,
                                       absl::FunctionRef<void(const CountRow&)> fn) {
  Impl& m = *impl_;
  absl::MutexLock lock(&m.read_mu_);
  if (query.sum_dimensions && m.has_rollup_ && query.product.empty() && query.channel.empty() &&
      query.major_version == 0) {
    return m.ReadCountRows(m.r_rollup_, query, /*with_dims=*/false, fn);
  }
  return m.ReadCountRows(m.r_counts_, query, /*with_dims=*/true, fn);
}

absl::Status SqliteStore::AddCounts(absl::Span<const CountRow> rows) {
  for (const CountRow& row : rows) {
    bool bad = row.day < 0 || row.pinset < kGroupTotalPinset || row.reports < 0 ||
               row.catalog_version.empty() || row.params_version == 0;
    for (int64_t ones : row.ones) bad = bad || ones < 0 || ones > row.reports;
    if (bad) {
      return absl::InvalidArgumentError(absl::StrCat("AddCounts: invalid row (day ", row.day,
                                                     ", params ", row.params_version, ", pinset ",
                                                     row.pinset, ", reports ", row.reports, ")"));
    }
  }
  Impl& m = *impl_;
  absl::MutexLock lock(&m.write_mu_);
  return m.InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(m.write_mu_) {
    for (const CountRow& row : rows) {
      if (row.reports == 0) continue;  // zero rows are never stored
      RETURN_IF_ERROR(m.UpsertRow(row));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<int64_t> SqliteStore::PruneSeenPings(DayNumber first_kept_day) {
  Impl& m = *impl_;
  absl::MutexLock lock(&m.write_mu_);
  // In-memory ids (not yet in seen_pings, or also there after an interrupted merge) that expire.
  int64_t removed = 0;
  if (m.ids_ready_) {
    for (const absl::flat_hash_set<IdKey>* set : {&m.recent_, &m.frozen_set_}) {
      for (const IdKey& k : *set) {
        if (k.day >= first_kept_day) continue;
        ASSIGN_OR_RETURN(const bool in_table, m.InSeenPings(k));
        removed += in_table ? 0 : 1;
      }
    }
  }
  // The primary key starts with the day: a range delete of the expired days only. Logged ids of
  // expired days stay in the log until their merge, but are ignored from now on (the floor).
  RETURN_IF_ERROR(m.InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(m.write_mu_) {
    Statement st;
    RETURN_IF_ERROR(st.Prepare(m.writer_.db, "DELETE FROM seen_pings WHERE day < ?1"));
    st.BindInt(1, first_kept_day);
    RETURN_IF_ERROR(st.Run());
    removed += sqlite3_changes(m.writer_.db);
    if (m.ids_ready_) {
      RETURN_IF_ERROR(st.Prepare(m.writer_.db,
                                 "INSERT INTO seen_meta(key, value) VALUES('pruned', ?1) "
                                 "ON CONFLICT(key) DO UPDATE SET value = max(value, ?1)"));
      st.BindInt(1, first_kept_day);
      RETURN_IF_ERROR(st.Run());
    }
    return absl::OkStatus();
  }));
  m.prune_floor_ = std::max(m.prune_floor_, first_kept_day);
  auto expired = [&](const IdKey& k) { return k.day < first_kept_day; };
  absl::erase_if(m.recent_, expired);
  absl::erase_if(m.frozen_set_, expired);
  size_t kept = 0, pos = m.merge_pos_;
  for (size_t i = 0; i < m.frozen_.size(); ++i) {
    if (expired(m.frozen_[i])) {
      if (i < m.merge_pos_) --pos;
      continue;
    }
    m.frozen_[kept++] = m.frozen_[i];
  }
  m.frozen_.resize(kept);
  m.merge_pos_ = pos;
  return removed;
}

absl::StatusOr<int64_t> SqliteStore::SeenPingCount() {
  Impl& m = *impl_;
  absl::MutexLock lock(&m.write_mu_);
  Statement st;
  RETURN_IF_ERROR(st.Prepare(m.writer_.db, "SELECT COUNT(*) FROM seen_pings"));
  ASSIGN_OR_RETURN(int rc, st.Step());
  (void)rc;
  int64_t count = st.Int(0);
  // Plus the in-memory ids not in seen_pings yet.
  if (m.ids_ready_) {
    for (const absl::flat_hash_set<IdKey>* set : {&m.recent_, &m.frozen_set_}) {
      for (const IdKey& k : *set) {
        ASSIGN_OR_RETURN(const bool in_table, m.InSeenPings(k));
        count += in_table ? 0 : 1;
      }
    }
  }
  return count;
}

absl::Status SqliteStore::PutParamsVersion(const v1::ParamsVersion& params) {
  if (params.version() == 0) return absl::InvalidArgumentError("params version 0 is reserved");
  const std::string body = params.SerializeAsString();
  Impl& m = *impl_;
  absl::MutexLock lock(&m.write_mu_);
  Statement st;
  RETURN_IF_ERROR(st.Prepare(
      m.writer_.db, "INSERT OR IGNORE INTO params_versions(version, body) VALUES(?1, ?2)"));
  st.BindInt(1, params.version());
  st.BindBlob(2, body);
  RETURN_IF_ERROR(st.Run());
  if (sqlite3_changes(m.writer_.db) == 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("params version ", params.version(), " already exists"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::ParamsVersion>> SqliteStore::ListParamsVersions() {
  Impl& m = *impl_;
  absl::MutexLock lock(&m.read_mu_);
  Statement st;
  RETURN_IF_ERROR(st.Prepare(m.reader_.db, "SELECT body FROM params_versions ORDER BY version"));
  std::vector<v1::ParamsVersion> out;
  for (;;) {
    ASSIGN_OR_RETURN(int rc, st.Step());
    if (rc != SQLITE_ROW) break;
    absl::string_view body = st.Blob(0);
    if (!out.emplace_back().ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return absl::DataLossError("stored params version does not parse");
    }
  }
  return out;
}

absl::Status SqliteStore::PutCatalog(const v1::Catalog& catalog) {
  if (catalog.version().empty()) return absl::InvalidArgumentError("catalog version is empty");
  const std::string body = catalog.SerializeAsString();
  Impl& m = *impl_;
  absl::MutexLock lock(&m.write_mu_);
  return m.InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(m.write_mu_) -> absl::Status {
    Statement find;
    RETURN_IF_ERROR(find.Prepare(m.writer_.db, "SELECT body FROM catalogs WHERE version = ?1"));
    find.BindText(1, catalog.version());
    ASSIGN_OR_RETURN(int rc, find.Step());
    if (rc == SQLITE_ROW) {
      v1::Catalog stored;
      absl::string_view b = find.Blob(0);
      if (!stored.ParseFromArray(b.data(), static_cast<int>(b.size()))) {
        return absl::DataLossError("stored catalog does not parse");
      }
      if (stored.SerializeAsString() == body) return absl::OkStatus();
      return absl::AlreadyExistsError(absl::StrCat("catalog version ", catalog.version(),
                                                   " already exists with different content"));
    }
    Statement insert;
    RETURN_IF_ERROR(
        insert.Prepare(m.writer_.db, "INSERT INTO catalogs(version, body) VALUES(?1, ?2)"));
    insert.BindText(1, catalog.version());
    insert.BindBlob(2, body);
    return insert.Run();
  });
}

absl::StatusOr<v1::Catalog> SqliteStore::GetCatalog(absl::string_view version) {
  Impl& m = *impl_;
  absl::MutexLock lock(&m.read_mu_);
  Statement st;
  RETURN_IF_ERROR(st.Prepare(m.reader_.db, "SELECT body FROM catalogs WHERE version = ?1"));
  st.BindText(1, version);
  ASSIGN_OR_RETURN(int rc, st.Step());
  if (rc != SQLITE_ROW) {
    return absl::NotFoundError(absl::StrCat("catalog version '", version, "' not found"));
  }
  v1::Catalog catalog;
  absl::string_view body = st.Blob(0);
  if (!catalog.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return absl::DataLossError("stored catalog does not parse");
  }
  return catalog;
}

absl::StatusOr<std::vector<std::string>> SqliteStore::ListCatalogVersions() {
  Impl& m = *impl_;
  absl::MutexLock lock(&m.read_mu_);
  Statement st;
  RETURN_IF_ERROR(st.Prepare(m.reader_.db, "SELECT version FROM catalogs ORDER BY seq"));
  std::vector<std::string> out;
  for (;;) {
    ASSIGN_OR_RETURN(int rc, st.Step());
    if (rc != SQLITE_ROW) break;
    out.emplace_back(st.Text(0));
  }
  return out;
}

absl::StatusOr<v1::RolloutEvent> SqliteStore::AddEvent(const v1::RolloutEvent& event) {
  v1::RolloutEvent stored = event;
  stored.clear_id();  // the id lives in its column; it is set when reading
  const std::string body = stored.SerializeAsString();
  Impl& m = *impl_;
  absl::MutexLock lock(&m.write_mu_);
  Statement st;
  RETURN_IF_ERROR(st.Prepare(
      m.writer_.db, "INSERT INTO rollout_events(day, organization, body) VALUES(?1, ?2, ?3)"));
  st.BindText(1, event.day());
  st.BindText(2, event.organization());
  st.BindBlob(3, body);
  RETURN_IF_ERROR(st.Run());
  stored.set_id(static_cast<uint64_t>(sqlite3_last_insert_rowid(m.writer_.db)));
  return stored;
}

absl::StatusOr<std::vector<v1::RolloutEvent>> SqliteStore::ListEvents(const EventFilter& filter) {
  Impl& m = *impl_;
  absl::MutexLock lock(&m.read_mu_);
  Statement st;
  RETURN_IF_ERROR(st.Prepare(m.reader_.db,
                             "SELECT id, body FROM rollout_events WHERE (?1 = '' OR day >= ?1) "
                             "AND (?2 = '' OR day <= ?2) AND (?3 = '' OR organization = ?3) "
                             "ORDER BY day, id"));
  st.BindText(1, filter.from_day);
  st.BindText(2, filter.to_day);
  st.BindText(3, filter.organization);
  return ReadIdBodyRows<v1::RolloutEvent>(st, "rollout event");
}

absl::StatusOr<v1::AuditRecord> SqliteStore::AddAudit(const v1::AuditRecord& record) {
  v1::AuditRecord stored = record;
  stored.clear_id();
  const std::string body = stored.SerializeAsString();
  Impl& m = *impl_;
  absl::MutexLock lock(&m.write_mu_);
  Statement st;
  RETURN_IF_ERROR(
      st.Prepare(m.writer_.db, "INSERT INTO audit_log(actor, action, body) VALUES(?1, ?2, ?3)"));
  st.BindText(1, record.actor());
  st.BindText(2, record.action());
  st.BindBlob(3, body);
  RETURN_IF_ERROR(st.Run());
  stored.set_id(static_cast<uint64_t>(sqlite3_last_insert_rowid(m.writer_.db)));
  return stored;
}

absl::StatusOr<std::vector<v1::AuditRecord>> SqliteStore::ListAudit(uint32_t limit) {
  Impl& m = *impl_;
  absl::MutexLock lock(&m.read_mu_);
  Statement st;
  RETURN_IF_ERROR(
      st.Prepare(m.reader_.db, "SELECT id, body FROM audit_log ORDER BY id DESC LIMIT ?1"));
  st.BindInt(1, limit == 0 ? -1 : static_cast<int64_t>(limit));
  return ReadIdBodyRows<v1::AuditRecord>(st, "audit record");
}

}  // namespace pinning::aggregator
