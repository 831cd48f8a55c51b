// embed_renderer_net OUT — writes embed_renderer's network as GLSL (OUT/f16/net.glsl with FP16
// weights, OUT/f32/net.glsl with FP32) for the build to compile into the renderer's fragment
// shader. Runs at build time, with no Vulkan device: the export is a pure function of the graph.
#include "field.hpp"

#include "vkgrad/error.hpp"
#include "vkgrad/io/glsl_export.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: embed_renderer_net OUT_DIR\n");
    return 2;
  }
  try {
    const auto graph = field::model();
    const auto state = field::zero_state(graph);
    for (const bool fp16 : {true, false}) {
      const auto dir = std::filesystem::path(argv[1]) / (fp16 ? "f16" : "f32");
      std::filesystem::create_directories(dir);
      std::ofstream out(dir / "net.glsl");
      out << vkgrad::io::export_glsl(graph, state, {.fp16 = fp16}).source;
      if (!out.flush()) throw vkgrad::Error("cannot write " + (dir / "net.glsl").string(), "check the build folder");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "embed_renderer_net: %s\n", e.what());
    return 1;
  }
  return 0;
}
