# smtpc_man_page(TARGET NAME_LINE H2M_FILE): TARGET.1 made by help2man from `TARGET --help` and
# `TARGET --version`, with the extra sections of H2M_FILE (FILES, ENVIRONMENT, SEE ALSO, ...), built
# with the program and installed to man1. Skipped, with a message, when help2man is not installed.
# The program runs at build time: its --help needs no display, no network and no accounts file.
include_guard(GLOBAL)
include(GNUInstallDirs)
find_program(SMTPC_HELP2MAN help2man)
if(NOT SMTPC_HELP2MAN)
  message(STATUS "help2man not found: no man pages (Debian: apt-get install help2man)")
endif()

function(smtpc_man_page target name_line h2m_file)
  if(NOT SMTPC_HELP2MAN)
    return()
  endif()
  set(page ${CMAKE_CURRENT_BINARY_DIR}/${target}.1)
  # Run by its bare name from PATH, so that the usage line says "smtpc", not the build folder's path.
  add_custom_command(OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -E env "PATH=$<TARGET_FILE_DIR:${target}>:/usr/bin:/bin" QT_QPA_PLATFORM=offscreen
            ${SMTPC_HELP2MAN} --no-info --no-discard-stderr --name=${name_line} --include=${h2m_file}
            --output=${page} ${target}
    DEPENDS ${target} ${h2m_file}
    COMMENT "Making the man page ${target}.1 (help2man)"
    VERBATIM)
  add_custom_target(${target}-man ALL DEPENDS ${page})
  if(SMTPC_INSTALL)
    install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT Runtime)
  endif()
endfunction()
