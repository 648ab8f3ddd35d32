// Fuzz target: DecodeStoreFile, which reads the browser profile's store file (it may be truncated,
// corrupted by the disk, or written by a newer version). Any input must decode or give an error,
// never a crash; what decodes must re-encode to a file that decodes to the same state.
// The file's SHA-256 stops almost every mutant at the framing, so the first byte picks what the
// rest is: (even) the file's bytes, testing the framing; (odd) the payload, a serialized
// ClientState, framed correctly here so that the contents' checks (secret size, daily state...)
// are what the mutants reach.
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "client/client_store.h"
#include "client/client_store.pb.h"
#include "tools/fuzzing/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string file(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 1) {
    pinning::client::store::ClientState payload;
    if (!payload.ParseFromString(file)) return 0;
    file = pinning::client::EncodeStoreFile(payload);
  }
  absl::StatusOr<pinning::client::store::ClientState> state =
      pinning::client::DecodeStoreFile(file);
  if (!state.ok()) return 0;
  absl::StatusOr<pinning::client::store::ClientState> again =
      pinning::client::DecodeStoreFile(pinning::client::EncodeStoreFile(*state));
  if (!again.ok() || again->SerializeAsString() != state->SerializeAsString()) std::abort();
  return 0;
}

std::vector<std::string> pinning::fuzzing::FuzzerSeeds() {
  using pinning::client::store::ClientState;
  ClientState fresh;
  fresh.set_secret(std::string(32, '\x5a'));
  fresh.set_secret_generation(1);
  ClientState busy = fresh;
  busy.set_params_version(3);
  busy.set_catalog_version("cat-v1");
  auto* daily = busy.mutable_daily_state();
  daily->mutable_open_day()->set_day("2026-11-22");
  daily->mutable_open_day()->set_catalog_version("cat-v1");
  daily->mutable_open_day()->set_states(std::string("\0\1\2\1", 4));
  daily->set_last_frozen_day("2026-11-21");
  auto* finished = daily->add_finished_days();
  finished->set_day("2026-11-21");
  finished->set_catalog_version("cat-v1");
  finished->set_states(std::string("\1\1\0\2", 4));
  busy.add_pending_pings(std::string("\x0a\x10pingid0123456789", 18));
  auto* entry = busy.mutable_ledger()->add_entries();
  entry->set_params_version(3);
  entry->set_pings(2);
  entry->set_epsilon_spent(1.5);
  entry->set_secret_generation(1);
  busy.mutable_ledger()->set_lifetime_epsilon(1.5);
  auto* event = busy.add_events();
  event->set_day("2026-11-20");
  event->set_description("backup restored");
  return {std::string(1, '\0') + pinning::client::EncodeStoreFile(fresh),
          std::string(1, '\0') + pinning::client::EncodeStoreFile(busy),
          std::string(1, '\1') + fresh.SerializeAsString(),
          std::string(1, '\1') + busy.SerializeAsString()};
}
