# pitool(1), generated at build time by help2man from the built program's
# `--help-all` (every command's help: the same text --help prints) plus
# docs/man/pitool.h2m (ENVIRONMENT, FILES, EXAMPLES), every command's
# examples (`pitool __man-examples`) and an EXIT STATUS section made from
# include/pitool/exit_codes.hpp. Only when help2man is
# installed (scripts/deps.sh installs it); installed to share/man/man1.
find_program(HELP2MAN_EXECUTABLE help2man)
if(NOT HELP2MAN_EXECUTABLE)
  message(STATUS "help2man not found: no manual page")
  return()
endif()

# EXIT STATUS from the one table of exit codes.
file(STRINGS ${CMAKE_CURRENT_SOURCE_DIR}/include/pitool/exit_codes.hpp exit_lines
     REGEX "^ *[a-z_]+ = [0-9]+, *///< ")
set(exit_section "[EXIT STATUS]\n")
foreach(line IN LISTS exit_lines)
  string(REGEX REPLACE "^ *[a-z_]+ = ([0-9]+), *///< (.*)$" ".TP\n.B \\1\n\\2\n" item "${line}")
  string(APPEND exit_section "${item}")
endforeach()
file(READ ${CMAKE_CURRENT_SOURCE_DIR}/docs/man/pitool.h2m man_include)
file(CONFIGURE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/man/pitool.h2m CONTENT "${man_include}\n${exit_section}" @ONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${CMAKE_CURRENT_SOURCE_DIR}/docs/man/pitool.h2m ${CMAKE_CURRENT_SOURCE_DIR}/include/pitool/exit_codes.hpp)

# Every command's --help examples (CommandSpec examples, the one source),
# appended to EXAMPLES: CLI11's --help-all prints no subcommand footers.
set(PITOOL_MAN_EXAMPLES ${CMAKE_CURRENT_BINARY_DIR}/man/examples.h2m)
add_custom_command(
  OUTPUT ${PITOOL_MAN_EXAMPLES}
  COMMAND $<TARGET_FILE:pitool> --no-config __man-examples > ${PITOOL_MAN_EXAMPLES}
  DEPENDS pitool
  COMMENT "Collecting every command's examples for pitool(1)")

set(PITOOL_MAN_PAGE ${CMAKE_CURRENT_BINARY_DIR}/man/pitool.1)
add_custom_command(
  OUTPUT ${PITOOL_MAN_PAGE}
  COMMAND ${HELP2MAN_EXECUTABLE} --no-info --no-discard-stderr --help-option=--help-all --version-option=--version
          --section=1 --source=pitool --manual="User Commands" --include=${CMAKE_CURRENT_BINARY_DIR}/man/pitool.h2m
          --include=${PITOOL_MAN_EXAMPLES} --output=${PITOOL_MAN_PAGE} $<TARGET_FILE:pitool>
  DEPENDS pitool ${CMAKE_CURRENT_BINARY_DIR}/man/pitool.h2m ${PITOOL_MAN_EXAMPLES}
  COMMENT "Generating pitool(1) from pitool --help-all and every command's examples")
add_custom_target(pitool_man ALL DEPENDS ${PITOOL_MAN_PAGE})
install(FILES ${PITOOL_MAN_PAGE} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT pitool)
