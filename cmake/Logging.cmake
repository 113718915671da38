# spdlog for every diagnostic line, compiled into the program: no libspdlog.so
# and no libfmt.so in what `pitool` loads (tests/e2e/net_module_test.cpp).
#
# Debian's spdlog/tweakme.h defines SPDLOG_FMT_EXTERNAL, and both imported
# targets (spdlog::spdlog, spdlog::spdlog_header_only) link the shared
# fmt::fmt. So no spdlog target is linked: without SPDLOG_COMPILED_LIB the
# headers are the whole library, and FMT_HEADER_ONLY makes libfmt-dev's
# headers the whole of fmt. Only src/cli/log.cpp includes them (each file
# that does costs seconds of compile time), behind cli/log.hpp.
find_package(spdlog 1.10 REQUIRED CONFIG)
set_property(SOURCE ${CMAKE_CURRENT_SOURCE_DIR}/src/cli/log.cpp TARGET_DIRECTORY pitool_cli
             APPEND PROPERTY COMPILE_DEFINITIONS FMT_HEADER_ONLY=1)
