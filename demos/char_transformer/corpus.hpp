// char_transformer's text: Debian's fortune cookies as one byte string (or any file), its
// byte vocabulary, the train/validation split, and the n-gram baselines a model must beat.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

// Every plain-text fortune file in `dir` in sorted name order (skipping *.dat and *.u8):
// the entries between lines holding only '%', each with its lines' newlines, empty ones
// dropped, joined by one '\n'. Throws vkgrad::Error when there is none.
std::string load_fortunes(const std::filesystem::path& dir);
std::string load_text(const std::filesystem::path& file);

// The distinct bytes of a text, in byte order, and each byte's token id.
struct Vocabulary {
  std::vector<uint8_t> bytes;
  std::array<int32_t, 256> id{};  // -1 for bytes the text lacks
  explicit Vocabulary(const std::string& text);
  uint32_t size() const { return uint32_t(bytes.size()); }
};

// Mean cross-entropy (nats per byte) on `validation` of models counted on `train` with
// add-one smoothing over the vocabulary: byte frequencies, and byte pairs.
struct Baselines {
  double unigram = 0, bigram = 0;
};
Baselines baselines(const std::string& train, const std::string& validation, const Vocabulary& vocab);
