// IDX: arrays and datasets made here (plain and gzip, through zlib), every kind of damaged
// file, and the real Fashion-MNIST files where the dataset-fashion-mnist package is installed.
#include "io_test_util.hpp"
#include "paths.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/io/idx.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <numeric>

namespace vkgrad::test {
namespace {

using io::IdxArray;

const std::filesystem::path kFashionMnist = build_path("VKGRAD_FASHION_MNIST", "/usr/share/datasets/fashion-mnist");

std::vector<std::byte> make_idx(std::vector<uint32_t> dims, std::vector<uint8_t> data, uint8_t type = 0x08) {
  std::vector<std::byte> out = {std::byte{0}, std::byte{0}, std::byte{type}, std::byte(dims.size())};
  for (const uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(std::byte((d >> shift) & 0xff));
  for (const uint8_t v : data) out.push_back(std::byte{v});
  return out;
}

std::vector<uint8_t> iota_bytes(size_t n) {
  std::vector<uint8_t> v(n);
  std::iota(v.begin(), v.end(), uint8_t{0});
  return v;
}

std::vector<std::byte> gzip(std::span<const std::byte> in) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<std::byte> out(deflateBound(&zs, uLong(in.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  zs.avail_in = uInt(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = uInt(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string parse_error(const std::vector<std::byte>& bytes) {
  return error_of([&] { io::parse_idx(bytes, "bad-idx1-ubyte"); });
}
std::string decode_error(const std::vector<std::byte>& bytes) {
  return error_of([&] { io::decode_idx(bytes, "bad-idx1-ubyte.gz"); });
}

TEST(Idx, ParsesEveryRank) {
  for (const std::vector<uint32_t>& dims :
       std::vector<std::vector<uint32_t>>{{7}, {2, 3}, {2, 3, 4}, {1, 2, 3, 2}}) {
    const size_t n = std::accumulate(dims.begin(), dims.end(), size_t{1}, std::multiplies<>());
    const IdxArray a = io::parse_idx(make_idx(dims, iota_bytes(n)), "a");
    EXPECT_EQ(a.type_code, 0x08);
    EXPECT_EQ(a.dims, dims);
    EXPECT_EQ(a.data, iota_bytes(n));
  }
}

TEST(Idx, LoadsPlainAndGzipFiles) {
  TempDir dir;
  const std::vector<std::byte> plain = make_idx({3, 2, 2}, iota_bytes(12));
  write_bytes(dir / "plain-idx3-ubyte", plain);
  write_bytes(dir / "packed-idx3-ubyte.gz", gzip(plain));
  // gzip appends members when files are concatenated; zcat reads them as one.
  std::vector<std::byte> two_members = gzip(std::span(plain).first(7));
  const std::vector<std::byte> rest = gzip(std::span(plain).subspan(7));
  two_members.insert(two_members.end(), rest.begin(), rest.end());
  write_bytes(dir / "two-idx3-ubyte.gz", two_members);
  for (const char* name : {"plain-idx3-ubyte", "packed-idx3-ubyte.gz", "two-idx3-ubyte.gz"}) {
    SCOPED_TRACE(name);
    const IdxArray a = io::load_idx(dir / name);
    EXPECT_EQ(a.dims, (std::vector<uint32_t>{3, 2, 2}));
    EXPECT_EQ(a.data, iota_bytes(12));
  }
  // Large enough that inflating takes many chunks.
  const std::vector<std::byte> big = make_idx({1000, 28, 28}, std::vector<uint8_t>(784000, 7));
  EXPECT_EQ(io::decode_idx(gzip(big), "big").data, std::vector<uint8_t>(784000, 7));
}

TEST(Idx, RejectsBadHeaders) {
  std::vector<std::byte> magic = make_idx({2}, {1, 2});
  magic[0] = std::byte{0x1e};
  EXPECT_TRUE(mentions(parse_error(magic), {"bad-idx1-ubyte", "magic number starts 0x1e 0x00, not 00 00"}));
  EXPECT_TRUE(mentions(parse_error(make_idx({2}, {0, 0, 0, 0, 0, 0, 0, 0}, 0x0D)),
                       {"bad-idx1-ubyte", "type 0x0d (float)", "unsigned bytes (0x08)"}));
  EXPECT_TRUE(mentions(parse_error(make_idx({2}, {1, 2}, 0x07)), {"type code 0x07 is not an IDX type"}));
  EXPECT_TRUE(mentions(parse_error(make_idx({}, {})), {"it has 0 dimensions; vkgrad reads 1 to 4"}));
  EXPECT_TRUE(mentions(parse_error(make_idx({1, 1, 1, 1, 1}, {1})), {"it has 5 dimensions"}));
  EXPECT_TRUE(mentions(parse_error(make_idx({2, 0, 3}, {})), {"dimension 1 is 0"}));
  EXPECT_TRUE(mentions(parse_error({std::byte{0}, std::byte{0}, std::byte{8}}), {"3 bytes, too few for its header"}));
  std::vector<std::byte> short_dims = make_idx({2, 2}, {1, 2, 3, 4});
  short_dims.resize(9);  // cut inside the second dimension
  EXPECT_TRUE(mentions(parse_error(short_dims), {"9 bytes, too few for its header", "truncated"}));
  // 4 × 2^32 × 2^32 × 2^32 elements do not fit in 64 bits.
  EXPECT_TRUE(mentions(parse_error(make_idx({4, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {})), {"more than 2^64"}));
}

TEST(Idx, RejectsTruncatedAndTrailingData) {
  EXPECT_TRUE(mentions(parse_error(make_idx({2, 3}, iota_bytes(5))),
                       {"bad-idx1-ubyte", "declares 2 × 3 = 6 bytes of data, it holds 5 (truncated)"}));
  EXPECT_TRUE(mentions(parse_error(make_idx({2, 3}, iota_bytes(7))), {"it holds 7 (trailing data)"}));
  EXPECT_TRUE(mentions(parse_error(make_idx({60000, 28, 28}, iota_bytes(100))), {"60000 × 28 × 28 = 47040000"}));
}

TEST(Idx, RejectsBadGzip) {
  const std::vector<std::byte> packed = gzip(make_idx({100, 10}, iota_bytes(1000)));
  ASSERT_EQ(io::decode_idx(packed, "ok").data.size(), 1000u);

  const std::vector<std::byte> truncated(packed.begin(), packed.begin() + std::ptrdiff_t(packed.size() / 2));
  EXPECT_TRUE(mentions(decode_error(truncated), {"bad-idx1-ubyte.gz", "the gzip stream is truncated"}));
  const std::vector<std::byte> no_trailer(packed.begin(), packed.end() - 4);  // the size field is missing
  EXPECT_TRUE(mentions(decode_error(no_trailer), {"the gzip stream is truncated"}));
  EXPECT_TRUE(mentions(decode_error({std::byte{0x1f}, std::byte{0x8b}}), {"the gzip stream is truncated"}));

  std::vector<std::byte> corrupt = packed;
  corrupt[packed.size() - 6] ^= std::byte{0x40};  // the CRC-32 of the data
  EXPECT_TRUE(mentions(decode_error(corrupt), {"bad-idx1-ubyte.gz", "corrupt gzip data (incorrect data check)"}));
  std::vector<std::byte> bad_method = packed;
  bad_method[2] = std::byte{7};  // compression method: only 8 (deflate) exists
  EXPECT_TRUE(mentions(decode_error(bad_method), {"corrupt gzip data"}));

  std::vector<std::byte> garbage = packed;
  garbage.push_back(std::byte{0});
  EXPECT_TRUE(mentions(decode_error(garbage), {"1 bytes follow the end of the gzip stream"}));
}

TEST(Idx, GzipStopsAtTheDeclaredSize) {
  // 12 header bytes and 2 × 3 declared, 1 MiB inside: rejected as trailing data without inflating it all.
  const std::vector<std::byte> packed = gzip(make_idx({2, 3}, std::vector<uint8_t>(1 << 20, 9)));
  EXPECT_TRUE(mentions(decode_error(packed), {"decompresses to more than the 18 bytes its header declares"}));
  // Header errors show as soon as the header is inflated.
  EXPECT_TRUE(mentions(decode_error(gzip(make_idx({2}, {1, 2}, 0x0C))), {"bad-idx1-ubyte.gz", "(int)"}));
}

TEST(Idx, LoadNamesTheMissingPath) {
  TempDir dir;
  EXPECT_TRUE(mentions(error_of([&] { io::load_idx(dir / "train-images-idx3-ubyte.gz"); }),
                       {"IDX file", "train-images-idx3-ubyte.gz", "does not exist"}));
}

// --- datasets ---------------------------------------------------------------------------------

struct DatasetFiles {
  TempDir dir;
  std::filesystem::path images = dir / "images-idx3-ubyte.gz", labels = dir / "labels-idx1-ubyte";
};

void write_dataset(const DatasetFiles& f, std::vector<std::byte> images, std::vector<std::byte> labels) {
  write_bytes(f.images, gzip(images));
  write_bytes(f.labels, labels);
}

std::string dataset_error(const DatasetFiles& f, uint32_t num_classes = 10) {
  return error_of([&] { io::load_idx_dataset(f.images, f.labels, num_classes); });
}

TEST(IdxDataset, PairsImagesWithLabels) {
  DatasetFiles f;
  write_dataset(f, make_idx({3, 2, 4}, iota_bytes(24)), make_idx({3}, {9, 0, 4}));
  const io::Dataset set = io::load_idx_dataset(f.images, f.labels);
  EXPECT_EQ(set.count, 3u);
  EXPECT_EQ(set.rows, 2u);
  EXPECT_EQ(set.cols, 4u);
  EXPECT_EQ(set.images, iota_bytes(24));
  EXPECT_EQ(set.labels, (std::vector<uint8_t>{9, 0, 4}));
}

TEST(IdxDataset, RejectsMismatches) {
  DatasetFiles f;
  write_dataset(f, make_idx({3, 2, 4}, iota_bytes(24)), make_idx({2}, {1, 2}));
  EXPECT_TRUE(mentions(dataset_error(f), {"images-idx3-ubyte.gz", "labels-idx1-ubyte", "3 images but 2 labels"}));

  write_dataset(f, make_idx({3, 2, 4}, iota_bytes(24)), make_idx({3}, {1, 10, 2}));
  EXPECT_TRUE(mentions(dataset_error(f), {"images-idx3-ubyte.gz", "labels-idx1-ubyte",
                                          "label 10 of image 1 is not below num_classes = 10"}));
  EXPECT_EQ(dataset_error(f, 11), "(no error)");

  write_dataset(f, make_idx({3, 8}, iota_bytes(24)), make_idx({3}, {1, 2, 3}));
  EXPECT_TRUE(
      mentions(dataset_error(f), {"labels-idx1-ubyte", "the images are 3 × 8 (2-D), not count × rows × cols"}));

  write_dataset(f, make_idx({3, 2, 4}, iota_bytes(24)), make_idx({3, 1}, {1, 2, 3}));
  EXPECT_TRUE(mentions(dataset_error(f), {"images-idx3-ubyte.gz", "the labels are 3 × 1 (2-D)"}));

  EXPECT_TRUE(mentions(dataset_error(f, 0), {"num_classes is 0, not 1 to 256"}));
  EXPECT_TRUE(mentions(dataset_error(f, 257), {"num_classes is 257"}));
}

TEST(IdxDataset, ErrorsInOneFileNameThatFile) {
  DatasetFiles f;
  write_dataset(f, make_idx({3, 2, 4}, iota_bytes(23)), make_idx({3}, {1, 2, 3}));
  EXPECT_TRUE(mentions(dataset_error(f), {"images-idx3-ubyte.gz", "(truncated)"}));
}

TEST(IdxDataset, RealFashionMnist) {
  // The toolchain tools/dev builds has the package; a host toolchain must install it too.
  ASSERT_TRUE(std::filesystem::exists(kFashionMnist / "train-images-idx3-ubyte.gz"))
      << "the dataset-fashion-mnist package is not installed (" << kFashionMnist << ")";
  const struct {
    const char* images;
    const char* labels;
    uint32_t count;
  } sets[] = {{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 60000},
              {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10000}};
  for (const auto& s : sets) {
    SCOPED_TRACE(s.images);
    const io::Dataset set = io::load_idx_dataset(kFashionMnist / s.images, kFashionMnist / s.labels);
    EXPECT_EQ(set.count, s.count);
    EXPECT_EQ(set.rows, 28u);
    EXPECT_EQ(set.cols, 28u);
    EXPECT_EQ(set.images.size(), size_t(s.count) * 28 * 28);
    ASSERT_EQ(set.labels.size(), s.count);
    EXPECT_LT(*std::max_element(set.labels.begin(), set.labels.end()), 10);
    // Ten balanced classes: 6000 / 1000 of each.
    std::vector<uint32_t> per_class(10);
    for (const uint8_t l : set.labels) ++per_class[l];
    EXPECT_EQ(per_class, std::vector<uint32_t>(10, s.count / 10));
    EXPECT_GT(*std::max_element(set.images.begin(), set.images.end()), 200);  // not all black
  }
}

}  // namespace
}  // namespace vkgrad::test
