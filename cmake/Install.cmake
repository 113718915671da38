# `cmake --install build --prefix P` gives a working pitool at any prefix:
#   P/bin/pitool, P/bin/pitool-sandbox      (component "pitool" / "sandbox")
#   P/libexec/pitool/pitool-net.so         found from the binary's own location
#   P/share/doc/pitool/                    LICENSE, README and docs
#   P/share/man/man1/pitool.1              when help2man is installed (cmake/Docs.cmake)
#   P/share/bash-completion/completions/pitool, P/share/zsh/vendor-completions/_pitool,
#   P/share/fish/vendor_completions.d/pitool.fish
include(GNUInstallDirs)

# The installed program finds its module relative to itself
# (/proc/self/exe/../<this>), so a relocated prefix keeps working.
file(RELATIVE_PATH PITOOL_NET_RELATIVE_DIR "/prefix/${CMAKE_INSTALL_BINDIR}" "/prefix/${PITOOL_NET_INSTALL_SUBDIR}")
target_compile_definitions(pitool_cli PRIVATE PITOOL_NET_RELATIVE_DIR="${PITOOL_NET_RELATIVE_DIR}")

install(TARGETS pitool RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT pitool)
install(TARGETS pitool-net LIBRARY DESTINATION ${PITOOL_NET_INSTALL_SUBDIR} COMPONENT pitool)
install(TARGETS pitool-sandbox RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT sandbox)
install(FILES docs/sandbox.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/pitool-sandbox COMPONENT sandbox)
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/pitool-sandbox RENAME copyright COMPONENT sandbox)
install(FILES LICENSE README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT pitool)
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright COMPONENT pitool)
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT pitool
        FILES_MATCHING PATTERN "*.md" PATTERN "schema/*.json")

# Shell completions, printed by the built program from its own command tree.
set(PITOOL_COMPLETION_DIR ${CMAKE_CURRENT_BINARY_DIR}/completions)
set(completion_files ${PITOOL_COMPLETION_DIR}/pitool ${PITOOL_COMPLETION_DIR}/_pitool
                     ${PITOOL_COMPLETION_DIR}/pitool.fish)
add_custom_command(
  OUTPUT ${completion_files}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PITOOL_COMPLETION_DIR}
  COMMAND sh -c "\"$1\" completion bash > \"$2/pitool\" && \"$1\" completion zsh > \"$2/_pitool\" && \"$1\" completion fish > \"$2/pitool.fish\""
          sh $<TARGET_FILE:pitool> ${PITOOL_COMPLETION_DIR}
  DEPENDS pitool
  COMMENT "Generating shell completions from pitool's command tree"
  VERBATIM)
add_custom_target(pitool_completions ALL DEPENDS ${completion_files})
install(FILES ${PITOOL_COMPLETION_DIR}/pitool DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        COMPONENT pitool)
install(FILES ${PITOOL_COMPLETION_DIR}/_pitool DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions
        COMPONENT pitool)
install(FILES ${PITOOL_COMPLETION_DIR}/pitool.fish DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d
        COMPONENT pitool)
