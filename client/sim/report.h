// report.h: pinsim's output: a table per organization and day, or JSON.
//
//   PrintTable(report, std::cout);   // people
//   PrintJson(report, std::cout);    // machines (--json)
//
// The JSON object has "browsers", "days", "first_day", "last_day", "params_version",
// "catalog_version", "epsilon_one", "epsilon_inf", "cells" (each with "organization", "day",
// "product", "checked", "violated", "true_rate", "sufficient", "estimate", "std_error", "ci_low",
// "ci_high", "pings", "covered"), "coverage" ("cells", "covered", "missed",
// "max_plausible_missed", "min_plausible_covered", "design_effect", "plausible"), "uploads",
// "events", "notes", "bytes_per_browser" and "elapsed_seconds". Infinite epsilons are "inf".
#ifndef CLIENT_SIM_REPORT_H_
#define CLIENT_SIM_REPORT_H_

#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "client/sim/simulator.h"

namespace pinning::client::sim {

// PrintTable writes the human-readable report.
void PrintTable(const SimReport& report, std::ostream& out);

// PrintJson writes the report as one JSON object followed by a newline.
void PrintJson(const SimReport& report, std::ostream& out);


// JsonNumber returns a JSON number with up to 10 significant digits; "inf"/"-inf" as strings and
// NaN as null.
std::string JsonNumber(double x);

}  // namespace pinning::client::sim

#endif  // CLIENT_SIM_REPORT_H_
