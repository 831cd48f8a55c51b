#include "vkgrad/data/dataset.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/io/npy.hpp"
#include "vkgrad/io/safetensors.hpp"

#include <limits>

namespace vkgrad::data {
namespace {

// Elements per sample of an array whose first dimension counts the samples.
uint32_t per_sample(const std::vector<uint64_t>& shape, const std::string& what) {
  if (shape.empty() || shape[0] == 0)
    throw Error(what + " has shape " + (shape.empty() ? std::string("[] (a scalar)") : std::string("[0, ...]")) +
                    ": no samples",
                "save an array whose first dimension counts the samples");
  uint64_t n = 1;
  for (size_t i = 1; i < shape.size(); ++i) n *= shape[i];
  if (n == 0 || n > std::numeric_limits<uint32_t>::max())
    throw Error(what + " has " + std::to_string(n) + " elements per sample", "save 1 to 2^32 − 1 values per sample");
  return uint32_t(n);
}

// The features, flattened per sample.
void set_x(Dataset& d, const std::vector<uint64_t>& shape, std::vector<float> values, const std::string& what) {
  d.features = per_sample(shape, what);
  d.x = std::move(values);
}

// The targets: floats, or int32 labels where the array's dtype is an integer one.
template <class IntegerSource>
void set_y(Dataset& d, const std::vector<uint64_t>& shape, bool integer, std::vector<float> floats,
           IntegerSource integers, const std::string& what) {
  d.target_width = per_sample(shape, what);
  if (!integer) {
    d.targets = std::move(floats);
    return;
  }
  const std::vector<int64_t> v = integers();
  d.labels.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] < std::numeric_limits<int32_t>::min() || v[i] > std::numeric_limits<int32_t>::max())
      throw Error(what + "[" + std::to_string(i) + "] is " + std::to_string(v[i]) + ", beyond int32",
                  "class indices and token ids must fit int32");
    d.labels.push_back(int32_t(v[i]));
  }
}

bool integer_dtype(io::Dtype t) {
  return t != io::Dtype::F64 && t != io::Dtype::F32 && t != io::Dtype::F16 && t != io::Dtype::BF16;
}

}  // namespace

uint32_t Dataset::count() const {
  if (features == 0 || x.size() % features != 0)
    throw Error("dataset: " + std::to_string(x.size()) + " feature values in rows of " + std::to_string(features),
                "set features to the values per sample and give count × features values");
  const uint64_t n = x.size() / features;
  const uint64_t given = targets.size() + labels.size();
  if (target_width == 0 || (!targets.empty() && !labels.empty()) || given != n * target_width ||
      n > std::numeric_limits<uint32_t>::max())
    throw Error("dataset: " + std::to_string(n) + " samples of features but " + std::to_string(targets.size()) +
                    " float targets and " + std::to_string(labels.size()) + " labels (" + std::to_string(target_width) +
                    " per sample)",
                "give count × target_width targets or labels, not both");
  return uint32_t(n);
}

Dataset Dataset::subset(std::span<const uint32_t> indices) const {
  const uint32_t n = count();
  Dataset out;
  out.features = features;
  out.target_width = target_width;
  out.x.reserve(indices.size() * features);
  for (uint32_t i : indices) {
    if (i >= n)
      throw Error("dataset subset: index " + std::to_string(i) + " of a dataset of " + std::to_string(n) + " samples",
                  "pass indices below count() (split_indices gives them)");
    out.x.insert(out.x.end(), x.begin() + std::ptrdiff_t(size_t(i) * features),
                 x.begin() + std::ptrdiff_t(size_t(i + 1) * features));
    const size_t at = size_t(i) * target_width;
    if (classification())
      out.labels.insert(out.labels.end(), labels.begin() + std::ptrdiff_t(at),
                        labels.begin() + std::ptrdiff_t(at + target_width));
    else
      out.targets.insert(out.targets.end(), targets.begin() + std::ptrdiff_t(at),
                         targets.begin() + std::ptrdiff_t(at + target_width));
  }
  return out;
}

FeatureBatcher Dataset::batches(const ShufflerCreateInfo& info) const {
  (void)count();
  return classification() ? FeatureBatcher(x, features, std::span<const int32_t>(labels), target_width, info)
                          : FeatureBatcher(x, features, std::span<const float>(targets), target_width, info);
}

Dataset load_safetensors_dataset(const std::filesystem::path& path, const std::string& x_name,
                                 const std::string& y_name) {
  const auto file = io::SafetensorsFile::load(path);
  const std::string where = "safetensors file '" + path.string() + "': tensor ";
  Dataset d;
  set_x(d, file.tensor(x_name).shape, file.to_f32(x_name), where + "'" + x_name + "'");
  const auto& y = file.tensor(y_name);
  set_y(d, y.shape, integer_dtype(y.dtype), integer_dtype(y.dtype) ? std::vector<float>{} : file.to_f32(y_name),
        [&] { return file.to_i64(y_name); }, where + "'" + y_name + "'");
  (void)d.count();
  return d;
}

Dataset load_npy_dataset(const std::filesystem::path& x_path, const std::filesystem::path& y_path) {
  const io::NpyArray x = io::load_npy(x_path), y = io::load_npy(y_path);
  Dataset d;
  set_x(d, x.shape, x.to_f32(), ".npy file '" + x_path.string() + "'");
  set_y(d, y.shape, integer_dtype(y.dtype), integer_dtype(y.dtype) ? std::vector<float>{} : y.to_f32(),
        [&] { return y.to_i64(); }, ".npy file '" + y_path.string() + "'");
  if (x.shape[0] != y.shape[0])
    throw Error(".npy files '" + x_path.string() + "' and '" + y_path.string() + "' hold " +
                    std::to_string(x.shape[0]) + " and " + std::to_string(y.shape[0]) + " samples",
                "save the features and targets of the same samples");
  (void)d.count();
  return d;
}

}  // namespace vkgrad::data
