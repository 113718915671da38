# Debian packages through CPack, from an existing build tree:
#   cd build/release && cpack -G DEB      (or: cmake --build build/release --target package)
# gives pitool_<version>_<arch>.deb (the program, its network module, docs,
# man page, completions) and pitool-sandbox_<version>_<arch>.deb (the local
# imitation of both APIs, for users' own CI). Dependencies on Debian's
# runtime libraries come from dpkg-shlibdeps (libsodium23, libcurl4,
# libssl3, libstdc++6, libc6, ...). scripts/test-deb.sh installs and
# removes them.
set(CPACK_PACKAGE_NAME pitool)
set(CPACK_PACKAGE_VENDOR "The pitool authors")
set(CPACK_PACKAGE_CONTACT "The pitool authors <pitool@localhost>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "LeadConnector and Hint credentials in an encrypted vault")
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_CURRENT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_OUTPUT_FILE_PREFIX ${CMAKE_CURRENT_BINARY_DIR}/packages)

set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL pitool sandbox)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PITOOL_PACKAGE_NAME pitool)
set(CPACK_DEBIAN_PITOOL_DESCRIPTION
    "LeadConnector and Hint credentials in an encrypted vault\n pitool keeps Private Integration Tokens, OAuth tokens and Hint keys in a\n libsodium-encrypted vault, knows their rotation windows and proves they work.")
set(CPACK_DEBIAN_SANDBOX_PACKAGE_NAME pitool-sandbox)
set(CPACK_DEBIAN_SANDBOX_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_SANDBOX_DESCRIPTION
    "local imitation of the LeadConnector and Hint APIs\n pitool-sandbox serves both providers' APIs on 127.0.0.1 for tests and demos.")
# pitool runs for the user with no daemon of its own: no maintainer scripts.
include(CPack)
