# Install tree + exported package: find_package(vkgrad) then link vkgrad::vkgrad;
# find_package(vkgrad COMPONENTS mpi) for vkgrad::mpi too (its own export set, so that projects
# that do not ask for it never need MPI).
include(CMakePackageConfigHelpers)
install(TARGETS vkgrad EXPORT vkgradTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/vkgrad DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT vkgradTargets NAMESPACE vkgrad:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vkgrad)
if(VKGRAD_WITH_MPI)
  install(TARGETS vkgrad_mpi EXPORT vkgradMpiTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(EXPORT vkgradMpiTargets NAMESPACE vkgrad:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vkgrad)
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/vkgradConfig.cmake.in
  ${PROJECT_BINARY_DIR}/vkgradConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vkgrad)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/vkgradConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/vkgradConfig.cmake ${PROJECT_BINARY_DIR}/vkgradConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vkgrad)
