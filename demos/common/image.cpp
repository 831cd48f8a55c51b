#include "image.hpp"

#include "vkgrad/error.hpp"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#include <stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

Image load_square(const std::filesystem::path& path, uint32_t res, uint64_t max_pixels) {
  // Read whole, then decoded from memory: the size check below needs the header first.
  std::ifstream in(path, std::ios::binary);
  if (!in) throw vkgrad::Error("cannot read the picture " + path.string(), "check the path given with --image");
  const std::vector<char> file{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const auto* bytes = reinterpret_cast<const stbi_uc*>(file.data());
  const int length = int(std::min<size_t>(file.size(), size_t(INT32_MAX)));
  int w = 0, h = 0, channels = 0;
  // Refused before decoding: the header may claim any size.
  if (stbi_info_from_memory(bytes, length, &w, &h, &channels) && uint64_t(w) * uint64_t(h) > max_pixels)
    throw vkgrad::Error("the picture " + path.string() + " is " + std::to_string(w) + "×" + std::to_string(h) +
                            ", more than the " + std::to_string(max_pixels) + " pixels the demos read",
                        "scale it down first");
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stbi_load_from_memory(bytes, length, &w, &h, &channels, 3),
                                                   stbi_image_free);
  if (!pixels)
    throw vkgrad::Error("cannot read the picture " + path.string() + ": " + stbi_failure_reason(),
                        "pass a PNG, JPEG or PNM file with --image");
  const uint32_t side = uint32_t(std::min(w, h));
  if (side < res)
    throw vkgrad::Error("the picture " + path.string() + " is " + std::to_string(w) + "×" + std::to_string(h) +
                            ", smaller than --res " + std::to_string(res),
                        "lower --res or use a larger picture");
  const uint32_t x0 = (uint32_t(w) - side) / 2, y0 = (uint32_t(h) - side) / 2;
  Image out{res, res, std::vector<float>(size_t(res) * res * 3, 0.0f)};
  for (uint32_t i = 0; i < res; ++i)
    for (uint32_t j = 0; j < res; ++j) {
      // Source rows [i·side/res, (i+1)·side/res), columns likewise.
      const uint32_t r0 = i * side / res, r1 = (i + 1) * side / res, c0 = j * side / res, c1 = (j + 1) * side / res;
      double sum[3] = {0, 0, 0};
      for (uint32_t r = r0; r < r1; ++r)
        for (uint32_t c = c0; c < c1; ++c)
          for (uint32_t k = 0; k < 3; ++k) sum[k] += pixels.get()[(size_t(y0 + r) * uint32_t(w) + x0 + c) * 3 + k];
      const double n = double(r1 - r0) * double(c1 - c0) * 255.0;
      for (uint32_t k = 0; k < 3; ++k) out.rgb[(size_t(i) * res + j) * 3 + k] = float(sum[k] / n);
    }
  return out;
}

bool write_side_by_side(const std::filesystem::path& png, const std::vector<const Image*>& images) {
  uint32_t width = 0;
  for (const Image* im : images) width += im->width;
  const uint32_t height = images.front()->height;
  std::vector<uint8_t> bytes(size_t(width) * height * 3);
  uint32_t x0 = 0;
  for (const Image* im : images) {
    for (uint32_t i = 0; i < height; ++i)
      for (uint32_t j = 0; j < im->width; ++j)
        for (uint32_t k = 0; k < 3; ++k) {
          const float v = std::clamp(im->rgb[(size_t(i) * im->width + j) * 3 + k], 0.0f, 1.0f);
          bytes[(size_t(i) * width + x0 + j) * 3 + k] = uint8_t(std::lround(v * 255.0f));
        }
    x0 += im->width;
  }
  return stbi_write_png(png.c_str(), int(width), int(height), 3, bytes.data(), int(width * 3)) != 0;
}
