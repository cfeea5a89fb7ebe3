# SMTPC_SANITIZE: AddressSanitizer + UndefinedBehaviorSanitizer for everything in the tree, with
# UB reports made fatal so a test cannot pass past one.
if(SMTPC_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# SMTPC_FUZZ: coverage instrumentation for everything, so the fuzzers see inside core.
if(SMTPC_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SMTPC_FUZZ needs clang (CC=clang CXX=clang++)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
