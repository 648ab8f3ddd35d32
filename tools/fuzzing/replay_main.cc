// replay_main.cc: runs a fuzz target without libFuzzer, as a deterministic test that CI can run
// with any compiler. Inputs: the target's FuzzerSeeds(), every file in the directories named by
// the arguments, and, from each of those, `--mutations` (default 300) mutants made with a fixed
// seed (bit flips, byte changes, insertions, deletions, truncations, duplicated chunks). A crash
// or an abort() of the target fails the test; so does a target with no inputs at all.
//
// With FUZZ_WRITE_SEEDS=DIR it only writes the seeds to DIR (one file each) and exits: tools/fuzz.sh
// uses that to give libFuzzer a starting corpus.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "tools/fuzzing/fuzz_target.h"

namespace {

std::string Mutate(std::string s, std::mt19937_64& rng) {
  auto pick = [&rng](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 6) {
      case 0:  // flip a bit
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1:  // set a byte, often to a boundary value
        if (!s.empty()) {
          static constexpr unsigned char kSpecial[] = {0, 1, 0x7f, 0x80, 0xff, '"', '{', '\n'};
          s[pick(s.size())] = static_cast<char>(rng() % 2 ? kSpecial[rng() % sizeof(kSpecial)]
                                                          : static_cast<unsigned char>(rng()));
        }
        break;
      case 2:  // insert a byte
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(pick(s.size() + 1)),
                 static_cast<char>(rng()));
        break;
      case 3:  // delete a range
        if (!s.empty()) {
          const size_t at = pick(s.size());
          s.erase(at, 1 + pick(std::min<size_t>(16, s.size() - at)));
        }
        break;
      case 4:  // truncate
        s.resize(pick(s.size() + 1));
        break;
      case 5:  // duplicate a chunk
        if (!s.empty() && s.size() < (1 << 20)) {
          const size_t at = pick(s.size());
          const size_t n = 1 + pick(std::min<size_t>(64, s.size() - at));
          s.insert(pick(s.size() + 1), s.substr(at, n));
        }
        break;
    }
  }
  return s;
}

void Run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

}  // namespace

int main(int argc, char** argv) {
  int mutations = 300;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--mutations=", 0) == 0) {
      mutations = std::atoi(arg.c_str() + 12);
    } else {
      dirs.push_back(arg);
    }
  }
  std::vector<std::string> inputs;
  if (pinning::fuzzing::FuzzerSeeds) inputs = pinning::fuzzing::FuzzerSeeds();
  if (const char* out = std::getenv("FUZZ_WRITE_SEEDS"); out != nullptr) {
    std::filesystem::create_directories(out);
    for (size_t i = 0; i < inputs.size(); ++i) {
      std::ofstream(std::string(out) + "/seed-" + std::to_string(i), std::ios::binary)
          << inputs[i];
    }
    std::cout << "wrote " << inputs.size() << " seeds to " << out << "\n";
    return 0;
  }
  for (const std::string& dir : dirs) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      inputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  if (inputs.empty()) {
    std::cerr << "replay: no inputs (no FuzzerSeeds() and no corpus files)\n";
    return 1;
  }
  std::mt19937_64 rng(20261122);
  size_t runs = 0;
  for (const std::string& input : inputs) {
    Run(input);
    ++runs;
    for (int m = 0; m < mutations; ++m) {
      Run(Mutate(input, rng));
      ++runs;
    }
  }
  Run("");
  std::cout << "replay: " << inputs.size() << " inputs, " << runs + 1 << " runs, no crash\n";
  return 0;
}
