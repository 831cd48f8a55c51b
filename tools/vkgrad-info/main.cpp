// vkgrad-info: every Vulkan device, what it can do, what vkgrad enables and which kernel
// variants it would pick. `--json` writes one JSON document to stdout.
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/variant.hpp"
#include "vkgrad/vk/context.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

namespace {

using nlohmann::json;
using namespace vkgrad;

std::string version_string(uint32_t v) {
  return std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) + "." +
         std::to_string(VK_API_VERSION_PATCH(v));
}

json describe(const vk::Caps& c, uint32_t index) {
  json features = json::object();
  for (size_t i = 0; i < vk::kFeatureCount; ++i)
    features[std::string(vk::feature_name(vk::Feature(i)))] = {{"supported", c.features[i].supported},
                                                                {"enabled", c.features[i].enabled}};
  json shapes = json::array();
  for (const auto& s : c.coopmat_shapes)
    shapes.push_back({{"m", s.m}, {"n", s.n}, {"k", s.k}, {"a", vk::component_type_name(s.a)},
                      {"b", vk::component_type_name(s.b)}, {"c", vk::component_type_name(s.c)},
                      {"result", vk::component_type_name(s.result)}, {"scope", vk::scope_name(s.scope)}});
  json heaps = json::array();
  for (const auto& h : c.heaps)
    heaps.push_back({{"size", h.size}, {"budget", h.budget}, {"usage", h.usage}, {"device_local", h.device_local}});
  const auto coopmat = kernels::select_coopmat(c);
  json variants = {
      {"storage_mixed", kernels::storage_name(kernels::select_storage(c, kernels::Precision::Mixed))},
      {"coopmat", coopmat ? json{{"m", coopmat->shape.m}, {"n", coopmat->shape.n}, {"k", coopmat->shape.k},
                                 {"subgroup_size", coopmat->subgroup_size}}
                          : json(nullptr)}};
  return {{"index", index},
          {"name", c.name},
          {"type", vk::device_type_name(c.type)},
          {"driver", c.driver_name},
          {"driver_info", c.driver_info},
          {"api_version", version_string(c.api_version)},
          {"features", features},
          {"cooperative_matrix_shapes", shapes},
          {"nv_cooperative_matrix2", c.nv_coopmat2},
          {"subgroup_size", c.subgroup_size},
          {"subgroup_size_range", {c.min_subgroup_size, c.max_subgroup_size}},
          {"float_controls", {{"fp16_rounding_rte", c.fp16_rounding_rte},
                              {"fp16_denorm_preserve", c.fp16_denorm_preserve},
                              {"fp32_denorm_preserve", c.fp32_denorm_preserve}}},
          {"limits", {{"max_compute_shared_memory", c.max_shared_memory},
                      {"max_workgroup_invocations", c.max_workgroup_invocations},
                      {"max_workgroup_size", c.max_workgroup_size},
                      {"max_workgroup_count", c.max_workgroup_count},
                      {"max_push_constants", c.max_push_constants},
                      {"max_storage_buffer_range", c.max_storage_buffer_range},
                      {"timestamp_period_ns", c.timestamp_period_ns},
                      {"timestamp_valid_bits", c.timestamp_valid_bits}}},
          {"memory_heaps", heaps},
          {"variants", variants}};
}

void print_table(const json& d) {
  std::printf("device %d: %s (%s, Vulkan %s, %s %s)\n", d["index"].get<int>(), d["name"].get<std::string>().c_str(),
              d["type"].get<std::string>().c_str(), d["api_version"].get<std::string>().c_str(),
              d["driver"].get<std::string>().c_str(), d["driver_info"].get<std::string>().c_str());
  std::printf("  %-26s %-10s %s\n", "feature", "supported", "enabled");
  for (const auto& [name, state] : d["features"].items())
    std::printf("  %-26s %-10s %s\n", name.c_str(), state["supported"].get<bool>() ? "yes" : "no",
                state["enabled"].get<bool>() ? "yes" : "no");
  std::printf("  cooperative-matrix shapes (M x N x K: A, B -> C/result, scope):\n");
  for (const auto& s : d["cooperative_matrix_shapes"])
    std::printf("    %2d x %2d x %2d: %s, %s -> %s/%s, %s\n", s["m"].get<int>(), s["n"].get<int>(), s["k"].get<int>(),
                s["a"].get<std::string>().c_str(), s["b"].get<std::string>().c_str(),
                s["c"].get<std::string>().c_str(), s["result"].get<std::string>().c_str(),
                s["scope"].get<std::string>().c_str());
  if (d["cooperative_matrix_shapes"].empty()) std::printf("    none\n");
  std::printf("  subgroup size %d (range %d..%d), shared memory %d bytes, workgroup invocations %d\n",
              d["subgroup_size"].get<int>(), d["subgroup_size_range"][0].get<int>(),
              d["subgroup_size_range"][1].get<int>(), d["limits"]["max_compute_shared_memory"].get<int>(),
              d["limits"]["max_workgroup_invocations"].get<int>());
  const auto& cm = d["variants"]["coopmat"];
  std::printf("  variants: fp16 storage %s; coopmat GEMM tile %s\n",
              d["variants"]["storage_mixed"].get<std::string>().c_str(),
              cm.is_null() ? "none" : (std::to_string(cm["m"].get<int>()) + "x" + std::to_string(cm["n"].get<int>()) +
                                       "x" + std::to_string(cm["k"].get<int>()) + " at subgroup " +
                                       std::to_string(cm["subgroup_size"].get<int>()))
                                          .c_str());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vkgrad-info: Vulkan devices and what vkgrad does with them"};
  bool as_json = false;
  app.add_flag("--json", as_json, "one JSON document on stdout");
  CLI11_PARSE(app, argc, argv);
  try {
    json devices = json::array();
    for (const auto& summary : vk::list_devices()) {
      vk::ContextCreateInfo info;
      info.device_index = summary.index;
      info.pipeline_cache_on_disk = false;
      vk::Context ctx(info);  // honours VKGRAD_DISABLE, so `enabled` shows what kernels may use
      devices.push_back(describe(ctx.caps(), summary.index));
    }
    if (as_json) {
      std::cout << json{{"devices", devices}}.dump(2) << '\n';
    } else {
      for (const auto& d : devices) print_table(d);
    }
  } catch (const vkgrad::Error& e) {
    std::fprintf(stderr, "vkgrad-info: %s\n", e.what());
    return 1;
  }
  return 0;
}
