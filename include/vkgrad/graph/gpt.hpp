// vkgrad::graph::gpt — a GPT-2-style decoder (pre-LayerNorm blocks, causal self-attention, exact
// GELU MLP, learned positions, untied head) as a Graph, with nanoGPT's parameter names so that a
// checkpoint loads into the PyTorch twin:
//
//   transformer.wte = nn.Embedding(vocab, dim); transformer.wpe = nn.Embedding(context, dim)
//   transformer.h[l]: ln_1 = LayerNorm(dim); attn.c_attn = Linear(dim, 3·dim);
//                     attn.c_proj = Linear(dim, dim); ln_2 = LayerNorm(dim);
//                     mlp.c_fc = Linear(dim, 4·dim); mlp.c_proj = Linear(4·dim, dim)
//   transformer.ln_f = LayerNorm(dim); lm_head = Linear(dim, vocab)
//   x = wte(idx) + wpe(arange(T)); x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)); lm_head(ln_f(x))
//
// Weights N(0, 0.02), the residual projections (c_proj) N(0, 0.02/√(2·layers)), biases 0. Feeds:
// labels "idx" and "targets", [context] each; the loss is cross-entropy over every position.
// A pure function.
#pragma once

#include "vkgrad/graph/graph.hpp"

#include <cstdint>

namespace vkgrad::graph {

struct GptConfig {
  uint32_t vocab = 256;
  uint32_t context = 64;
  uint32_t layers = 2, dim = 128, heads = 4;
  float dropout = 0.0f;  // after the embeddings and each residual branch (nanoGPT's resid_dropout)
  AttentionImpl attention = AttentionImpl::Auto;
};

// Throws Error for a zero size or a dim the heads do not divide.
Graph gpt(const GptConfig& config);

}  // namespace vkgrad::graph
