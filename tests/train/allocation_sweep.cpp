#include "allocation_sweep.hpp"

#include "numerics.hpp"
#include "vk/dispatch.hpp"
#include "vk/host_memory.hpp"
#include "vk_fixture.hpp"
#include "vkgrad/error.hpp"
#include "vkgrad/io/checkpoint.hpp"
#include "vkgrad/train/trainer.hpp"
#include "vkgrad/vk/context.hpp"

#include <cstdio>
#include <filesystem>
#include <optional>
#include <random>

namespace vkgrad::test {
namespace {

namespace fs = std::filesystem;

// The injected failure: a count of requests and the first to fail (0: none); the real entry points.
uint32_t g_calls = 0, g_fail_at = 0;
PFN_vkAllocateMemory g_allocate = nullptr;
PFN_vkCreateBuffer g_create = nullptr;

bool fails() { return ++g_calls == g_fail_at; }
bool failed() { return g_fail_at != 0 && g_calls >= g_fail_at; }

VKAPI_ATTR VkResult VKAPI_CALL counted_allocation(VkDevice d, const VkMemoryAllocateInfo* info,
                                                  const VkAllocationCallbacks* cb, VkDeviceMemory* out) {
  if (fails() || failed()) return VK_ERROR_OUT_OF_DEVICE_MEMORY;
  return g_allocate(d, info, cb, out);
}

VKAPI_ATTR VkResult VKAPI_CALL counted_buffer(VkDevice d, const VkBufferCreateInfo* info, const VkAllocationCallbacks* cb,
                                              VkBuffer* out) {
  if (fails()) return VK_ERROR_OUT_OF_DEVICE_MEMORY;
  return g_create(d, info, cb, out);
}

bool counted_host_request(uint64_t, std::string_view) { return fails(); }

// Data for every feed of a graph: labels in [0, 2) (every model has at least two classes or
// tokens), values in [0, 1) (the hash grid's coordinates).
struct Data {
  std::vector<std::vector<float>> values;
  std::vector<std::vector<int32_t>> labels;
  train::Batch batch;
};

Data data_for(const graph::Graph& g, uint32_t rows) {
  Data d;
  d.batch.rows = rows;
  const auto feeds = g.feeds();
  d.values.resize(feeds.size());
  d.labels.resize(feeds.size());
  for (size_t i = 0; i < feeds.size(); ++i) {
    const auto& t = g.tensors()[feeds[i]];
    const size_t n = rows * t.elements();
    if (t.role == graph::TensorRole::Labels) {
      for (size_t k = 0; k < n; ++k) d.labels[i].push_back(int32_t(k % 2));
      d.batch.feeds.push_back({{}, d.labels[i]});
    } else {
      for (double v : uniform(n, 0, 1, uint32_t(i + 5))) d.values[i].push_back(float(v));
      d.batch.feeds.push_back({d.values[i], {}});
    }
  }
  return d;
}

std::vector<float> flattened(const train::TrainingState& state) {
  std::vector<float> out;
  for (const auto& [name, tensor] : state.tensors) out.insert(out.end(), tensor.values.begin(), tensor.values.end());
  return out;
}

// The run under test; the second trainer's flattened state when it completes.
std::vector<float> run(const graph::Graph& g, AllocationFault fault, uint32_t fail_at, const fs::path& file) {
  g_calls = 0;
  g_fail_at = fail_at;
  auto info = strict_create_info();
  info.pipeline_cache_on_disk = false;
  if (fault == AllocationFault::Device)
    info.patch_dispatch = [](vk::DispatchTable& t) {
      g_allocate = t.device.vkAllocateMemory;
      g_create = t.device.vkCreateBuffer;
      t.device.vkAllocateMemory = counted_allocation;
      t.device.vkCreateBuffer = counted_buffer;
    };
  else
    vk::set_host_allocation_fault(counted_host_request);
  struct Lift {  // the host hook is the process's: never left behind
    ~Lift() { vk::set_host_allocation_fault(nullptr); }
  } lift;
  const train::TrainerCreateInfo trainer_info{.batch_size = 4, .optimizer = train::OptimizerConfig::adamw(1e-3f)};
  const Data data = data_for(g, 4);
  vk::Context ctx(info);
  std::optional<train::Trainer> first, second;
  try {
    first.emplace(ctx, g, trainer_info);
    for (int i = 0; i < 2; ++i) first->step(data.batch);
    io::save_checkpoint(file, first->save_state());
    second.emplace(ctx, g, trainer_info);
    second->load_state(io::load_checkpoint(file));
    second->step(data.batch);
    return flattened(second->save_state());
  } catch (const Error&) {
    g_fail_at = 0;
    vk::set_host_allocation_fault(nullptr);
    for (auto* t : {&second, &first})
      if (*t) {
        (*t)->step(data.batch);
        EXPECT_FALSE(flattened((*t)->save_state()).empty()) << "the trainer stays usable after the error";
        break;
      }
    throw;
  }
}

}  // namespace

SweepCounts sweep_allocations(const char* name, const graph::Graph& g, AllocationFault fault) {
  const fs::path file = fs::temp_directory_path() / ("vkgrad-alloc-" + std::to_string(std::random_device{}()) + ".safetensors");
  const auto clean = run(g, fault, 0, file);
  const uint32_t sites = g_calls;
  EXPECT_GT(sites, 0u);
  const bool device = fault == AllocationFault::Device;
  SweepCounts counts{.sites = sites};
  for (uint32_t n = 1; n <= sites; ++n) {
    SCOPED_TRACE(std::string(device ? "device" : "host") + " allocation " + std::to_string(n) + " of " +
                 std::to_string(sites) + " fails");
    fs::remove(file);
    try {
      EXPECT_EQ(run(g, fault, n, file), clean) << "a run that recovered must train as the clean one";
      ++counts.recovered;
    } catch (const Error& e) {
      ++counts.errors;
      const std::string what = e.what();
      EXPECT_EQ(e.result(), device ? VK_ERROR_OUT_OF_DEVICE_MEMORY : VK_ERROR_OUT_OF_HOST_MEMORY) << what;
      EXPECT_NE(what.find("smaller"), std::string::npos) << "says what to do: " << what;
      EXPECT_NE(what.find(device ? " bytes for '" : " bytes of host memory for '"), std::string::npos)
          << "names what it allocated: " << what;
    }
    expect_no_validation_messages();
  }
  fs::remove(file);
  std::printf("allocation sweep, %s, %s: %u sites, %u errors, %u recovered\n", name, device ? "device" : "host", sites,
              counts.errors, counts.recovered);
  EXPECT_EQ(counts.errors + counts.recovered, sites);
  return counts;
}

}  // namespace vkgrad::test
