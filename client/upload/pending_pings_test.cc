#include "client/upload/pending_pings.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace pinning::client {
namespace {

v1::Ping MakePing(char id_byte, const std::string& day) {
  v1::Ping ping;
  ping.set_ping_id(std::string(16, id_byte));
  ping.set_day(day);
  ping.set_params_version(1);
  ping.set_bits(std::string(1, '\x05'));
  return ping;
}

std::vector<std::string> Days(const std::vector<v1::Ping>& pings) {
  std::vector<std::string> days;
  for (const v1::Ping& p : pings) days.push_back(p.day());
  return days;
}

TEST(InMemoryPendingPingsTest, KeepsOrderAndRoundTripsPings) {
  InMemoryPendingPings pending(10);
  ASSERT_TRUE(pending.Append(MakePing('a', "2024-01-01")).ok());
  ASSERT_TRUE(pending.Append(MakePing('b', "2024-01-02")).ok());
  absl::StatusOr<std::vector<v1::Ping>> all = pending.Oldest(10);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].ping_id(), std::string(16, 'a'));
  EXPECT_EQ((*all)[0].bits(), std::string(1, '\x05'));
  EXPECT_EQ(Days(*pending.Oldest(1)), std::vector<std::string>{"2024-01-01"});
}

TEST(InMemoryPendingPingsTest, FullQueueDropsOldestFirstAndCounts) {
  InMemoryPendingPings pending(3);
  for (char c = 'a'; c <= 'e'; ++c) {
    ASSERT_TRUE(pending.Append(MakePing(c, std::string("2024-01-0") + char('1' + (c - 'a')))).ok());
  }
  EXPECT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending.capacity(), 3u);
  EXPECT_EQ(pending.dropped_overflow(), 2u);
  EXPECT_EQ(Days(*pending.Oldest(5)),
            (std::vector<std::string>{"2024-01-03", "2024-01-04", "2024-01-05"}));
}

TEST(InMemoryPendingPingsTest, RemoveByIdIgnoresUnknownIds) {
  InMemoryPendingPings pending(5);
  ASSERT_TRUE(pending.Append(MakePing('a', "2024-01-01")).ok());
  ASSERT_TRUE(pending.Append(MakePing('b', "2024-01-02")).ok());
  ASSERT_TRUE(pending.Append(MakePing('c', "2024-01-03")).ok());
  ASSERT_TRUE(pending.Remove({std::string(16, 'b'), std::string(16, 'z')}).ok());
  EXPECT_EQ(Days(*pending.Oldest(5)), (std::vector<std::string>{"2024-01-01", "2024-01-03"}));
  EXPECT_EQ(pending.dropped_overflow(), 0u);
}

TEST(InMemoryPendingPingsTest, RefusesPingsWithoutA16ByteId) {
  InMemoryPendingPings pending(5);
  v1::Ping ping = MakePing('a', "2024-01-01");
  ping.set_ping_id("short");
  EXPECT_EQ(pending.Append(ping).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(pending.size(), 0u);
}

}  // namespace
}  // namespace pinning::client
