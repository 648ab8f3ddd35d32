#include "aggregator/storage/postgres/connection_config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pinning::aggregator::postgres {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string TempFile(const std::string& name, const std::string& content, mode_t mode) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name, "_", getpid());
  std::ofstream(path, std::ios::trunc) << content;
  chmod(path.c_str(), mode);
  return path;
}

// Value returns the value paired with `keyword` in the PQconnectdbParams arrays, or nullptr.
const char* Value(const PgConnectionConfig& config, const std::string& keyword) {
  for (int i = 0; config.keywords()[i] != nullptr; ++i) {
    if (keyword == config.keywords()[i]) return config.values()[i];
  }
  return nullptr;
}

TEST(PgConnectionConfigTest, ParsesKeywordsAndAddsDefaults) {
  absl::StatusOr<PgConnectionConfig> config =
      PgConnectionConfig::Create("host=127.0.0.1 port=6543 dbname=pinning user=agg", "");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_STREQ(Value(*config, "host"), "127.0.0.1");
  EXPECT_STREQ(Value(*config, "port"), "6543");
  EXPECT_STREQ(Value(*config, "connect_timeout"), "5");
  EXPECT_STREQ(Value(*config, "tcp_user_timeout"), "15000");
  EXPECT_STREQ(Value(*config, "application_name"), "aggregatord");
  EXPECT_EQ(Value(*config, "password"), nullptr);
}

TEST(PgConnectionConfigTest, ExplicitSettingsWinOverDefaults) {
  absl::StatusOr<PgConnectionConfig> config = PgConnectionConfig::Create(
      "postgresql://agg@127.0.0.1:6543/pinning?connect_timeout=1&application_name=replica2", "");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->Get("user"), "agg");
  EXPECT_EQ(config->Get("dbname"), "pinning");
  EXPECT_EQ(config->Get("connect_timeout"), "1");
  EXPECT_EQ(config->Get("application_name"), "replica2");
}

TEST(PgConnectionConfigTest, RefusesPasswordsInTheConnectionString) {
  for (const char* conninfo :
       {"host=127.0.0.1 password=hunter2", "postgresql://agg:hunter2@127.0.0.1/pinning"}) {
    absl::StatusOr<PgConnectionConfig> config = PgConnectionConfig::Create(conninfo, "");
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << conninfo;
    EXPECT_THAT(std::string(config.status().message()), Not(HasSubstr("hunter2")));
  }
  EXPECT_EQ(PgConnectionConfig::Create("host=", "").status().code(), absl::StatusCode::kOk);
  EXPECT_EQ(PgConnectionConfig::Create("host = 'unterminated", "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PgConnectionConfigTest, ReadsPasswordFileAndKeepsItOutOfDescribe) {
  const std::string file = TempFile("pw_ok", "s3cret-value\nignored second line\n", 0600);
  absl::StatusOr<PgConnectionConfig> config =
      PgConnectionConfig::Create("host=127.0.0.1 user=agg", file);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_STREQ(Value(*config, "password"), "s3cret-value");
  EXPECT_THAT(config->Describe(), HasSubstr("host=127.0.0.1"));
  EXPECT_THAT(config->Describe(), HasSubstr("user=agg"));
  EXPECT_THAT(config->Describe(), Not(HasSubstr("s3cret")));
  EXPECT_THAT(config->Describe(), Not(HasSubstr("password")));
  // Copies keep working pointer arrays.
  PgConnectionConfig copy = *config;
  config = PgConnectionConfig::Create("", "").value();
  EXPECT_STREQ(Value(copy, "password"), "s3cret-value");
  EXPECT_STREQ(Value(copy, "host"), "127.0.0.1");
}

TEST(PgConnectionConfigTest, RefusesLoosePasswordFiles) {
  EXPECT_EQ(PgConnectionConfig::Create("", "/nonexistent/pw").status().code(),
            absl::StatusCode::kNotFound);
  const std::string loose = TempFile("pw_loose", "secret\n", 0644);
  EXPECT_EQ(PgConnectionConfig::Create("", loose).status().code(),
            absl::StatusCode::kFailedPrecondition);
  const std::string empty = TempFile("pw_empty", "\n", 0600);
  EXPECT_EQ(PgConnectionConfig::Create("", empty).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace pinning::aggregator::postgres
