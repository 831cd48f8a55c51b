#include "reference/embedding.hpp"

namespace vkgrad::reference {

std::vector<double> embedding_forward(std::span<const int32_t> ids, std::span<const double> table, uint32_t dim) {
  std::vector<double> y;
  for (int32_t id : ids)
    for (uint32_t f = 0; f < dim; ++f) y.push_back(table[size_t(id) * dim + f]);
  return y;
}

std::vector<double> embedding_backward(std::span<const int32_t> ids, std::span<const double> dy, uint32_t vocab,
                                       uint32_t dim) {
  std::vector<double> g(size_t(vocab) * dim, 0.0);
  for (size_t p = 0; p < ids.size(); ++p)
    for (uint32_t f = 0; f < dim; ++f) g[size_t(ids[p]) * dim + f] += dy[p * dim + f];
  return g;
}

}  // namespace vkgrad::reference
