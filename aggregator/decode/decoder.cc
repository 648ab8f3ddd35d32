#include "aggregator/decode/decoder.h"

namespace pinning::aggregator {

// TODO: implementation in progress.
struct Decoder::CatalogInfo {};
Decoder::Decoder(CountStore* store, DecoderOptions options) : store_(store), options_(options) {}
absl::StatusOr<v1::RatesResponse> Decoder::Rates(const v1::RatesRequest&) {
  return absl::UnimplementedError("");
}

}  // namespace pinning::aggregator
