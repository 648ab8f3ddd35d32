#include "aggregator/storage/postgres/pg_params.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace pinning::aggregator::postgres {
namespace {

std::string Hex(absl::string_view bytes) { return absl::BytesToHexString(bytes); }

TEST(PgParamsTest, ScalarsAreBigEndianBinary) {
  PgParams params;
  params.AddInt4(-2);
  params.AddInt8(0x0102030405060708);
  params.AddBytea(std::string("\x00\xff", 2));
  params.AddText("");
  ASSERT_EQ(params.size(), 4);
  EXPECT_EQ(Hex(std::string(params.values()[0], params.lengths()[0])), "fffffffe");
  EXPECT_EQ(Hex(std::string(params.values()[1], params.lengths()[1])), "0102030405060708");
  EXPECT_EQ(Hex(std::string(params.values()[2], params.lengths()[2])), "00ff");
  EXPECT_EQ(params.lengths()[3], 0);
  EXPECT_NE(params.values()[3], nullptr);  // a zero-length binary value is not NULL
  for (int i = 0; i < 4; ++i) EXPECT_EQ(params.formats()[i], 1) << i;
  EXPECT_EQ(params.types()[0], 23u);
  EXPECT_EQ(params.types()[1], 20u);
  EXPECT_EQ(params.types()[2], 17u);
  EXPECT_EQ(params.types()[3], 25u);
}

TEST(PgParamsTest, Int4ArrayMatchesArraySendLayout) {
  PgArray array(PgType::kInt4);
  array.AddInt4(1);
  array.AddInt4(-1);
  // ndim 1, no nulls, oid 23, size 2, lower bound 1, then (len 4, value) twice.
  EXPECT_EQ(Hex(array.Encode()),
            "00000001"
            "00000000"
            "00000017"
            "00000002"
            "00000001"
            "00000004"
            "00000001"
            "00000004"
            "ffffffff");
}

TEST(PgParamsTest, ByteaAndEmptyArrays) {
  PgArray bytes(PgType::kBytea);
  bytes.AddBytes("ab");
  bytes.AddBytes("");
  EXPECT_EQ(Hex(bytes.Encode()),
            "00000001000000000000001100000002000000010000000261620000000"
            "0");
  PgArray empty(PgType::kText);
  EXPECT_EQ(Hex(empty.Encode()), "000000000000000000000019");  // no dimensions
  PgParams params;
  params.AddArray(bytes);
  params.AddArray(empty);
  EXPECT_EQ(params.types()[0], 1001u);
  EXPECT_EQ(params.types()[1], 1009u);
}

TEST(PgParamsTest, CopyBinaryHasSignatureRowsAndTrailer) {
  PgCopyBinary copy;
  copy.StartRow(2);
  copy.AddInt4(7);
  copy.AddBytes("z");
  EXPECT_EQ(Hex(copy.Finish()),
            "5047434f50590aff0d0a00"  // PGCOPY\n\377\r\n\0
            "00000000"                // flags
            "00000000"                // header extension
            "0002"                    // two fields
            "0000000400000007"        // int4 7
            "000000017a"              // bytea "z"
            "ffff");                  // trailer
}

TEST(PgParamsTest, DecodersCheckLengthAndByteOrder) {
  EXPECT_EQ(*DecodeInt4(std::string("\xff\xff\xff\xfe", 4)), -2);
  EXPECT_EQ(*DecodeInt8(std::string("\x00\x00\x00\x01\x00\x00\x00\x02", 8)),
            (int64_t{1} << 32) + 2);
  EXPECT_TRUE(*DecodeBool(std::string("\x01", 1)));
  EXPECT_FALSE(*DecodeBool(std::string("\x00", 1)));
  EXPECT_EQ(DecodeInt4("abc").status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(DecodeInt8("abcd").status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace pinning::aggregator::postgres
