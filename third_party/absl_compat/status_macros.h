// status_macros.h: RETURN_IF_ERROR and ASSIGN_OR_RETURN for absl::Status / absl::StatusOr.
//
// Abseil 20220623 (Debian bookworm) has no public status macros; these follow the ones in
// google/differential-privacy's cc/base/status_macros.h.
//
//   absl::Status Load(...) {
//     RETURN_IF_ERROR(Validate(x));
//     ASSIGN_OR_RETURN(Params params, builder.Build());
//     ...
//   }
#ifndef THIRD_PARTY_ABSL_COMPAT_STATUS_MACROS_H_
#define THIRD_PARTY_ABSL_COMPAT_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define STATUS_MACROS_CONCAT_INNER_(a, b) a##b
#define STATUS_MACROS_CONCAT_(a, b) STATUS_MACROS_CONCAT_INNER_(a, b)

// RETURN_IF_ERROR evaluates `expr` (an absl::Status) and returns it from the enclosing function
// when it is not OK.
#define RETURN_IF_ERROR(expr)                                              \
  do {                                                                     \
    ::absl::Status status_macros_status_ = (expr);                         \
    if (!status_macros_status_.ok()) return status_macros_status_;         \
  } while (false)

// ASSIGN_OR_RETURN(lhs, expr) evaluates `expr` (an absl::StatusOr<T>); on error it returns the
// status from the enclosing function, otherwise it moves the value into `lhs`, which may be a
// declaration (`ASSIGN_OR_RETURN(auto x, F())`).
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(STATUS_MACROS_CONCAT_(status_macros_or_, __LINE__), lhs, expr)

#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                           \
  if (!statusor.ok()) return statusor.status();     \
  lhs = std::move(statusor).value()

#endif  // THIRD_PARTY_ABSL_COMPAT_STATUS_MACROS_H_
