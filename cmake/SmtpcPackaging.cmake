# What another program builds against: the generated smtpc/version.h, the SMTPc::* names inside
# this tree (so add_subdirectory/FetchContent users write the same as find_package users), and,
# with SMTPC_INSTALL, the install rules: libraries, headers, programs, the CMake package
# (SMTPcConfig.cmake + version file, one export set per component) and smtpc.pc for the C API.
#
#   component   target        library file        headers
#   Core        smtpc_core    libsmtpc-core       smtpc/*.h (+ the generated version.h, core_export.h)
#   Tls         smtpc_tls     libsmtpc-tls        smtpc/tls/*.h
#   C           smtpc_c       libsmtpc            smtpc/smtp-c.h        (pkg-config: smtpc)
#   Qt          smtpc_qt      libsmtpc-qt         smtpc/qt/*.h
include(CMakePackageConfigHelpers)

configure_file(${CMAKE_CURRENT_LIST_DIR}/version.h.in ${PROJECT_BINARY_DIR}/core/include/smtpc/version.h @ONLY)
target_include_directories(smtpc_core PUBLIC $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/core/include>)

if(TARGET smtpc_tls)
  set_target_properties(smtpc_tls PROPERTIES OUTPUT_NAME smtpc-tls)  # the table above names it so
endif()
set(_smtpc_components)
foreach(_pair IN ITEMS smtpc_core:Core smtpc_tls:Tls smtpc_c:C smtpc_qt:Qt)
  string(REPLACE ":" ";" _pair "${_pair}")
  list(GET _pair 0 _target)
  list(GET _pair 1 _component)
  if(TARGET ${_target})
    set_target_properties(${_target} PROPERTIES EXPORT_NAME ${_component})
    if(NOT TARGET SMTPc::${_component})
      add_library(SMTPc::${_component} ALIAS ${_target})
    endif()
    list(APPEND _smtpc_components ${_component})
  endif()
endforeach()

if(NOT SMTPC_INSTALL OR EMSCRIPTEN)
  return()
endif()

set(SMTPC_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/SMTPc CACHE STRING "Where SMTPcConfig.cmake is installed")
mark_as_advanced(SMTPC_INSTALL_CMAKEDIR)

function(_smtpc_install_target target component)
  # A shared libsmtpc finds libsmtpc-core beside itself (a program's RUNPATH does not reach a
  # library's own dependencies).
  get_target_property(_type ${target} TYPE)
  if(_type STREQUAL "SHARED_LIBRARY")
    set_target_properties(${target} PROPERTIES INSTALL_RPATH "$ORIGIN")
  endif()
  install(TARGETS ${target} EXPORT SMTPc${component}Targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT Development
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT Runtime NAMELINK_COMPONENT Development
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT Runtime
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT SMTPc${component}Targets NAMESPACE SMTPc:: DESTINATION ${SMTPC_INSTALL_CMAKEDIR}
          COMPONENT Development)
endfunction()

# Core: every header of core/include is public API; the generated ones live in the build folder.
_smtpc_install_target(smtpc_core Core)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/include/smtpc ${PROJECT_BINARY_DIR}/core/include/smtpc
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT Development FILES_MATCHING PATTERN "*.h")

if(TARGET smtpc_tls)
  _smtpc_install_target(smtpc_tls Tls)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/tls/include/smtpc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
          COMPONENT Development FILES_MATCHING PATTERN "*.h")
endif()

if(TARGET smtpc_c)
  _smtpc_install_target(smtpc_c C)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/capi/include/smtpc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
          COMPONENT Development FILES_MATCHING PATTERN "*.h")
  # smtpc.pc. A shared libsmtpc carries core and the TLS engine (and names OpenSSL) itself; a
  # static one needs them all on the C program's link line, with the C++ runtime.
  get_target_property(_type smtpc_c TYPE)
  get_target_property(_core_type smtpc_core TYPE)
  if(_type STREQUAL "SHARED_LIBRARY")
    set(SMTPC_PC_REQUIRES "Requires.private")
    set(SMTPC_PC_LIBS "")
    set(SMTPC_PC_LIBS_PRIVATE " -lsmtpc-tls -lsmtpc-core -lstdc++")
    if(_core_type STREQUAL "SHARED_LIBRARY")
      set(SMTPC_PC_LIBS_PRIVATE "")
    endif()
  else()
    set(SMTPC_PC_REQUIRES "Requires")
    set(SMTPC_PC_LIBS " -lsmtpc-tls -lsmtpc-core -lstdc++ -lm -lpthread")
    set(SMTPC_PC_LIBS_PRIVATE "")
  endif()
  # ${pcfiledir} is <libdir>/pkgconfig: as many ".." as that path has parts.
  string(REGEX MATCHALL "[^/]+" _parts "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
  set(SMTPC_PC_UP "")
  foreach(_part IN LISTS _parts)
    string(APPEND SMTPC_PC_UP "../")
  endforeach()
  string(REGEX REPLACE "/$" "" SMTPC_PC_UP "${SMTPC_PC_UP}")
  if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
    message(FATAL_ERROR "smtpc.pc wants CMAKE_INSTALL_LIBDIR and CMAKE_INSTALL_INCLUDEDIR relative to the prefix")
  endif()
  configure_file(${CMAKE_CURRENT_LIST_DIR}/smtpc.pc.in ${PROJECT_BINARY_DIR}/smtpc.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/smtpc.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT Development)
endif()

if(TARGET smtpc_qt)
  _smtpc_install_target(smtpc_qt Qt)
  # smtpc/qt/secretstore.h belongs to smtpc_keychain, which the programs use and no package offers.
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/qtapp/net/include/smtpc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
          COMPONENT Development FILES_MATCHING PATTERN "*.h" PATTERN "secretstore.h" EXCLUDE)
  if(EXISTS ${PROJECT_BINARY_DIR}/qtapp/net/include/smtpc)
    install(DIRECTORY ${PROJECT_BINARY_DIR}/qtapp/net/include/smtpc DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
            COMPONENT Development FILES_MATCHING PATTERN "*.h" PATTERN "keychain_export.h" EXCLUDE)
  endif()
endif()

# The programs. With shared libraries they find them beside themselves after installation.
foreach(_program IN ITEMS smtpc smtpc-gui smtpc-proxy)
  if(TARGET ${_program})
    set_target_properties(${_program} PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
    install(TARGETS ${_program} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT Runtime)
  endif()
endforeach()
# Libraries only the programs use: installed when shared, so the programs can load them.
foreach(_internal IN ITEMS smtpc_keychain)
  if(TARGET ${_internal})
    get_target_property(_type ${_internal} TYPE)
    if(_type STREQUAL "SHARED_LIBRARY")
      install(TARGETS ${_internal} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT Runtime NAMELINK_SKIP)
    endif()
  endif()
endforeach()

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/SMTPcConfig.cmake.in
  ${PROJECT_BINARY_DIR}/SMTPcConfig.cmake INSTALL_DESTINATION ${SMTPC_INSTALL_CMAKEDIR})
# 0.x: a minor version may break the API, so only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/SMTPcConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/SMTPcConfig.cmake ${PROJECT_BINARY_DIR}/SMTPcConfigVersion.cmake
        DESTINATION ${SMTPC_INSTALL_CMAKEDIR} COMPONENT Development)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE ${PROJECT_SOURCE_DIR}/NOTICE
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT Runtime OPTIONAL)
