// json.h: protobuf messages to and from JSON (protobuf's own util::JsonStringToMessage and
// MessageToJsonString, never by hand), and the gateway's error bodies with their HTTP statuses.
//
//   std::string body = ProtoToJson(rates_response);
//   int http_status = HttpStatusFromCode(absl::StatusCode::kNotFound);      // 404
//   std::string error = ErrorJson(absl::NotFoundError("no catalog 'abc'"));
//   // {"error":{"code":"NOT_FOUND","message":"no catalog 'abc'"}}
//
// JSON follows protobuf's JSON mapping with field names as in the .proto files (snake_case),
// every field printed even when zero, enums as names, and 64-bit integers as strings.
#ifndef AGGREGATOR_HTTP_JSON_H_
#define AGGREGATOR_HTTP_JSON_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace pinning::aggregator {

// ProtoToJson returns the JSON form of `message`.
std::string ProtoToJson(const google::protobuf::Message& message);

// JsonToProto parses JSON into `message` (unknown fields are errors). INVALID_ARGUMENT on failure.
[[nodiscard]] absl::Status JsonToProto(absl::string_view json, google::protobuf::Message* message);

// StatusCodeName returns the canonical name of `code`, e.g. "INVALID_ARGUMENT".
std::string StatusCodeName(absl::StatusCode code);

// HttpStatusFromCode maps a canonical code to its HTTP status, as google.rpc.Code documents:
// INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE 400; UNAUTHENTICATED 401;
// PERMISSION_DENIED 403; NOT_FOUND 404; ALREADY_EXISTS, ABORTED 409; RESOURCE_EXHAUSTED 429;
// CANCELLED 499; UNIMPLEMENTED 501; UNAVAILABLE 503; DEADLINE_EXCEEDED 504; others 500.
int HttpStatusFromCode(absl::StatusCode code);

// ErrorJson returns {"error": {"code": NAME, "message": MESSAGE}} for a non-OK `status`.
std::string ErrorJson(const absl::Status& status);

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_HTTP_JSON_H_
