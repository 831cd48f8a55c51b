// Pictures for the demos: loading any PNG/JPEG/PNM (stb_image), the centre square box-averaged
// to the training resolution, and PNG output (stb_image_write). RGB in [0, 1], row-major.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

struct Image {
  uint32_t width = 0, height = 0;
  std::vector<float> rgb;  // width·height·3 values in [0, 1]
};

// The picture's centre square, box-averaged to res × res (each output pixel the mean of the
// source pixels it covers). Throws vkgrad::Error naming the file when it cannot be read or is
// smaller than res, or larger than max_pixels (a few bytes of PNG can claim gigabytes).
Image load_square(const std::filesystem::path& path, uint32_t res, uint64_t max_pixels = uint64_t(1) << 26);

// Images side by side (equal heights) as one PNG; false when the file cannot be written.
bool write_side_by_side(const std::filesystem::path& png, const std::vector<const Image*>& images);
