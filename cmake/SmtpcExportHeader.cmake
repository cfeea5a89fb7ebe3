# smtpc_export_header(target MACRO header output_name): symbol visibility for a library that
# BUILD_SHARED_LIBS may make shared. Only what the public headers mark with MACRO is exported;
# everything else (the internals in src/) stays hidden. MACRO comes from the generated header
# <binary dir>/include/<header> (e.g. smtpc/core_export.h); in a static build (and under
# Emscripten) <target>_STATIC_DEFINE is defined for the target and its users, so MACRO is empty.
# Also sets VERSION/SOVERSION and the file name (libsmtpc-core.so.0).
include(GenerateExportHeader)

function(smtpc_export_header target macro header output_name)
  generate_export_header(${target} BASE_NAME ${target} EXPORT_MACRO_NAME ${macro}
                         EXPORT_FILE_NAME ${CMAKE_CURRENT_BINARY_DIR}/include/${header})
  target_include_directories(${target} PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_BINARY_DIR}/include>)
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "STATIC_LIBRARY")
    string(TOUPPER ${target} upper)
    target_compile_definitions(${target} PUBLIC ${upper}_STATIC_DEFINE)
  endif()
  set_target_properties(${target} PROPERTIES
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR} OUTPUT_NAME ${output_name})
endfunction()
