# accllm_library(NAME SOURCES ... DEPS ...): a static library of one folder.
function(accllm_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_SOURCES)
    return()  # a folder still being written
  endif()
  add_library(${name} STATIC ${ARG_SOURCES})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# libsentencepiece carries its own copy of protobuf-lite symbols. The tokenizer
# loads it deep-bound at run time (model/tokenizer/sentencepiece_loader.cc); the
# daemons and the CLI also list libprotobuf first among their shared libraries so
# that nothing loaded at start-up can shadow it.
function(accllm_link_protobuf_first target)
  target_link_libraries(${target} PRIVATE protobuf::libprotobuf)
endfunction()

# accllm_test(NAME SOURCES ... DEPS ... [LABELS ...]): one GoogleTest binary,
# each TEST registered with CTest. Tests find ../shared and build/bin through
# paths compiled into accllm_test_support (environment variables override them).
function(accllm_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_SOURCES)
    return()  # a folder with no tests yet
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} accllm_test_support GTest::gmock GTest::gtest_main)
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${ARG_LABELS}")
endfunction()
