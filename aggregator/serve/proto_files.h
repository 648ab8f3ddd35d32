// proto_files.h: reads protobuf messages from files in text format or JSON, and prints them as
// JSON. Used for aggregatord's initial catalog and parameters and by aggctl.
//
//   v1::Catalog catalog;
//   RETURN_IF_ERROR(ReadProtoFile("catalog.json", &catalog));   // JSON: name ends in .json
//   RETURN_IF_ERROR(ReadProtoFile("params.textproto", &params)); // anything else: text format
//   std::string json = ProtoToPrettyJson(response);
#ifndef AGGREGATOR_SERVE_PROTO_FILES_H_
#define AGGREGATOR_SERVE_PROTO_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace pinning::aggregator {

// ParseProtoText parses `text` as JSON when `json` is true, else as protobuf text format, into
// `message` (cleared first). INVALID_ARGUMENT with the parser's explanation on failure.
[[nodiscard]] absl::Status ParseProtoText(absl::string_view text, bool json,
                                          google::protobuf::Message* message);

// ReadProtoFile reads `path` and parses it with ParseProtoText; JSON when the name ends in
// ".json". NOT_FOUND when the file cannot be read.
[[nodiscard]] absl::Status ReadProtoFile(const std::string& path,
                                         google::protobuf::Message* message);

// ProtoToPrettyJson renders `message` as indented JSON with proto field names and default values.
std::string ProtoToPrettyJson(const google::protobuf::Message& message);

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_SERVE_PROTO_FILES_H_
