#include "aggregator/storage/postgres/pg_params.h"

#include "absl/strings/str_cat.h"

namespace pinning::aggregator::postgres {
namespace {

void AppendBigEndian32(std::string& out, uint32_t v) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                         static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(bytes, 4);
}

void AppendBigEndian64(std::string& out, uint64_t v) {
  AppendBigEndian32(out, static_cast<uint32_t>(v >> 32));
  AppendBigEndian32(out, static_cast<uint32_t>(v));
}

uint64_t ReadBigEndian(absl::string_view bytes) {
  uint64_t v = 0;
  for (unsigned char c : bytes) v = (v << 8) | c;
  return v;
}

std::string BigEndian32(uint32_t v) {
  std::string s;
  AppendBigEndian32(s, v);
  return s;
}

std::string BigEndian64(uint64_t v) {
  std::string s;
  AppendBigEndian64(s, v);
  return s;
}

}  // namespace

PgType ArrayTypeOf(PgType element) {
  switch (element) {
    case PgType::kInt4:
      return PgType::kInt4Array;
    case PgType::kInt8:
      return PgType::kInt8Array;
    case PgType::kBytea:
      return PgType::kByteaArray;
    case PgType::kText:
      return PgType::kTextArray;
    default:
      return element;  // not an element type the backend uses
  }
}

void PgArray::AddInt4(int32_t v) {
  AppendBigEndian32(elements_, 4);
  AppendBigEndian32(elements_, static_cast<uint32_t>(v));
  ++count_;
}

void PgArray::AddInt8(int64_t v) {
  AppendBigEndian32(elements_, 8);
  AppendBigEndian64(elements_, static_cast<uint64_t>(v));
  ++count_;
}

void PgArray::AddBytes(absl::string_view v) {
  AppendBigEndian32(elements_, static_cast<uint32_t>(v.size()));
  elements_.append(v.data(), v.size());
  ++count_;
}

std::string PgArray::Encode() const {
  // array_send: ndim, has-null flag, element oid, then (size, lower bound) per dimension. An empty
  // array has zero dimensions.
  std::string out;
  out.reserve(20 + elements_.size());
  AppendBigEndian32(out, count_ == 0 ? 0 : 1);
  AppendBigEndian32(out, 0);
  AppendBigEndian32(out, static_cast<uint32_t>(element_));
  if (count_ > 0) {
    AppendBigEndian32(out, static_cast<uint32_t>(count_));
    AppendBigEndian32(out, 1);
  }
  out += elements_;
  return out;
}

void PgParams::Add(PgType type, std::string bytes) {
  storage_.push_back(std::move(bytes));
  const std::string& stored = storage_.back();
  // libpq ignores the length of a text-format value but needs a non-null pointer for a
  // zero-length binary one; std::string::data() is never null.
  values_.push_back(stored.data());
  lengths_.push_back(static_cast<int>(stored.size()));
  formats_.push_back(1);
  types_.push_back(static_cast<uint32_t>(type));
}

void PgParams::AddInt4(int32_t v) { Add(PgType::kInt4, BigEndian32(static_cast<uint32_t>(v))); }
void PgParams::AddInt8(int64_t v) { Add(PgType::kInt8, BigEndian64(static_cast<uint64_t>(v))); }
void PgParams::AddBytea(absl::string_view v) { Add(PgType::kBytea, std::string(v)); }
void PgParams::AddText(absl::string_view v) { Add(PgType::kText, std::string(v)); }
void PgParams::AddArray(const PgArray& array) {
  Add(ArrayTypeOf(array.element_type()), array.Encode());
}

PgCopyBinary::PgCopyBinary() {
  data_.append("PGCOPY\n\377\r\n\0", 11);
  AppendBigEndian32(data_, 0);  // flags: no OIDs
  AppendBigEndian32(data_, 0);  // header extension length
}

void PgCopyBinary::StartRow(int16_t fields) {
  data_.push_back(static_cast<char>(static_cast<uint16_t>(fields) >> 8));
  data_.push_back(static_cast<char>(fields & 0xff));
}

void PgCopyBinary::AddInt4(int32_t v) {
  AppendBigEndian32(data_, 4);
  AppendBigEndian32(data_, static_cast<uint32_t>(v));
}

void PgCopyBinary::AddInt8(int64_t v) {
  AppendBigEndian32(data_, 8);
  AppendBigEndian64(data_, static_cast<uint64_t>(v));
}

void PgCopyBinary::AddBytes(absl::string_view v) {
  AppendBigEndian32(data_, static_cast<uint32_t>(v.size()));
  data_.append(v.data(), v.size());
}

std::string PgCopyBinary::Finish() {
  data_.append("\xff\xff", 2);
  return std::move(data_);
}

absl::StatusOr<int32_t> DecodeInt4(absl::string_view value) {
  if (value.size() != 4) {
    return absl::InternalError(absl::StrCat("int4 result has ", value.size(), " bytes"));
  }
  return static_cast<int32_t>(static_cast<uint32_t>(ReadBigEndian(value)));
}

absl::StatusOr<int64_t> DecodeInt8(absl::string_view value) {
  if (value.size() != 8) {
    return absl::InternalError(absl::StrCat("int8 result has ", value.size(), " bytes"));
  }
  return static_cast<int64_t>(ReadBigEndian(value));
}

absl::StatusOr<bool> DecodeBool(absl::string_view value) {
  if (value.size() != 1) {
    return absl::InternalError(absl::StrCat("bool result has ", value.size(), " bytes"));
  }
  return value[0] != 0;
}

}  // namespace pinning::aggregator::postgres
