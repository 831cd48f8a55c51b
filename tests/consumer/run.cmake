# Script behind install_and_consume and example_regression_installed (see CMakeLists.txt):
# install, configure SOURCE against the prefix, build, run RUN (program and arguments, |-separated).
file(REMOVE_RECURSE ${PREFIX} ${BUILD})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
endfunction()
run(${CMAKE_COMMAND} --install ${VKGRAD_BUILD_DIR} --prefix ${PREFIX})
run(${CMAKE_COMMAND} -S ${SOURCE} -B ${BUILD} -G ${GENERATOR} -DCMAKE_PREFIX_PATH=${PREFIX} "-DCMAKE_CXX_FLAGS=${FLAGS}")
run(${CMAKE_COMMAND} --build ${BUILD})
# The program's own output goes to the test log (validation messages included).
string(REPLACE "|" ";" RUN "${RUN}")
list(POP_FRONT RUN program)
execute_process(COMMAND ${BUILD}/${program} ${RUN} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${program} ${RUN} failed (${rc})")
endif()
