#include "privacy/hmac_sha256.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace privacy {
namespace {

absl::Span<const uint8_t> Bytes(absl::string_view s) {
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string Hex(const PrefixedHmacSha256::Digest& d) {
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

std::string MacHex(absl::string_view key, absl::string_view prefix, absl::string_view suffix) {
  absl::StatusOr<PrefixedHmacSha256> mac = PrefixedHmacSha256::Create(Bytes(key), Bytes(prefix));
  EXPECT_TRUE(mac.ok()) << mac.status();
  absl::StatusOr<PrefixedHmacSha256::Digest> d = mac->Mac(Bytes(suffix));
  EXPECT_TRUE(d.ok()) << d.status();
  return Hex(*d);
}

// RFC 4231 test vectors for HMAC-SHA-256.
TEST(PrefixedHmacSha256Test, Rfc4231TestCase1) {
  EXPECT_EQ(MacHex(std::string(20, '\x0b'), "", "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(PrefixedHmacSha256Test, Rfc4231TestCase2WithAnySplit) {
  const std::string data = "what do ya want for nothing?";
  for (size_t split = 0; split <= data.size(); ++split) {
    EXPECT_EQ(MacHex("Jefe", data.substr(0, split), data.substr(split)),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        << split;
  }
}

TEST(PrefixedHmacSha256Test, Rfc4231TestCase6LongKey) {
  EXPECT_EQ(MacHex(std::string(131, '\xaa'), "Test Using Larger Than Block-",
                   "Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(PrefixedHmacSha256Test, RepeatedCallsMatchOneShotHmac) {
  const std::string key(32, '\x5a');
  const std::string prefix = "prefix-of-forty-bytes-0123456789abcdefgh";
  absl::StatusOr<PrefixedHmacSha256> mac = PrefixedHmacSha256::Create(Bytes(key), Bytes(prefix));
  ASSERT_TRUE(mac.ok());
  for (int i = 0; i < 100; ++i) {
    const std::string suffix(static_cast<size_t>(i), static_cast<char>('a' + i % 26));
    const std::string message = prefix + suffix;
    unsigned char expected[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), expected, &len);
    ASSERT_EQ(len, 32u);
    absl::StatusOr<PrefixedHmacSha256::Digest> d = mac->Mac(Bytes(suffix));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(std::vector<uint8_t>(d->begin(), d->end()),
              std::vector<uint8_t>(expected, expected + 32))
        << i;
  }
}

}  // namespace
}  // namespace privacy
