// vkgrad-info: every Vulkan device, what it can do, what vkgrad enables, which kernel variants
// it would pick and which it measured fastest. `--json` writes one JSON document to stdout;
// `--tune` measures the GEMM variants on common shape classes first.
#include "vkgrad/error.hpp"
#include "vkgrad/kernels/gemm_tuning.hpp"
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

// Measures GEMM shape classes a training run meets: squares and the Fashion-MNIST MLP's layers,
// in the three layouts a linear layer uses (forward nt, weight gradient tn, input gradient nn).
void tune(vk::Context& ctx) {
  using kernels::ElemType;
  struct Types {
    ElemType ab, c;
  };
  const Types types[] = {{ElemType::F16, ElemType::F16}, {ElemType::F16, ElemType::F32}, {ElemType::F32, ElemType::F32}};
  const uint32_t shapes[][3] = {{256, 256, 256}, {1024, 1024, 1024}, {4096, 4096, 4096}, {128, 512, 784}, {128, 256, 512}};
  for (const auto& t : types)
    for (const auto& s : shapes)
      for (const char* layout : {"nt", "tn", "nn"}) {
        kernels::GemmDesc d;
        d.m = s[0], d.n = s[1], d.k = s[2];
        d.a = {{}, t.ab, 0, 0, layout[0] == 't'};
        d.b = {{}, t.ab, 0, 0, layout[1] == 't'};
        d.c = {{}, t.c, 0, 0, false};
        const auto trials = kernels::tune_gemm(ctx, d);
        const auto best = kernels::pick_gemm_trial(trials);
        std::fprintf(stderr, "  %-34s %s (%zu candidates)\n", kernels::gemm_tuning_key(d).c_str(),
                     best ? kernels::gemm_choice_text(*best).c_str() : "none correct", trials.size());
      }
}

json describe(vk::Context& ctx, uint32_t index) {
  const vk::Caps& c = ctx.caps();
  json features = json::object();
  for (size_t i = 0; i < vk::kFeatureCount; ++i)
    features[std::string(vk::feature_name(vk::Feature(i)))] = {{"supported", c.features[i].supported},
                                                                {"enabled", c.features[i].enabled}};
  json shapes = json::array();
  for (const auto& s : c.coopmat_shapes)
    shapes.push_back({{"m", s.m}, {"n", s.n}, {"k", s.k}, {"a", vk::component_type_name(s.a)},
                      {"b", vk::component_type_name(s.b)}, {"c", vk::component_type_name(s.c)},
                      {"result", vk::component_type_name(s.result)}, {"scope", vk::scope_name(s.scope)}});
  json flexible = json::array();
  for (const auto& s : c.coopmat2_shapes)
    flexible.push_back({{"m_granularity", s.m_granularity}, {"n_granularity", s.n_granularity},
                        {"k_granularity", s.k_granularity}, {"a", vk::component_type_name(s.a)},
                        {"b", vk::component_type_name(s.b)}, {"c", vk::component_type_name(s.c)},
                        {"result", vk::component_type_name(s.result)}, {"scope", vk::scope_name(s.scope)},
                        {"workgroup_invocations", s.workgroup_invocations}});
  json heaps = json::array();
  for (const auto& h : c.heaps)
    heaps.push_back({{"size", h.size}, {"budget", h.budget}, {"usage", h.usage}, {"device_local", h.device_local}});
  const auto coopmat = kernels::select_coopmat(c);
  json variants = {
      {"coopmat", coopmat ? json{{"m", coopmat->shape.m}, {"n", coopmat->shape.n}, {"k", coopmat->shape.k},
                                 {"subgroup_size", coopmat->subgroup_size}}
                          : json(nullptr)}};
  // Measured choices, and the candidates whose correctness probe failed (never used).
  json tuning = {{"enabled", ctx.tuning().enabled()}, {"file", ctx.tuning().file().string()},
                 {"choices", json::object()}, {"excluded", json::array()}};
  for (const auto& [key, value] : ctx.tuning().entries()) {
    if (key.rfind("probe:", 0) == 0)
      tuning["excluded"].push_back(key.substr(6));
    else
      tuning["choices"][key] = value;
  }
  return {{"index", index},
          {"name", c.name},
          {"type", vk::device_type_name(c.type)},
          {"driver", c.driver_name},
          {"driver_info", c.driver_info},
          {"api_version", version_string(c.api_version)},
          {"features", features},
          {"cooperative_matrix_shapes", shapes},
          {"nv_cooperative_matrix2", c.nv_coopmat2},
          {"cooperative_matrix2_flexible_shapes", flexible},
          {"cooperative_matrix2_max_workgroup_size", c.coopmat2_max_workgroup_size},
          {"cooperative_matrix2_max_dimension", c.coopmat2_max_dimension},
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
          {"variants", variants},
          {"workarounds", c.workarounds},
          {"tuning", tuning}};
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
  std::printf("  NV cooperative-matrix-2 flexible shapes (granularity M x N x K: A, B -> C, scope, invocations):\n");
  for (const auto& s : d["cooperative_matrix2_flexible_shapes"])
    std::printf("    %2d x %2d x %2d: %s, %s -> %s, %s, %d\n", s["m_granularity"].get<int>(), s["n_granularity"].get<int>(),
                s["k_granularity"].get<int>(), s["a"].get<std::string>().c_str(), s["b"].get<std::string>().c_str(),
                s["c"].get<std::string>().c_str(), s["scope"].get<std::string>().c_str(),
                s["workgroup_invocations"].get<int>());
  if (d["cooperative_matrix2_flexible_shapes"].empty()) std::printf("    none\n");
  std::printf("  subgroup size %d (range %d..%d), shared memory %d bytes, workgroup invocations %d\n",
              d["subgroup_size"].get<int>(), d["subgroup_size_range"][0].get<int>(),
              d["subgroup_size_range"][1].get<int>(), d["limits"]["max_compute_shared_memory"].get<int>(),
              d["limits"]["max_workgroup_invocations"].get<int>());
  const auto& cm = d["variants"]["coopmat"];
  std::printf("  variants: coopmat GEMM tile %s\n",
              cm.is_null() ? "none" : (std::to_string(cm["m"].get<int>()) + "x" + std::to_string(cm["n"].get<int>()) +
                                       "x" + std::to_string(cm["k"].get<int>()) + " at subgroup " +
                                       std::to_string(cm["subgroup_size"].get<int>()))
                                          .c_str());
  for (const auto& w : d["workarounds"]) std::printf("  workaround: %s\n", w.get<std::string>().c_str());
  const auto& t = d["tuning"];
  std::printf("  measured GEMM choices (%s%s):\n", t["enabled"].get<bool>() ? "" : "tuning off; ",
              t["file"].get<std::string>().empty() ? "not kept on disk" : t["file"].get<std::string>().c_str());
  for (const auto& [key, value] : t["choices"].items())
    std::printf("    %-34s %s\n", key.c_str(), value.get<std::string>().c_str());
  if (t["choices"].empty()) std::printf("    none yet (vkgrad-info --tune, or the first training run, measures them)\n");
  for (const auto& e : t["excluded"]) std::printf("    excluded, wrong results: %s\n", e.get<std::string>().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vkgrad-info: Vulkan devices and what vkgrad does with them"};
  bool as_json = false;
  app.add_flag("--json", as_json, "one JSON document on stdout");
  bool run_tune = false;
  app.add_flag("--tune", run_tune, "measure the GEMM variants on common shape classes and keep the winners");
  CLI11_PARSE(app, argc, argv);
  try {
    json devices = json::array();
    for (const auto& summary : vk::list_devices()) {
      vk::ContextCreateInfo info;
      info.device_index = summary.index;
      vk::Context ctx(info);  // honours VKGRAD_DISABLE, so `enabled` shows what kernels may use
      if (run_tune) {
        std::fprintf(stderr, "tuning GEMMs on %s:\n", ctx.caps().name.c_str());
        tune(ctx);
      }
      devices.push_back(describe(ctx, summary.index));
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
