#include "env.hpp"

#include "vkgrad/error.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace vkgrad::vk {
namespace {

std::string getenv_string(const char* name) {
  const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read at start-up only
  return v ? v : "";
}

}  // namespace

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

void parse_device_env(std::optional<uint32_t>& index, std::string& name) {
  const std::string v = getenv_string("VKGRAD_DEVICE");
  if (v.empty()) return;
  if (std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); }))
    index = static_cast<uint32_t>(std::stoul(v));
  else
    name = v;
}

std::vector<Feature> parse_disable_list(std::string_view list) {
  std::vector<Feature> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view item = list.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) {
      const auto f = feature_from_override_name(item);
      if (!f)
        throw Error("VKGRAD_DISABLE names '" + std::string(item) + "', which is not a feature vkgrad can turn off",
                    "use a comma-separated list of: coopmat, fp16-arith, storage16");
      out.push_back(*f);
    }
    start = end + 1;
  }
  return out;
}

bool tune_env_off() { return getenv_string("VKGRAD_TUNE") == "0"; }

bool validation_env() {
  const std::string v = getenv_string("VKGRAD_VALIDATION");
  return !v.empty() && v != "0";
}

std::vector<Feature> parse_disable_env() { return parse_disable_list(getenv_string("VKGRAD_DISABLE")); }

std::filesystem::path default_cache_dir() {
  if (auto xdg = getenv_string("XDG_CACHE_HOME"); !xdg.empty()) return std::filesystem::path(xdg) / "vkgrad";
  if (auto home = getenv_string("HOME"); !home.empty()) return std::filesystem::path(home) / ".cache" / "vkgrad";
  if (auto local = getenv_string("LOCALAPPDATA"); !local.empty()) return std::filesystem::path(local) / "vkgrad";
  return {};
}

}  // namespace vkgrad::vk
