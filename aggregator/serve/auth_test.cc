#include "aggregator/serve/auth.h"

#include "gtest/gtest.h"

namespace pinning::aggregator {
namespace {

constexpr char kTokens[] =
    "# tokens\n"
    "reader-token-0123456789 reader dashboard\n"
    "\n"
    "admin-token-0123456789abc privacy-admin alice\n";

TEST(TokenStoreTest, ParsesRolesAndNames) {
  absl::StatusOr<TokenStore> tokens = TokenStore::Parse(kTokens);
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->size(), 2u);
  absl::StatusOr<Principal> reader = tokens->Authenticate("Bearer reader-token-0123456789");
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(reader->name, "dashboard");
  EXPECT_EQ(reader->role, Role::kReader);
  absl::StatusOr<Principal> admin = tokens->Authenticate("Bearer admin-token-0123456789abc");
  ASSERT_TRUE(admin.ok()) << admin.status();
  EXPECT_EQ(admin->name, "alice");
  EXPECT_EQ(admin->role, Role::kPrivacyAdmin);
}

TEST(TokenStoreTest, RejectsMissingMalformedAndUnknownTokens) {
  absl::StatusOr<TokenStore> tokens = TokenStore::Parse(kTokens);
  ASSERT_TRUE(tokens.ok());
  for (const char* header :
       {"", "Bearer ", "bearer reader-token-0123456789", "Basic abc", "reader-token-0123456789",
        "Bearer reader-token-012345678", "Bearer reader-token-01234567890",
        "Bearer READER-TOKEN-0123456789"}) {
    absl::StatusOr<Principal> p = tokens->Authenticate(header);
    EXPECT_EQ(p.status().code(), absl::StatusCode::kUnauthenticated) << "header: " << header;
  }
}

TEST(TokenStoreTest, AuthorizeChecksRole) {
  absl::StatusOr<TokenStore> tokens = TokenStore::Parse(kTokens);
  ASSERT_TRUE(tokens.ok());
  EXPECT_TRUE(tokens->Authorize("Bearer reader-token-0123456789", Role::kReader).ok());
  EXPECT_EQ(tokens->Authorize("Bearer reader-token-0123456789", Role::kPrivacyAdmin).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(tokens->Authorize("Bearer admin-token-0123456789abc", Role::kReader).ok());
  EXPECT_TRUE(tokens->Authorize("Bearer admin-token-0123456789abc", Role::kPrivacyAdmin).ok());
  EXPECT_EQ(tokens->Authorize("Bearer nope-nope-nope-nope", Role::kReader).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(TokenStoreTest, RejectsBadFiles) {
  const char* kBad[] = {
      "only-two-fields-here-xx reader\n",
      "a-long-enough-token-xyz writer bob\n",
      "short reader bob\n",
      "a-long-enough-token-xyz reader bob extra\n",
      "a-long-enough-token-xyz reader bob\na-long-enough-token-xyz privacy-admin eve\n",
  };
  for (const char* text : kBad) {
    EXPECT_EQ(TokenStore::Parse(text).status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
  EXPECT_EQ(TokenStore::LoadFile("/nonexistent/tokens").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(TokenStoreTest, EmptyStoreRejectsEverything) {
  absl::StatusOr<TokenStore> tokens = TokenStore::Parse("");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->Authenticate("Bearer reader-token-0123456789").status().code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace pinning::aggregator
