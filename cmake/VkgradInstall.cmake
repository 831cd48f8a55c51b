# Install tree + exported package: find_package(vkgrad) then link vkgrad::vkgrad.
include(CMakePackageConfigHelpers)
set(vkgrad_installed vkgrad)
if(VKGRAD_WITH_MPI)
  list(APPEND vkgrad_installed vkgrad_mpi)
endif()
install(TARGETS ${vkgrad_installed} EXPORT vkgradTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/vkgrad DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT vkgradTargets NAMESPACE vkgrad:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vkgrad)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/vkgradConfig.cmake.in
  ${PROJECT_BINARY_DIR}/vkgradConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vkgrad)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/vkgradConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/vkgradConfig.cmake ${PROJECT_BINARY_DIR}/vkgradConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vkgrad)
