// scripted_transport.h: an IngestTransport for tests that answers from scripts and records calls.
//
//   ScriptedTransport transport;
//   transport.submit_script = {SubmitOutcome{.status = absl::UnavailableError("down")}};
//   ... uploader.Flush(...) ...
//   EXPECT_EQ(transport.submitted.size(), 2);
//
// Each call takes the next scripted outcome; when a script is empty, Submit and SubmitBatch
// acknowledge everything and GetParams serves `params_default` (UNAVAILABLE when unset).
// Thread safety: not thread-safe.
#ifndef CLIENT_UPLOAD_SCRIPTED_TRANSPORT_H_
#define CLIENT_UPLOAD_SCRIPTED_TRANSPORT_H_

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "client/upload/ingest_transport.h"

namespace pinning::client {

class ScriptedTransport final : public IngestTransport {
 public:
  std::deque<SubmitOutcome> submit_script;
  std::deque<BatchOutcome> batch_script;
  std::deque<ParamsOutcome> params_script;
  std::optional<ParamsOutcome> params_default;

  std::vector<v1::Ping> submitted;                  // every ping of every Submit call
  std::vector<std::vector<std::string>> batch_ids;  // ping ids of each SubmitBatch call
  std::vector<std::string> params_known_versions;   // one per GetParams call
  std::vector<absl::Duration> timeouts;             // of every call

  SubmitOutcome Submit(const v1::Ping& ping, absl::Duration timeout) override {
    submitted.push_back(ping);
    timeouts.push_back(timeout);
    if (submit_script.empty()) return SubmitOutcome{};
    SubmitOutcome next = submit_script.front();
    submit_script.pop_front();
    return next;
  }

  BatchOutcome SubmitBatch(absl::Span<const v1::Ping> pings, absl::Duration timeout) override {
    std::vector<std::string> ids;
    for (const v1::Ping& p : pings) ids.push_back(p.ping_id());
    batch_ids.push_back(std::move(ids));
    timeouts.push_back(timeout);
    if (batch_script.empty()) return BatchOutcome{.accepted = pings.size()};
    BatchOutcome next = batch_script.front();
    batch_script.pop_front();
    return next;
  }

  ParamsOutcome GetParams(absl::string_view known, absl::Duration timeout) override {
    params_known_versions.emplace_back(known);
    timeouts.push_back(timeout);
    if (params_script.empty()) {
      if (params_default.has_value()) return *params_default;
      return ParamsOutcome{.status = absl::UnavailableError("no scripted params")};
    }
    ParamsOutcome next = params_script.front();
    params_script.pop_front();
    return next;
  }

  // SubmittedIds returns the ping ids of every Submit call, in order.
  std::vector<std::string> SubmittedIds() const {
    std::vector<std::string> ids;
    for (const v1::Ping& p : submitted) ids.push_back(p.ping_id());
    return ids;
  }
};

// ServeParams returns a successful Params.Get answer (with the catalog when given).
inline ParamsOutcome ServeParams(const v1::ParamsVersion& current, const v1::Catalog* catalog) {
  ParamsOutcome outcome;
  *outcome.response.mutable_current() = current;
  if (catalog != nullptr) *outcome.response.mutable_catalog() = *catalog;
  return outcome;
}

}  // namespace pinning::client

#endif  // CLIENT_UPLOAD_SCRIPTED_TRANSPORT_H_
