// CLI11 checks the programs (demos, tools) share. CLI::Range lets NaN through (every comparison
// with it is false), so numeric options that feed training take finite_range instead.
// Stateless; thread-safe.
#pragma once

#include <CLI/CLI.hpp>

#include <cmath>
#include <string>

namespace vkgrad::cli {

// A finite number in [lo, hi]; the message names the bounds and what was given.
inline CLI::Validator finite_range(double lo, double hi) {
  const std::string bounds = "[" + CLI::detail::to_string(lo) + ", " + CLI::detail::to_string(hi) + "]";
  return CLI::Validator(
      [lo, hi, bounds](std::string& text) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(text, v) || !std::isfinite(v) || v < lo || v > hi)
          return "must be a finite number in " + bounds + ", not '" + text + "'";
        return {};
      },
      "FINITE in " + bounds);
}

}  // namespace vkgrad::cli
