#include "corpus.hpp"

#include "vkgrad/error.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>

namespace fs = std::filesystem;

std::string load_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw vkgrad::Error("cannot read " + file.string(), "check the path passed to --text");
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string load_fortunes(const fs::path& dir) {
  std::vector<fs::path> files;
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir)) {
      const auto ext = e.path().extension();
      if (e.is_regular_file() && ext != ".dat" && ext != ".u8") files.push_back(e.path());
    }
  if (files.empty())
    throw vkgrad::Error("no fortune files in " + dir.string(),
                        "install Debian's fortunes and fortunes-min (tools/dev does), or pass --text FILE");
  std::sort(files.begin(), files.end());
  std::string corpus;
  const auto add = [&](const std::string& entry) {
    if (entry.empty()) return;
    if (!corpus.empty()) corpus += '\n';
    corpus += entry;
  };
  for (const auto& f : files) {
    std::istringstream in(load_text(f));
    std::string line, entry;
    while (std::getline(in, line)) {
      const bool newline = !in.eof();
      if (line == "%") {
        add(entry);
        entry.clear();
      } else {
        entry += line;
        if (newline) entry += '\n';
      }
    }
    add(entry);
  }
  return corpus;
}

Vocabulary::Vocabulary(const std::string& text) {
  std::array<bool, 256> seen{};
  for (unsigned char c : text) seen[c] = true;
  id.fill(-1);
  for (int b = 0; b < 256; ++b)
    if (seen[b]) {
      id[b] = int32_t(bytes.size());
      bytes.push_back(uint8_t(b));
    }
}

Baselines baselines(const std::string& train, const std::string& validation, const Vocabulary& vocab) {
  const size_t v = vocab.size();
  std::vector<double> count(v, 0.0), pair(v * v, 0.0);
  for (size_t i = 0; i < train.size(); ++i) {
    const auto a = size_t(vocab.id[uint8_t(train[i])]);
    count[a] += 1;
    if (i + 1 < train.size()) pair[a * v + size_t(vocab.id[uint8_t(train[i + 1])])] += 1;
  }
  Baselines b;
  for (unsigned char c : validation) b.unigram -= std::log((count[size_t(vocab.id[c])] + 1) / (double(train.size()) + double(v)));
  b.unigram /= double(validation.size());
  for (size_t i = 0; i + 1 < validation.size(); ++i) {
    const auto a = size_t(vocab.id[uint8_t(validation[i])]), c = size_t(vocab.id[uint8_t(validation[i + 1])]);
    b.bigram -= std::log((pair[a * v + c] + 1) / (count[a] + double(v)));
  }
  b.bigram /= double(validation.size() - 1);
  return b;
}
