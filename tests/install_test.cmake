# Installs the build into a scratch prefix and checks that the installed dsc finds
# its runtime there: it builds a job, `dsc run` runs one, and both print what they should.
set(prefix ${BUILD_DIR}/install-test)
file(REMOVE_RECURSE ${prefix})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix}
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "cmake --install failed")
endif()
file(WRITE ${prefix}/in.txt "a b a\n")
file(WRITE ${prefix}/job.ds "batches(\"in.txt\").flatMap(l => words(l)).count().print()\n")
execute_process(COMMAND ${prefix}/bin/dsc build job.ds -o job WORKING_DIRECTORY ${prefix}
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(rc)
  message(FATAL_ERROR "installed dsc build failed: ${err}")
endif()
execute_process(COMMAND ${prefix}/job WORKING_DIRECTORY ${prefix} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(rc OR NOT out MATCHES "Time: 1000 ms\n-+\n3\n")
  message(FATAL_ERROR "the installed job printed:\n${out}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E env XDG_CACHE_HOME=${prefix}/cache
                        ${prefix}/bin/dsc run job.ds -- --quiet
                WORKING_DIRECTORY ${prefix} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(rc OR NOT out MATCHES "Time: 1000 ms\n-+\n3\n")
  message(FATAL_ERROR "dsc run printed:\n${out}")
endif()
message(STATUS "installed dsc builds and runs jobs")
