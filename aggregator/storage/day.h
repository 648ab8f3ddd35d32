// day.h: UTC calendar days as "YYYY-MM-DD" strings and as day numbers (days since 1970-01-01).
//
// Pings and queries name days as strings; the store keys counts by day number, which sorts and
// subtracts naturally.
//
//   ASSIGN_OR_RETURN(DayNumber day, ParseDay("2024-03-01"));   // 19783
//   std::string text = FormatDay(day + 1);                     // "2024-03-02"
//   DayNumber today = DayFromTime(absl::Now());
#ifndef AGGREGATOR_STORAGE_DAY_H_
#define AGGREGATOR_STORAGE_DAY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace pinning::aggregator {

// DayNumber counts UTC days since 1970-01-01 (day 0).
using DayNumber = int32_t;

// ParseDay accepts exactly "YYYY-MM-DD" (ten characters, zero-padded, a real calendar date,
// years 1970..9999) and returns its day number. Anything else is INVALID_ARGUMENT.
absl::StatusOr<DayNumber> ParseDay(absl::string_view text);

// FormatDay returns the "YYYY-MM-DD" form of `day`.
std::string FormatDay(DayNumber day);

// DayFromTime returns the UTC day containing `t`.
DayNumber DayFromTime(absl::Time t);

}  // namespace pinning::aggregator

#endif  // AGGREGATOR_STORAGE_DAY_H_
