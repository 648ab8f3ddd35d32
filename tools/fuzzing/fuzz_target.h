// fuzz_target.h: what a fuzz target defines, for libFuzzer (tools/fuzz.sh) and for the replay
// test that CI runs (replay_main.cc).
//
//   // my_fuzzer.cc
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
//     ...  // must not crash, hang or leak on any input; abort() on a broken invariant
//     return 0;
//   }
//   std::vector<std::string> pinning::fuzzing::FuzzerSeeds() { return {...valid inputs...}; }
#ifndef TOOLS_FUZZING_FUZZ_TARGET_H_
#define TOOLS_FUZZING_FUZZ_TARGET_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace pinning::fuzzing {

// Valid (or nearly valid) inputs the mutations start from. Optional (weak): a target without it
// starts from its corpus directories only.
std::vector<std::string> FuzzerSeeds() __attribute__((weak));

}  // namespace pinning::fuzzing

#endif  // TOOLS_FUZZING_FUZZ_TARGET_H_
