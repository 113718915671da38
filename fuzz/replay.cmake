# Corpus replay (docs/robustness.md, "Fuzzing"): every fuzz target is also
# compiled with the ordinary compiler (g++ in the dev and asan presets, with
# their warnings-as-errors and sanitizers) and linked with replay_main.cpp
# instead of libFuzzer. Each runs its fuzz/corpus/<target> once as a ctest
# test labelled `fuzz-replay` (seconds): the seeds stay regression tests, and
# the targets keep compiling outside the clang-only fuzz preset.
# Included from the top-level CMakeLists.txt when tests are built without
# PITOOL_FUZZ (the fuzz preset builds the real fuzzers instead).

function(pitool_fuzz_replay name)
  set(target ${name}_replay)
  add_executable(${target} ${PROJECT_SOURCE_DIR}/fuzz/${name}.cpp ${PROJECT_SOURCE_DIR}/fuzz/replay_main.cpp)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${target} PRIVATE pitool_options pitool_crypto ${ARGN})
  add_test(NAME fuzz_replay.${name} COMMAND ${target} ${PROJECT_SOURCE_DIR}/fuzz/corpus/${name})
  set_tests_properties(fuzz_replay.${name} PROPERTIES LABELS fuzz-replay TIMEOUT 120)
endfunction()

pitool_fuzz_replay(fuzz_vault_parse pitool_vault PkgConfig::SODIUM)
pitool_fuzz_replay(fuzz_payload_decode pitool_vault)
pitool_fuzz_replay(fuzz_records pitool_vault PkgConfig::SODIUM)
pitool_fuzz_replay(fuzz_lc_responses pitool_providers)
pitool_fuzz_replay(fuzz_hint_responses pitool_providers)
pitool_fuzz_replay(fuzz_http_inputs pitool_http pitool_http_curl)
pitool_fuzz_replay(fuzz_sandbox_handle pitool_sandbox_lib)
