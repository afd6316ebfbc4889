// The fuzz corpora (fuzz/corpus/<target>/) as the unit tests replay them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace kiln::fuzz {

// KILN_FUZZ_CORPUS_DIR is <repo>/fuzz/corpus, defined for the replay tests' sources only.
inline std::filesystem::path corpus_dir(const std::string& target) {
  return std::filesystem::path(KILN_FUZZ_CORPUS_DIR) / target;
}

// Every file of the target's corpus, in name order.
inline std::vector<std::vector<uint8_t>> read_corpus(const std::string& target) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(corpus_dir(target))) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::vector<uint8_t>> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

}  // namespace kiln::fuzz
