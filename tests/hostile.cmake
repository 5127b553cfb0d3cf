# Hostile input and conformance (included by tests/CMakeLists.txt). Labels:
#   fuzz        the libFuzzer harness (fuzz/kwcc_fuzz.c) built without libFuzzer, over the seed
#               corpus, the fuzz regressions and the bad-input models (under ASan in CI)
#   onnx-node   the ONNX backend node tests (tools/fetch_onnx_node.sh, tests/onnx_node.sh);
#               skipped when the onnx wheel cannot be fetched
#   valgrind    kwcc and generated programs under memcheck (tests/valgrind.sh)
#   asan-gen    the generated C of the kw and nets fixtures built with ASan + UBSan, portable and
#               host vector targets
#   determinism the same model and options give byte-identical C (tests/determinism.sh)
set(KW_SRC ${PROJECT_SOURCE_DIR})

# ---- fuzz: the harness as a plain program over files
add_executable(kwcc_fuzz_replay ${KW_SRC}/fuzz/kwcc_fuzz.c)
target_compile_definitions(kwcc_fuzz_replay PRIVATE KWCC_FUZZ_REPLAY)
target_link_libraries(kwcc_fuzz_replay PRIVATE libkwcc)
add_test(NAME fuzz/replay COMMAND kwcc_fuzz_replay ${KW_SRC}/fuzz/corpus ${KW_SRC}/fuzz/regress
                                  ${CMAKE_CURRENT_SOURCE_DIR}/bad)
set_tests_properties(fuzz/replay PROPERTIES LABELS fuzz TIMEOUT 600)

# ---- onnx-node
add_executable(onnx_pb tools/onnx_pb.c)
target_link_libraries(onnx_pb PRIVATE libkwcc)
add_test(NAME onnx-node
         COMMAND sh -c "dir=$(bash \"$0\") || exit 77; KNOWN=\"$1\" OPS_DEF=\"$2\" exec bash \"$3\" \"$dir\" \"$4\""
                 ${KW_SRC}/tools/fetch_onnx_node.sh ${CMAKE_CURRENT_SOURCE_DIR}/onnx_node_known.txt
                 ${KW_SRC}/compiler/ops.def ${CMAKE_CURRENT_SOURCE_DIR}/onnx_node.sh ${KW_WORK}/onnx_node)
set_tests_properties(onnx-node PROPERTIES LABELS onnx-node SKIP_RETURN_CODE 77 TIMEOUT 900
                     ENVIRONMENT "${KW_TEST_ENV};ONNX_PB=$<TARGET_FILE:onnx_pb>")
# the same tests on the best vector target this machine runs (AVX-512, AVX2 or NEON kernels)
add_test(NAME onnx-node/host
         COMMAND sh -c "dir=$(bash \"$0\") || exit 77; KNOWN=\"$1\" OPS_DEF=\"$2\" exec bash \"$3\" \"$dir\" \"$4\""
                 ${KW_SRC}/tools/fetch_onnx_node.sh ${CMAKE_CURRENT_SOURCE_DIR}/onnx_node_known.txt
                 ${KW_SRC}/compiler/ops.def ${CMAKE_CURRENT_SOURCE_DIR}/onnx_node.sh ${KW_WORK}/onnx_node_host)
set_tests_properties(onnx-node/host PROPERTIES LABELS onnx-node SKIP_RETURN_CODE 77 TIMEOUT 900
                     ENVIRONMENT "${KW_TEST_ENV};ONNX_PB=$<TARGET_FILE:onnx_pb>;TARGET=host;CFLAGS=-O1 -march=native")

# ---- valgrind: kwcc on one model, five generated programs (portable, -O1 -g)
add_test(NAME valgrind
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/valgrind.sh $<TARGET_FILE:kwcc> $<TARGET_FILE:fcmp>
                 ${CMAKE_CURRENT_SOURCE_DIR}/fixtures ${KW_WORK}/valgrind
                 kw/resnet_basic kw/kw1d_net nets/mobilenetv2_tiny_op13 nets/conv1d_net_op13
                 nets/misc_pool_concat_split_op13)
set_tests_properties(valgrind PROPERTIES LABELS valgrind SKIP_RETURN_CODE 77 TIMEOUT 900)

# ---- asan-gen: generated code under AddressSanitizer and UndefinedBehaviorSanitizer, built by
# clang when installed (it builds the sanitized AVX-512 files 5x faster than gcc), else cc
find_program(KW_ASAN_CC NAMES clang cc)
set(KW_ASAN_CFLAGS "-O0 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer")
foreach(suite kw nets)
  file(STRINGS ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/${suite}/cases.txt lines REGEX "^[^#]")
  foreach(line ${lines})
    string(REGEX MATCH "^([^ \t]+)[ \t]+([^ \t]+)" _ "${line}")
    foreach(t generic host)
      set(tn asan-gen/${t}/${suite}/${CMAKE_MATCH_1})
      set(fl "${KW_ASAN_CFLAGS}")
      if(t STREQUAL host)
        set(fl "${fl} -march=native")
      endif()
      add_test(NAME ${tn} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/run_case.sh
               ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/${suite}/${CMAKE_MATCH_1} ${CMAKE_MATCH_2}
               ${KW_WORK}/asan-gen-${t} --target ${t})
      set_tests_properties(${tn} PROPERTIES LABELS asan-gen
                           ENVIRONMENT "${KW_TEST_ENV};CC=${KW_ASAN_CC};CFLAGS=${fl};ASAN_OPTIONS=detect_leaks=1;UBSAN_OPTIONS=print_stacktrace=1")
    endforeach()
  endforeach()
endforeach()

# ---- determinism
add_test(NAME determinism
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/determinism.sh $<TARGET_FILE:kwcc> ${KW_WORK}/determinism
                 ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/kw/resnet_basic/model.onnx
                 ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/kw/mixed_grouped_nsp/model.onnx
                 ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/kw/kw3d_net/model.onnx
                 ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/nets/convnext_tiny_op17/model.onnx
                 ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/nets/mobilenetv2_tiny_op13/model.onnx
                 ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/nets/misc_pool_concat_split_op13/model.onnx)
set_tests_properties(determinism PROPERTIES LABELS determinism TIMEOUT 600)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/kw/cases.txt
             ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/nets/cases.txt)
