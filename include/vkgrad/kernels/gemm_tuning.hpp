// GEMM choice by measurement: for each shape class (operand and output types, layout, and the
// power-of-two bucket of m, n and k) the eligible variants and presets are timed once on the
// device, each first checked against a float64 host reference on a small probe problem, and
// the fastest correct one is kept in the Context's TuningStore. Used by Gemm::record when the
// Context tunes kernels; the rule (select_gemm) serves otherwise. Functions; they run GPU work
// on the Context and wait, so call them from the Context's thread.
#pragma once

#include "vkgrad/kernels/gemm.hpp"

#include <optional>
#include <string>
#include <vector>

namespace vkgrad::kernels {

// "gemm:f16.f16.f32:nt:m7.n9.k10": the TuningStore key of desc's shape class.
std::string gemm_tuning_key(const GemmDesc& desc);
// "cpu/large" and back; nullopt for text that names no choice.
std::string gemm_choice_text(const GemmChoice& choice);
std::optional<GemmChoice> gemm_choice_from_text(const std::string& text);

// One measured candidate.
struct GemmTrial {
  GemmChoice choice;
  double ms = 0;          // GPU time of one dispatch (best of a few)
  double max_error = 0;   // of the probe, relative to its per-element error bound (≤ 1 passes)
};

// The fastest trial whose probe passed; nullopt if none did. Pure, for testing.
std::optional<GemmChoice> pick_gemm_trial(const std::vector<GemmTrial>& trials);

// Every (variant, preset) that can run desc's operand types on this device, except the
// cooperative-matrix variants on a CPU device (emulated: slow to compile and to run).
std::vector<GemmChoice> gemm_candidates(const vk::Caps& caps, const GemmDesc& desc);

// Measures desc's shape class (on a problem of desc's types and layout, each dimension capped
// at 1024): every variant at its rule's preset, then the fastest one's other presets. Records
// the winner and any candidate that failed its probe ("wrong" under
// "probe:" + key + ":" + choice) in ctx.tuning(), and returns the trials. Throws Error when
// the device has no timestamps.
std::vector<GemmTrial> tune_gemm(vk::Context& ctx, const GemmDesc& desc);

// The cached choice for desc's class, measuring it first when absent.
GemmChoice tuned_gemm_choice(vk::Context& ctx, const GemmDesc& desc);

}  // namespace vkgrad::kernels
