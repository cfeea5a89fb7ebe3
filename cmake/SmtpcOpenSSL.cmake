# OpenSSL for core (libcrypto: HMAC-MD5 for CRAM-MD5, OPENSSL_cleanse) and the transports.
# Natively: the system's OpenSSL 3. Under Emscripten: the wasm build made and cached by
# cmake/build-openssl-wasm.sh (pass its prefix as SMTPC_OPENSSL_WASM_DIR, or let this run it).
if(EMSCRIPTEN)
  # Asked at every configure (a cached build answers at once), never remembered in CMakeCache:
  # a prefix kept from an earlier configure would outlive a change of the build's cache key.
  set(_openssl_wasm_dir "${SMTPC_OPENSSL_WASM_DIR}")
  if(NOT _openssl_wasm_dir)
    message(STATUS "Building (or finding the cached) OpenSSL for wasm; the first time takes about 5 minutes")
    execute_process(
      COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/build-openssl-wasm.sh
      OUTPUT_VARIABLE _prefix_out
      RESULT_VARIABLE _prefix_rc)
    if(NOT _prefix_rc EQUAL 0)
      message(FATAL_ERROR "cmake/build-openssl-wasm.sh failed")
    endif()
    string(STRIP "${_prefix_out}" _prefix_out)
    string(REGEX REPLACE ".*\n" "" _prefix_out "${_prefix_out}")
    set(_openssl_wasm_dir "${_prefix_out}")
    message(STATUS "OpenSSL for wasm: ${_openssl_wasm_dir}")
  endif()
  add_library(OpenSSL::Crypto STATIC IMPORTED)
  set_target_properties(OpenSSL::Crypto PROPERTIES
    IMPORTED_LOCATION ${_openssl_wasm_dir}/lib/libcrypto.a
    INTERFACE_INCLUDE_DIRECTORIES ${_openssl_wasm_dir}/include)
  add_library(OpenSSL::SSL STATIC IMPORTED)
  set_target_properties(OpenSSL::SSL PROPERTIES
    IMPORTED_LOCATION ${_openssl_wasm_dir}/lib/libssl.a
    INTERFACE_INCLUDE_DIRECTORIES ${_openssl_wasm_dir}/include
    INTERFACE_LINK_LIBRARIES OpenSSL::Crypto)
else()
  find_package(OpenSSL 3 REQUIRED)
endif()
