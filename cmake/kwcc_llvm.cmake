# kwcc_llvm.cmake -- the optional LLVM/Clang codegen target (codegen/llvm.c), included by
# codegen/CMakeLists.txt after kw_codegen is defined.
#
#   kwcc MODEL.onnx -o model.o --target-triple TRIPLE   an optimised object through clang
#   kwcc run MODEL.onnx --jit llvm                       clang bitcode run by LLVM's ORC JIT
#
# Needs llvm-config (llvm-config-14 first), the clang of the same LLVM (its bitcode must be
# readable by that libLLVM), the LLVM-C headers (llvm-14-dev) and the shared libLLVM. kwcc does
# not link libLLVM: llvm.c dlopen()s it the first time `--jit llvm` is used, so kwcc starts as
# fast as before and runs without libLLVM for everything else. KWCC_HAVE_LLVM (cache, internal)
# tells tests/CMakeLists.txt whether the option is in force.
set(KWCC_HAVE_LLVM OFF CACHE INTERNAL "")
set(KW_LLVM_WHY "")
if(KWCC_WITH_LLVM)
  find_program(KW_LLVM_CONFIG NAMES llvm-config-14 llvm-config-15 llvm-config-16 llvm-config)
  if(KW_LLVM_CONFIG)
    execute_process(COMMAND ${KW_LLVM_CONFIG} --version OUTPUT_VARIABLE KW_LLVM_VERSION OUTPUT_STRIP_TRAILING_WHITESPACE)
    execute_process(COMMAND ${KW_LLVM_CONFIG} --bindir OUTPUT_VARIABLE kw_llvm_bindir OUTPUT_STRIP_TRAILING_WHITESPACE)
    execute_process(COMMAND ${KW_LLVM_CONFIG} --libdir OUTPUT_VARIABLE kw_llvm_libdir OUTPUT_STRIP_TRAILING_WHITESPACE)
    execute_process(COMMAND ${KW_LLVM_CONFIG} --includedir OUTPUT_VARIABLE kw_llvm_incdir OUTPUT_STRIP_TRAILING_WHITESPACE)
    string(REGEX MATCH "^[0-9]+" kw_llvm_major "${KW_LLVM_VERSION}")
    find_program(KW_CLANG NAMES clang PATHS ${kw_llvm_bindir} NO_DEFAULT_PATH)
    find_program(KW_LLVM_OBJDUMP NAMES llvm-objdump PATHS ${kw_llvm_bindir} NO_DEFAULT_PATH)
    find_program(KW_LLVM_NM NAMES llvm-nm PATHS ${kw_llvm_bindir} NO_DEFAULT_PATH)
    find_path(KW_LLVM_C_INCLUDE llvm-c/LLJIT.h PATHS ${kw_llvm_incdir} NO_DEFAULT_PATH)
    find_library(KW_LIBLLVM NAMES LLVM-${kw_llvm_major} LLVM PATHS ${kw_llvm_libdir} NO_DEFAULT_PATH)
    if(kw_llvm_major LESS 12)
      set(KW_LLVM_WHY "LLVM ${KW_LLVM_VERSION} is older than 12 (the ORC LLJIT C API)")
    elseif(NOT KW_CLANG)
      set(KW_LLVM_WHY "no clang in ${kw_llvm_bindir} (install clang-${kw_llvm_major})")
    elseif(NOT KW_LLVM_C_INCLUDE)
      set(KW_LLVM_WHY "no llvm-c/LLJIT.h in ${kw_llvm_incdir} (install llvm-${kw_llvm_major}-dev)")
    elseif(NOT KW_LIBLLVM)
      set(KW_LLVM_WHY "no shared libLLVM in ${kw_llvm_libdir}")
    else()
      set(KWCC_HAVE_LLVM ON CACHE INTERNAL "")
    endif()
  else()
    set(KW_LLVM_WHY "llvm-config not found (install llvm-14-dev and clang-14)")
  endif()
else()
  set(KW_LLVM_WHY "KWCC_WITH_LLVM is off")
endif()
set(KW_LLVM_WHY "${KW_LLVM_WHY}" CACHE INTERNAL "")

target_sources(kw_codegen PRIVATE llvm.c)
if(KWCC_HAVE_LLVM)
  # the soname, so that the same file is found at run time as at build time
  file(REAL_PATH ${KW_LIBLLVM} kw_libllvm_real)
  get_filename_component(kw_libllvm_dir ${kw_libllvm_real} DIRECTORY)
  set(kw_libllvm_so ${kw_llvm_libdir}/libLLVM-${kw_llvm_major}.so.1)
  if(NOT EXISTS ${kw_libllvm_so})
    set(kw_libllvm_so ${kw_libllvm_real})
  endif()
  # Cortex-M objects: newlib's headers when installed (libnewlib-arm-none-eabi), else kwcc's
  # own minimal string.h and math.h (codegen/llvm.c)
  set(kw_arm_sysroot "")
  foreach(d /usr/lib/arm-none-eabi /usr/arm-none-eabi)
    if(NOT kw_arm_sysroot AND EXISTS ${d}/include/string.h AND EXISTS ${d}/include/math.h)
      set(kw_arm_sysroot ${d})
    endif()
  endforeach()
  set_source_files_properties(llvm.c PROPERTIES
    INCLUDE_DIRECTORIES "${KW_LLVM_C_INCLUDE}"
    COMPILE_DEFINITIONS "KWCC_HAVE_LLVM=1;KWCC_CLANG=\"${KW_CLANG}\";KWCC_LIBLLVM=\"${kw_libllvm_so}\";KWCC_LLVM_VERSION=\"${KW_LLVM_VERSION}\";KWCC_ARM_SYSROOT=\"${kw_arm_sysroot}\"")
  target_link_libraries(kw_codegen PUBLIC ${CMAKE_DL_LIBS})
  message(STATUS "LLVM ${KW_LLVM_VERSION}: ${KW_CLANG}, ${kw_libllvm_so} (dlopened by --jit llvm): "
                 "kwcc --target-triple and kwcc run --jit llvm enabled")
  if(kw_arm_sysroot)
    message(STATUS "Cortex-M objects use the newlib headers of ${kw_arm_sysroot}")
  else()
    message(STATUS "newlib for arm-none-eabi not found: Cortex-M objects use kwcc's own string.h and math.h")
  endif()
else()
  message(STATUS "LLVM codegen off (${KW_LLVM_WHY}): --target-triple and --jit llvm are unavailable, their tests are skipped")
endif()
