#include "vkgrad/graph/gpt.hpp"

#include "vkgrad/error.hpp"

#include <cmath>
#include <string>

namespace vkgrad::graph {

Graph gpt(const GptConfig& c) {
  if (c.vocab == 0 || c.context == 0 || c.layers == 0 || c.dim == 0 || c.heads == 0 || c.dim % c.heads != 0)
    throw Error("gpt: vocab " + std::to_string(c.vocab) + ", context " + std::to_string(c.context) + ", " +
                    std::to_string(c.layers) + " layers of " + std::to_string(c.dim) + " with " +
                    std::to_string(c.heads) + " heads",
                "use sizes ≥ 1 and a dim divisible by the number of heads");
  Graph g;
  const uint32_t t = c.context, d = c.dim;
  const auto idx = g.labels("idx", {t});
  const auto targets = g.labels("targets", {t});
  const Init normal{.kind = InitKind::Normal, .a = 0, .b = 0.02};
  const Init residual{.kind = InitKind::Normal, .a = 0, .b = 0.02 / std::sqrt(2.0 * c.layers)};
  const Init zeros{};
  auto x = g.dropout(g.add(g.embedding(idx, c.vocab, d, "transformer.wte", normal),
                           g.parameter("transformer.wpe.weight", {t, d}, normal)),
                     c.dropout);
  for (uint32_t l = 0; l < c.layers; ++l) {
    const std::string block = "transformer.h." + std::to_string(l);
    x = g.add(x, g.dropout(g.causal_self_attention(g.layer_norm(x, block + ".ln_1"), c.heads, block + ".attn", c.attention),
                           c.dropout));
    const auto h = g.linear(g.layer_norm(x, block + ".ln_2"), 4 * d, block + ".mlp.c_fc", Activation::Gelu);
    x = g.add(x, g.dropout(g.linear(h, d, block + ".mlp.c_proj"), c.dropout));
    for (const std::string layer : {".attn.c_attn", ".attn.c_proj", ".mlp.c_fc", ".mlp.c_proj"}) {
      g.set_init(block + layer + ".weight", layer.ends_with("c_proj") ? residual : normal);
      g.set_init(block + layer + ".bias", zeros);
    }
  }
  const auto logits = g.linear(g.layer_norm(x, "transformer.ln_f"), c.vocab, "lm_head");
  g.set_init("lm_head.weight", normal);
  g.set_init("lm_head.bias", zeros);
  g.cross_entropy(logits, targets);
  return g;
}

}  // namespace vkgrad::graph
