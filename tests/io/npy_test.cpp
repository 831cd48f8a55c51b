// .npy reading: arrays written byte by byte here (format 1.0 and 2.0, every dtype family, a 0-d
// array), arrays numpy.save wrote, and each malformed or unsupported file answered with an
// Error that names the problem.
#include "io_test_util.hpp"
#include "vkgrad/io/npy.hpp"

#include <cstdlib>
#include <cstring>

namespace vkgrad::test {
namespace {

// A .npy file as numpy writes it: magic, version, header length, the dict padded with spaces
// and ended by '\n' so that the data starts at a multiple of 64 bytes.
std::vector<std::byte> npy(const std::string& dict, std::span<const std::byte> data, int major = 1) {
  const size_t preamble = major == 1 ? 10 : 12;
  std::string header = dict;
  while ((preamble + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::vector<std::byte> out = to_bytes("\x93NUMPY");
  out.push_back(std::byte(major));
  out.push_back(std::byte{0});
  for (size_t i = 0; i < preamble - 8; ++i) out.push_back(std::byte((header.size() >> (8 * i)) & 0xff));
  const auto h = to_bytes(header);
  out.insert(out.end(), h.begin(), h.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::string dict(const std::string& descr, const std::string& shape, const char* fortran = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
}

TEST(Npy, ReadsFloatIntegerHalfAndZeroDimensionalArrays) {
  const std::vector<float> f = {1.5f, -2.0f, 0.25f, 3.0f, 4.0f, -0.5f};
  auto a = io::parse_npy(npy(dict("<f4", "(3, 2)"), bytes_of(f)), "f.npy");
  EXPECT_EQ(a.dtype, io::Dtype::F32);
  EXPECT_EQ(a.shape, (std::vector<uint64_t>{3, 2}));
  EXPECT_EQ(a.to_f32(), f);

  const std::vector<int64_t> labels = {0, 9, -3, 7};
  a = io::parse_npy(npy(dict("<i8", "(4,)"), bytes_of(labels), 2), "i.npy");  // format 2.0
  EXPECT_EQ(a.shape, (std::vector<uint64_t>{4}));
  EXPECT_EQ(a.to_i64(), labels);
  EXPECT_EQ(a.to_f32(), (std::vector<float>{0, 9, -3, 7}));
  EXPECT_TRUE(mentions(error_of([&] { (void)io::parse_npy(npy(dict("<f4", "(3, 2)"), bytes_of(f)), "f.npy").to_i64(); }),
                       {"F32", "to_f32"}));

  const std::vector<uint16_t> h = {0x3c00, 0xc000};  // 1.0, -2.0
  EXPECT_EQ(io::parse_npy(npy(dict("<f2", "(2,)"), bytes_of(h)), "h.npy").to_f32(), (std::vector<float>{1.0f, -2.0f}));
  const std::vector<uint8_t> u = {0, 255, 7};
  EXPECT_EQ(io::parse_npy(npy(dict("|u1", "(3,)"), bytes_of(u)), "u.npy").to_i64(), (std::vector<int64_t>{0, 255, 7}));
  const std::vector<double> one = {6.5};
  a = io::parse_npy(npy(dict("<f8", "()"), bytes_of(one)), "s.npy");
  EXPECT_TRUE(a.shape.empty());
  EXPECT_EQ(a.count(), 1u);
  EXPECT_EQ(a.to_f32(), (std::vector<float>{6.5f}));
}

TEST(Npy, RejectsWhatItCannotReadWithTheReason) {
  const std::vector<float> f(6, 1.0f);
  const auto fails = [&](const std::vector<std::byte>& bytes) { return error_of([&] { io::parse_npy(bytes, "a.npy"); }); };
  EXPECT_TRUE(mentions(fails(npy(dict(">f4", "(3, 2)"), bytes_of(f))), {"a.npy", "big-endian", "numpy.save"}));
  EXPECT_TRUE(mentions(fails(npy(dict("<f4", "(3, 2)", "True"), bytes_of(f))), {"Fortran order"}));
  EXPECT_TRUE(mentions(fails(npy(dict("|O", "(3, 2)"), bytes_of(f))), {"'|O'", "astype"}));
  EXPECT_TRUE(mentions(fails(npy(dict("<c8", "(3,)"), bytes_of(f))), {"'<c8'"}));
  EXPECT_TRUE(mentions(fails(npy(dict("<f4", "(4, 2)"), bytes_of(f))), {"8 elements of 4 bytes", "24 bytes follow"}));
  EXPECT_TRUE(mentions(fails(npy(dict("<f4", "(2, 2)"), bytes_of(f))), {"4 elements", "24 bytes follow"}));
  EXPECT_TRUE(mentions(fails(npy(dict("<f4", "(99999999999, 99999999999, 99999999999)"), bytes_of(f))), {"overflow"}));
  EXPECT_TRUE(mentions(fails(npy("{'fortran_order': False, 'shape': (6,), }", bytes_of(f))), {"no 'descr'"}));
  EXPECT_TRUE(mentions(fails(npy(dict("<f4", "[6]"), bytes_of(f))), {"not a tuple"}));
  EXPECT_TRUE(mentions(fails(to_bytes("PK\x03\x04 a zip file")), {"magic"}));
  auto bad_version = npy(dict("<f4", "(6,)"), bytes_of(f));
  bad_version[6] = std::byte{9};
  EXPECT_TRUE(mentions(fails(bad_version), {"version 9.0"}));
  auto long_header = npy(dict("<f4", "(6,)"), bytes_of(f));
  long_header[8] = std::byte{0xff};
  long_header[9] = std::byte{0xff};
  EXPECT_TRUE(mentions(fails(long_header), {"header is 65535 bytes"}));
  TempDir dir;
  EXPECT_TRUE(mentions(error_of([&] { io::load_npy(dir / "missing.npy"); }), {"missing.npy"}));
}

// numpy.save's own files (the toolchain has python3-numpy): every dtype numpy writes by default
// for float and integer data, 2-D and 1-D.
TEST(Npy, ReadsWhatNumpySaves) {
  TempDir dir;
  const std::string script = "import numpy as np\n"
                             "np.save('" + (dir / "x.npy").string() + "', np.arange(12, dtype=np.float64).reshape(4, 3) / 4)\n"
                             "np.save('" + (dir / "y.npy").string() + "', np.array([3, 1, 4, 1]))\n"
                             "np.save('" + (dir / "h.npy").string() + "', np.array([[0.5, -1.0]], dtype=np.float16))\n";
  std::ofstream(dir / "save.py") << script;
  ASSERT_EQ(std::system(("python3 " + (dir / "save.py").string()).c_str()), 0) << "python3 with numpy is needed";
  const auto x = io::load_npy(dir / "x.npy");
  EXPECT_EQ(x.dtype, io::Dtype::F64);
  EXPECT_EQ(x.shape, (std::vector<uint64_t>{4, 3}));
  const auto xs = x.to_f32();
  for (size_t i = 0; i < xs.size(); ++i) EXPECT_EQ(xs[i], float(i) / 4) << i;
  const auto y = io::load_npy(dir / "y.npy");
  EXPECT_EQ(y.dtype, io::Dtype::I64);
  EXPECT_EQ(y.to_i64(), (std::vector<int64_t>{3, 1, 4, 1}));
  EXPECT_EQ(io::load_npy(dir / "h.npy").to_f32(), (std::vector<float>{0.5f, -1.0f}));
}

}  // namespace
}  // namespace vkgrad::test
