#include "vk_fixture.hpp"

#include "vkgrad/vk/pipeline.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <utility>

namespace vkgrad::test {

extern const char* const kValidationAllowlist;

namespace {

std::vector<vk::ValidationMessage>& collected() {
  static std::vector<vk::ValidationMessage> messages;
  return messages;
}

// Validation calls back on whichever thread made the Vulkan call: tests that drive contexts
// from several threads collect through this lock.
std::mutex& collected_lock() {
  static std::mutex m;
  return m;
}

// Message ID names allowed as warnings: the first word of each non-comment line.
const std::set<std::string>& allowlist() {
  static const std::set<std::string> ids = [] {
    std::set<std::string> out;
    std::istringstream in(kValidationAllowlist);
    std::string line;
    while (std::getline(in, line)) {
      const auto start = line.find_first_not_of(" \t");
      if (start == std::string::npos || line[start] == '#') continue;
      const auto end = line.find_first_of(" \t", start);
      out.insert(line.substr(start, end - start));
    }
    return out;
  }();
  return ids;
}

std::map<std::vector<vk::Feature>, std::unique_ptr<vk::Context>>& contexts() {
  static std::map<std::vector<vk::Feature>, std::unique_ptr<vk::Context>> cache;
  return cache;
}

}  // namespace

std::string unsupported(const vk::Caps& caps, std::initializer_list<vk::Feature> features) {
  for (vk::Feature f : features)
    if (!caps.supported(f)) return "needs " + std::string(vk::feature_name(f));
  return {};
}

vk::ContextCreateInfo strict_create_info(std::vector<vk::Feature> disable) {
  vk::ContextCreateInfo info;
  info.disable = std::move(disable);
  info.read_env = false;
  info.tune_kernels = false;  // tests force variants or check the rules; tuning has its own test
  info.validation = getenv("NOVAL") == nullptr;
  info.sync_validation = getenv("NOSYNC") == nullptr;
  info.on_message = [](const vk::ValidationMessage& m) {
    if (m.severity < vk::Severity::Warning) return;
    const std::lock_guard lock(collected_lock());
    collected().push_back(m);
  };
  return info;
}

vk::Context& context(std::vector<vk::Feature> disable) {
  std::sort(disable.begin(), disable.end());
  auto& slot = contexts()[disable];
  if (!slot) slot = std::make_unique<vk::Context>(strict_create_info(disable));
  return *slot;
}

std::vector<vk::ValidationMessage> take_validation_messages() {
  const std::lock_guard lock(collected_lock());
  return std::exchange(collected(), {});
}

void expect_no_validation_messages() {
  for (const auto& m : take_validation_messages()) {
    if (m.severity == vk::Severity::Error)
      ADD_FAILURE() << "validation error [" << m.id_name << "]: " << m.text;
    else if (!allowlist().count(m.id_name))
      ADD_FAILURE() << "validation warning [" << m.id_name << "] not in tests/validation-allowlist.txt: " << m.text;
  }
}

void shutdown_contexts(const std::string& program) {
  uint32_t created = 0;
  double ms = 0;
  for (auto& [key, ctx] : contexts()) {
    created += ctx->pipelines().stats().created;
    ms += ctx->pipelines().stats().create_ms;
  }
  contexts().clear();
  expect_no_validation_messages();
  if (const char* path = std::getenv("VKGRAD_PIPELINE_STATS")) {
    std::ofstream out(path, std::ios::app);
    out << program << ' ' << created << ' ' << ms << '\n';
  }
}

namespace {

class ContextEnvironment : public ::testing::Environment {
public:
  explicit ContextEnvironment(std::string program) : program_(std::move(program)) {}
  void TearDown() override { shutdown_contexts(program_); }

private:
  std::string program_;
};

}  // namespace

void add_context_environment(const std::string& program) {
  ::testing::AddGlobalTestEnvironment(new ContextEnvironment(program));  // GoogleTest takes ownership
}

}  // namespace vkgrad::test
