#include "aggregator/serve/auth.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
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

TEST(TokenStoreTest, ReplaceSwapsTheWholeSet) {
  absl::StatusOr<TokenStore> tokens = TokenStore::Parse(kTokens);
  ASSERT_TRUE(tokens.ok());
  absl::StatusOr<TokenStore> rotated = TokenStore::Parse("new-reader-token-00001 reader carol\n");
  ASSERT_TRUE(rotated.ok());
  tokens->Replace(*std::move(rotated));
  EXPECT_EQ(tokens->size(), 1u);
  absl::StatusOr<Principal> carol = tokens->Authenticate("Bearer new-reader-token-00001");
  ASSERT_TRUE(carol.ok()) << carol.status();
  EXPECT_EQ(carol->name, "carol");
  EXPECT_EQ(tokens->Authenticate("Bearer reader-token-0123456789").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(tokens->Authenticate("Bearer admin-token-0123456789abc").status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(TokenStoreTest, CallsDuringReplaceSeeTheOldSetOrTheNewOneWhole) {
  // Sets A and B alternate while another thread authenticates: every answer must be a whole
  // set's answer: OK with the token's own holder, or UNAUTHENTICATED; and there are 2 tokens.
  constexpr char kSetA[] = "token-a1-000000000 reader a1\ntoken-a2-000000000 reader a2\n";
  constexpr char kSetB[] = "token-b1-000000000 reader b1\ntoken-b2-000000000 reader b2\n";
  absl::StatusOr<TokenStore> tokens = TokenStore::Parse(kSetA);
  ASSERT_TRUE(tokens.ok());
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  std::atomic<int> accepted{0};
  std::thread reader([&] {
    while (!stop.load()) {
      for (const char* holder : {"a1", "a2", "b1", "b2"}) {
        absl::StatusOr<Principal> p =
            tokens->Authenticate(absl::StrCat("Bearer token-", holder, "-000000000"));
        if (p.ok()) {
          accepted.fetch_add(1);
          if (p->name != holder) wrong.fetch_add(1);
        } else if (p.status().code() != absl::StatusCode::kUnauthenticated) {
          wrong.fetch_add(1);
        }
      }
      if (tokens->size() != 2) wrong.fetch_add(1);
    }
  });
  for (int i = 0; i < 2000; ++i) {
    absl::StatusOr<TokenStore> next = TokenStore::Parse(i % 2 == 0 ? kSetB : kSetA);
    ASSERT_TRUE(next.ok());
    tokens->Replace(*std::move(next));
  }
  stop.store(true);
  reader.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(accepted.load(), 0);
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
