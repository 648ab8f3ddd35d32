// pinset_state.h: a pinset's daily state and its true bits (DESIGN §4).
//
// Each pinset of the catalog has one state per UTC day: not checked, checked without violation, or
// at least one violation. It is reported as bits_per_pinset true bits, in order:
//   bit 0 = checked  = [state >= kCheckedOk]
//   bit 1 = violated = [state == kViolated]
//
// Usage:
//   std::vector<PinsetState> day(catalog_size, PinsetState::kNotChecked);
//   day[7] = PinsetState::kViolated;
//   bool checked = TrueBit(day[7], kCheckedBit);  // true
#ifndef PRIVACY_PINSET_STATE_H_
#define PRIVACY_PINSET_STATE_H_

#include <cstdint>

namespace privacy {

enum class PinsetState : uint8_t {
  kNotChecked = 0,
  kCheckedOk = 1,
  kViolated = 2,
};

// Indices of the true bits of a pinset.
inline constexpr int kCheckedBit = 0;
inline constexpr int kViolatedBit = 1;
// The number of bits a PinsetState maps to.
inline constexpr int kStateBits = 2;

// IsValidState returns true for the three defined states (a byte read from disk may be anything).
constexpr bool IsValidState(PinsetState state) {
  return static_cast<uint8_t>(state) <= static_cast<uint8_t>(PinsetState::kViolated);
}

// TrueBit returns true bit `bit_index` (kCheckedBit or kViolatedBit) of `state`; false for any
// other index.
constexpr bool TrueBit(PinsetState state, int bit_index) {
  switch (bit_index) {
    case kCheckedBit:
      return state == PinsetState::kCheckedOk || state == PinsetState::kViolated;
    case kViolatedBit:
      return state == PinsetState::kViolated;
    default:
      return false;
  }
}

}  // namespace privacy

#endif  // PRIVACY_PINSET_STATE_H_
