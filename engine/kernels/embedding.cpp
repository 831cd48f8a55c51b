#include "vkgrad/kernels/embedding.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/kernels/fixed_point.hpp"
#include "vkgrad/vk/context.hpp"

#include <algorithm>
#include <string>

namespace vkgrad::kernels {
namespace {

constexpr uint32_t kModeForward = 0, kModeScatter = 1, kModeGather = 2;

uint32_t groups_for(uint64_t items) { return uint32_t(std::clamp<uint64_t>((items + 255) / 256, 1, 4096)); }

void check_shape(const char* op, uint32_t positions, uint32_t dim, uint32_t vocab) {
  if (dim == 0 || vocab == 0 || uint64_t(positions) * dim >= 0xFFFFFFFFull || 2 * uint64_t(vocab) * dim >= 0xFFFFFFFFull)
    throw Error(std::string("embedding ") + op + ": " + std::to_string(positions) + " positions of " +
                    std::to_string(dim) + " features from a vocabulary of " + std::to_string(vocab),
                "use dim ≥ 1 and vocab ≥ 1, with positions·dim and 2·vocab·dim below 2^32");
}

}  // namespace

Embedding::Embedding(vk::Context& ctx) : pipelines_(ctx, "embedding", 5, sizeof(EmbeddingArgs)) {}

void Embedding::forward(vk::Recorder& rec, const vk::BufferRange& ids, const TensorRef& table, const TensorRef& y,
                        uint32_t positions, uint32_t dim, uint32_t vocab) const {
  check_shape("forward", positions, dim, vocab);
  if (ids.size < 4ull * positions)
    throw Error("embedding forward: the ids range is too small for " + std::to_string(positions) + " positions",
                "bind positions int32 ids");
  require_elements("embedding forward", "table", table, uint64_t(vocab) * dim);
  require_elements("embedding forward", "y", y, uint64_t(positions) * dim);
  if (positions == 0) return;
  const EmbeddingArgs args{kModeForward, positions, dim, vocab};
  // Writable bindings this mode does not use (3, 4) name y again, declared written.
  const vk::Binding b[] = {{ids, vk::Access::Read},
                           {table.range, vk::Access::Read},
                           {y.range, vk::Access::ReadWrite},
                           {y.range, vk::Access::ReadWrite},
                           {y.range, vk::Access::ReadWrite}};
  rec.dispatch({.pipeline = &pipeline(table.type, y.type), .bindings = b, .push_constants = &args,
                .groups = {groups_for((uint64_t(positions) * dim + 1) / 2), 1, 1}, .label = "embedding.fwd"});
}

void Embedding::backward(vk::Recorder& rec, const vk::BufferRange& ids, const TensorRef& dy,
                         const vk::BufferRange& accum, const vk::BufferRange& grads, uint32_t positions, uint32_t dim,
                         uint32_t vocab) const {
  check_shape("backward", positions, dim, vocab);
  const uint64_t elements = uint64_t(vocab) * dim;
  if (ids.size < 4ull * positions || accum.size < fixed_point_accum_bytes(elements) || grads.size < 4 * elements)
    throw Error("embedding backward: a range is too small for " + std::to_string(positions) + " positions and a " +
                    std::to_string(vocab) + "×" + std::to_string(dim) + " table",
                "bind the ids, an accumulator of fixed_point_accum_bytes(vocab·dim) and the fp32 gradients");
  require_elements("embedding backward", "dy", dy, uint64_t(positions) * dim);
  rec.fill(accum.slice(8 * elements, 4), 0);
  EmbeddingArgs args{kModeScatter, positions, dim, vocab};
  // The table binding is unused (ids stand in); the writable ones (2-4) are declared written.
  const vk::Binding b[] = {{ids, vk::Access::Read},
                           {ids, vk::Access::Read},
                           {dy.range, vk::Access::ReadWrite},
                           {accum, vk::Access::ReadWrite},
                           {grads, vk::Access::ReadWrite}};
  rec.dispatch({.pipeline = &pipeline(ElemType::F32, dy.type), .bindings = b, .push_constants = &args,
                .groups = {groups_for(uint64_t(positions) * dim), 1, 1}, .label = "embedding.scatter"});
  args.mode = kModeGather;
  rec.dispatch({.pipeline = &pipeline(ElemType::F32, dy.type), .bindings = b, .push_constants = &args,
                .groups = {groups_for(elements), 1, 1}, .label = "embedding.gather"});
}

}  // namespace vkgrad::kernels
