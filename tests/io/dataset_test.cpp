// data::Dataset: loaded from safetensors and from .npy files (integer targets become labels,
// float ones regression targets), subsets, batches, and the errors for data that do not agree.
#include "io_test_util.hpp"
#include "vkgrad/data/dataset.hpp"
#include "vkgrad/data/feature_batcher.hpp"
#include "vkgrad/io/safetensors.hpp"

#include <cstdlib>

namespace vkgrad::test {
namespace {

TEST(Dataset, LoadsSafetensorsWithLabelsOrTargets) {
  TempDir dir;
  std::vector<float> x(5 * 2 * 2);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i);
  const std::vector<int64_t> labels = {4, 0, 3, 1, 2};
  const std::vector<uint16_t> targets = {0x3c00, 0x4000, 0x4200, 0x4400, 0x4500};  // 1..5 as F16
  io::save_safetensors(dir / "d.safetensors", std::vector<io::TensorToWrite>{
                                                  {"x", io::Dtype::F32, {5, 2, 2}, bytes_of(x)},
                                                  {"y", io::Dtype::I64, {5}, bytes_of(labels)},
                                                  {"t", io::Dtype::F16, {5, 1}, bytes_of(targets)}});
  const auto d = data::load_safetensors_dataset(dir / "d.safetensors");
  EXPECT_EQ(d.count(), 5u);
  EXPECT_EQ(d.features, 4u);
  EXPECT_TRUE(d.classification());
  EXPECT_EQ(d.labels, (std::vector<int32_t>{4, 0, 3, 1, 2}));
  EXPECT_EQ(d.x, x);
  const auto r = data::load_safetensors_dataset(dir / "d.safetensors", "x", "t");
  EXPECT_FALSE(r.classification());
  EXPECT_EQ(r.targets, (std::vector<float>{1, 2, 3, 4, 5}));

  // A subset keeps rows whole and in the order asked; batches cover every sample once.
  const std::vector<uint32_t> pick = {3, 0};
  const auto s = d.subset(pick);
  EXPECT_EQ(s.labels, (std::vector<int32_t>{1, 4}));
  EXPECT_EQ(s.x, (std::vector<float>{12, 13, 14, 15, 0, 1, 2, 3}));
  auto batches = d.batches({.batch_size = 2, .seed = 1});
  std::vector<float> bx, bt;
  std::vector<int32_t> bl;
  std::vector<int32_t> seen;
  while (const uint32_t rows = batches.next(bx, bt, bl)) {
    EXPECT_EQ(bx.size(), rows * 4u);
    seen.insert(seen.end(), bl.begin(), bl.end());
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<int32_t>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(mentions(error_of([&] { (void)d.subset(std::vector<uint32_t>{5}); }), {"index 5", "5 samples"}));
  EXPECT_TRUE(mentions(error_of([&] { (void)data::load_safetensors_dataset(dir / "d.safetensors", "x", "z"); }),
                       {"'z'"}));
}

TEST(Dataset, RejectsDataThatDoNotAgree) {
  TempDir dir;
  const std::vector<float> x(6, 1.0f);
  const std::vector<int64_t> big = {0, int64_t(1) << 40, 1};
  const std::vector<float> y(4, 0.0f);
  io::save_safetensors(dir / "d.safetensors", std::vector<io::TensorToWrite>{
                                                  {"x", io::Dtype::F32, {3, 2}, bytes_of(x)},
                                                  {"big", io::Dtype::I64, {3}, bytes_of(big)},
                                                  {"short", io::Dtype::F32, {4}, bytes_of(y)},
                                                  {"scalar", io::Dtype::F32, {}, bytes_of(std::vector<float>{1})}});
  EXPECT_TRUE(mentions(error_of([&] { (void)data::load_safetensors_dataset(dir / "d.safetensors", "x", "big"); }),
                       {"'big'[1]", "beyond int32"}));
  EXPECT_TRUE(mentions(error_of([&] { (void)data::load_safetensors_dataset(dir / "d.safetensors", "x", "short"); }),
                       {"3 samples", "4 float targets"}));
  EXPECT_TRUE(mentions(error_of([&] { (void)data::load_safetensors_dataset(dir / "d.safetensors", "scalar", "short"); }),
                       {"'scalar'", "no samples"}));
  data::Dataset d{.x = x, .features = 4};
  d.targets = {1, 2};
  EXPECT_TRUE(mentions(error_of([&] { (void)d.count(); }), {"6 feature values in rows of 4"}));
}

TEST(Dataset, LoadsTwoNpyFilesNumpySaved) {
  TempDir dir;
  const std::string script = "import numpy as np\n"
                             "np.save('" + (dir / "x.npy").string() + "', np.arange(8, dtype=np.float32).reshape(4, 2))\n"
                             "np.save('" + (dir / "y.npy").string() + "', np.array([[0.5], [1.5], [2.5], [3.5]]))\n"
                             "np.save('" + (dir / "labels.npy").string() + "', np.array([1, 0, 1], dtype=np.int32))\n";
  std::ofstream(dir / "save.py") << script;
  ASSERT_EQ(std::system(("python3 " + (dir / "save.py").string()).c_str()), 0) << "python3 with numpy is needed";
  const auto d = data::load_npy_dataset(dir / "x.npy", dir / "y.npy");
  EXPECT_EQ(d.count(), 4u);
  EXPECT_EQ(d.features, 2u);
  EXPECT_FALSE(d.classification());
  EXPECT_EQ(d.targets, (std::vector<float>{0.5f, 1.5f, 2.5f, 3.5f}));
  EXPECT_TRUE(mentions(error_of([&] { (void)data::load_npy_dataset(dir / "x.npy", dir / "labels.npy"); }),
                       {"x.npy", "labels.npy", "4 and 3 samples"}));
}

}  // namespace
}  // namespace vkgrad::test
