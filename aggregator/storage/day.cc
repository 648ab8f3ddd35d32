#include "aggregator/storage/day.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"

namespace pinning::aggregator {
namespace {

const absl::CivilDay kEpoch(1970, 1, 1);

bool ParseDigits(absl::string_view text, int* out) {
  int v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

}  // namespace

absl::StatusOr<DayNumber> ParseDay(absl::string_view text) {
  int year = 0, month = 0, day = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' ||
      !ParseDigits(text.substr(0, 4), &year) || !ParseDigits(text.substr(5, 2), &month) ||
      !ParseDigits(text.substr(8, 2), &day)) {
    return absl::InvalidArgumentError(
        absl::StrCat("day '", absl::CHexEscape(text), "' is not of the form YYYY-MM-DD"));
  }
  // CivilDay normalizes out-of-range fields (2024-02-30 becomes 2024-03-01), so a real date is
  // one that survives the round trip unchanged.
  const absl::CivilDay civil(year, month, day);
  if (year < 1970 || civil.year() != year || civil.month() != month || civil.day() != day) {
    return absl::InvalidArgumentError(
        absl::StrCat("day '", text, "' is not a calendar date from 1970-01-01 on"));
  }
  return static_cast<DayNumber>(civil - kEpoch);
}

std::string FormatDay(DayNumber day) {
  const absl::CivilDay civil = kEpoch + day;
  return absl::StrFormat("%04d-%02d-%02d", civil.year(), civil.month(), civil.day());
}

DayNumber DayFromTime(absl::Time t) {
  return static_cast<DayNumber>(absl::ToCivilDay(t, absl::UTCTimeZone()) - kEpoch);
}

}  // namespace pinning::aggregator
