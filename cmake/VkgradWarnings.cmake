# Warnings are errors in the project's own code; third-party headers come in as SYSTEM
# (imported targets' include directories are SYSTEM by default).
function(vkgrad_warnings target)
  if(MSVC)
    target_compile_options(${target} PRIVATE /W4 /WX /permissive-)
  else()
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
      -Wno-sign-conversion -Werror
      # Vulkan structs are initialized as T{sType}: the rest are zero by design.
      -Wno-missing-field-initializers)
  endif()
endfunction()
