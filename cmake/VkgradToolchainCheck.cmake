# Checks, before anything is built, that this machine's toolchain can build vkgrad, and says
# what is missing and how to get it: Vulkan headers >= 1.3.275 and a glslang that compiles
# GL_KHR_cooperative_matrix (Debian 13, Ubuntu 24.04, Fedora 40 and newer have both).
set(vkgrad_toolchain_hint
  "On Debian 13 / Ubuntu 24.04: apt install libvulkan-dev glslang-tools spirv-tools \
libvulkan-memory-allocator-dev libvulkan-volk-dev nlohmann-json3-dev zlib1g-dev. \
On an older system (Debian 12, Ubuntu 22.04): build with tools/dev, which brings its own Debian 13 \
toolchain (README: \"Use vkgrad in your project\").")

find_package(Vulkan QUIET)
if(NOT Vulkan_FOUND)
  message(FATAL_ERROR "vkgrad needs the Vulkan headers and loader (>= 1.3.275); none were found. ${vkgrad_toolchain_hint}")
elseif(Vulkan_VERSION VERSION_LESS 1.3.275)
  message(FATAL_ERROR "vkgrad needs Vulkan headers >= 1.3.275 (VK_KHR_cooperative_matrix); this machine has \
${Vulkan_VERSION} in ${Vulkan_INCLUDE_DIRS}. ${vkgrad_toolchain_hint}")
endif()

find_program(GLSLANG_VALIDATOR glslangValidator)
if(NOT GLSLANG_VALIDATOR)
  message(FATAL_ERROR "vkgrad compiles its shaders with glslangValidator, which was not found. ${vkgrad_toolchain_hint}")
endif()
set(probe ${CMAKE_BINARY_DIR}/CMakeFiles/vkgrad_coopmat_probe.comp)
file(WRITE ${probe} "#version 460
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#pragma use_vulkan_memory_model
layout(local_size_x = 32) in;
void main() { coopmat<float16_t, gl_ScopeSubgroup, 16, 16, gl_MatrixUseA> a; }
")
execute_process(COMMAND ${GLSLANG_VALIDATOR} --target-env vulkan1.3 -o ${probe}.spv ${probe}
  RESULT_VARIABLE probe_rc OUTPUT_QUIET ERROR_QUIET)
if(NOT probe_rc EQUAL 0)
  execute_process(COMMAND ${GLSLANG_VALIDATOR} --version OUTPUT_VARIABLE glslang_version ERROR_QUIET)
  string(REGEX MATCH "Glslang Version: [^\n]*" glslang_version "${glslang_version}")
  message(FATAL_ERROR "vkgrad needs a glslang that compiles GL_KHR_cooperative_matrix (glslang 14 or newer); \
${GLSLANG_VALIDATOR} (${glslang_version}) does not. ${vkgrad_toolchain_hint}")
endif()
