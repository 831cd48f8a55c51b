// Running a demo program from a test: its stdout and stderr to files in a folder, with the
// validation layer on and rule-based kernel choices (measured ones may differ between runs).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace vkgrad::test {

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `program args` with stdout to DIR/TAG.json and stderr to DIR/TAG.err; std::system's status.
inline int run_program(const std::string& program, const std::string& args, const std::filesystem::path& dir,
                       const std::string& tag) {
  const std::string cmd = "VKGRAD_VALIDATION=1 VKGRAD_TUNE=0 " + program + " " + args + " > " +
                          (dir / (tag + ".json")).string() + " 2> " + (dir / (tag + ".err")).string();
  return std::system(cmd.c_str());
}

}  // namespace vkgrad::test
