// pg_params.h: query parameters and result values in PostgreSQL's binary wire format.
//
// The PostgreSQL backend sends every parameter in binary format (no text escaping, no parsing on
// the server) and reads every result in binary format. Whole batches travel as one-dimensional
// arrays that the query expands with unnest(), so a batch of thousands of pings is one statement.
//
//   PgArray days(PgType::kInt4);
//   PgArray ids(PgType::kBytea);
//   for (const PingRecord& p : pings) { days.AddInt4(p.day); ids.AddBytes(p.ping_id); }
//   PgParams params;
//   params.AddArray(days);
//   params.AddArray(ids);
//   conn.ExecParams("INSERT INTO seen_pings SELECT * FROM unnest($1::int4[], $2::bytea[])",
//                   params);
//
// Formats follow PostgreSQL's send/recv functions (src/backend/utils/adt/: int4send, int8send,
// byteasend, textsend and array_send in arrayfuncs.c): integers are big-endian, text and bytea are
// their raw bytes, an array is a header (dimensions, null flag, element type oid, then size and
// lower bound per dimension) followed by each element as a 4-byte length and its bytes.
#ifndef AGGREGATOR_STORAGE_POSTGRES_PG_PARAMS_H_
#define AGGREGATOR_STORAGE_POSTGRES_PG_PARAMS_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pinning::aggregator::postgres {

// PgType names the PostgreSQL types the backend exchanges, by their fixed built-in oids
// (src/include/catalog/pg_type.dat).
enum class PgType : uint32_t {
  kBool = 16,
  kBytea = 17,
  kInt8 = 20,
  kInt4 = 23,
  kText = 25,
  kInt4Array = 1007,
  kByteaArray = 1001,
  kTextArray = 1009,
  kInt8Array = 1016,
};

// ArrayTypeOf returns the array type whose elements are `element` (kInt4 -> kInt4Array, ...).
PgType ArrayTypeOf(PgType element);

// PgArray builds the binary form of a one-dimensional array without NULL elements.
class PgArray {
 public:
  // `element` is one of kInt4, kInt8, kBytea, kText.
  explicit PgArray(PgType element) : element_(element) {}

  // The Add* functions append one element; the caller uses the one matching the element type.
  void AddInt4(int32_t v);
  void AddInt8(int64_t v);
  void AddBytes(absl::string_view v);

  PgType element_type() const { return element_; }
  int64_t size() const { return count_; }
  // Encode returns the array in array_send format.
  std::string Encode() const;

 private:
  PgType element_;
  int64_t count_ = 0;
  std::string elements_;  // concatenated (length, bytes) pairs
};

// PgParams holds the parameters of one statement: values, lengths, formats and types in the
// parallel arrays that PQexecParams and PQexecPrepared take. Values are owned.
class PgParams {
 public:
  PgParams() = default;
  PgParams(const PgParams&) = delete;
  PgParams& operator=(const PgParams&) = delete;

  void AddInt4(int32_t v);
  void AddInt8(int64_t v);
  void AddBytea(absl::string_view v);
  void AddText(absl::string_view v);
  void AddArray(const PgArray& array);

  int size() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }
  const uint32_t* types() const { return types_.data(); }

 private:
  void Add(PgType type, std::string bytes);

  std::deque<std::string> storage_;  // deque: adding never moves earlier values
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<uint32_t> types_;
};

// PgCopyBinary builds the input of `COPY ... FROM STDIN (FORMAT binary)`: a signature and
// header, then per row a 2-byte field count and each field as a 4-byte length and its bytes, then
// a -1 trailer (PostgreSQL documentation, COPY, "Binary Format").
class PgCopyBinary {
 public:
  PgCopyBinary();
  // StartRow begins a row of `fields` fields; the Add* calls that follow supply them in order.
  void StartRow(int16_t fields);
  void AddInt4(int32_t v);
  void AddInt8(int64_t v);
  void AddBytes(absl::string_view v);
  // Finish appends the trailer and returns the data; the builder is spent.
  std::string Finish();

 private:
  std::string data_;
};

// DecodeInt4 / DecodeInt8 / DecodeBool read a binary-format result value; INTERNAL when the
// length is wrong (the query and the reader disagree on the type).
absl::StatusOr<int32_t> DecodeInt4(absl::string_view value);
absl::StatusOr<int64_t> DecodeInt8(absl::string_view value);
absl::StatusOr<bool> DecodeBool(absl::string_view value);

}  // namespace pinning::aggregator::postgres

#endif  // AGGREGATOR_STORAGE_POSTGRES_PG_PARAMS_H_
