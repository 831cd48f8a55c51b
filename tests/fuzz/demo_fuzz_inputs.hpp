// How the fuzz targets of the demos' readers turn bytes into calls: a picture through
// demos/common/image (stb_image), and a fortune file and a plain text through char_transformer's
// corpus reader. demo_tests replays the seed corpus and past crashes through the same functions.
// A vkgrad::Error is the expected answer to a bad input; anything else is a finding. Stateless.
#pragma once

#include "corpus.hpp"
#include "fuzz_inputs.hpp"
#include "image.hpp"

#include <cmath>

namespace vkgrad::fuzz {

// A picture of any format stb_image reads, box-averaged to 1 and to 4 pixels a side: the result
// holds res·res RGB values in [0, 1]. Pictures are capped at 2^20 pixels here (the demos take
// 2^26), so that decompression bombs do not slow every run.
inline void image_input(const uint8_t* data, size_t size) {
  const auto path = input_file(data, size, ".img");
  for (uint32_t res : {1u, 4u}) {
    try {
      const Image im = load_square(path, res, uint64_t(1) << 20);
      if (im.rgb.size() != size_t(res) * res * 3) std::abort();
      for (float v : im.rgb)
        if (!(v >= 0.0f && v <= 1.0f)) std::abort();
    } catch (const Error&) {
    }
  }
  std::filesystem::remove(path);
}

// The bytes as one fortune file of a folder, and as a plain text: the vocabulary covers every
// byte of the text, and the baselines are finite where both splits are non-empty.
inline void corpus_input(const uint8_t* data, size_t size) {
  const auto dir = std::filesystem::temp_directory_path() / ("vkgrad-fuzz-" + std::to_string(getpid()) + "-fortunes");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "cookies", std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), std::streamsize(size));
  for (int as_text = 0; as_text < 2; ++as_text) {
    try {
      const std::string text = as_text ? load_text(dir / "cookies") : load_fortunes(dir);
      const Vocabulary vocab(text);
      for (unsigned char c : text)
        if (vocab.id[c] < 0 || vocab.bytes[size_t(vocab.id[c])] != c) std::abort();
      const size_t cut = text.size() * 9 / 10;
      if (cut > 1 && cut + 1 < text.size()) {
        const Baselines b = baselines(text.substr(0, cut), text.substr(cut), vocab);
        if (!std::isfinite(b.unigram) || !std::isfinite(b.bigram)) std::abort();
      }
    } catch (const Error&) {
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace vkgrad::fuzz
