# One interface target carries the project's warning flags (after spdlog's
# spdlog_enable_warnings); every docket target links it privately.
add_library(docket_warnings INTERFACE)
add_library(docket::warnings ALIAS docket_warnings)
target_compile_options(docket_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Woverloaded-virtual -Wconversion -Wsign-conversion
  -Wimplicit-fallthrough
  $<$<BOOL:${DOCKET_WERROR}>:-Werror>)
# GCC 12 reports false -Wrestrict positives inside libstdc++ for ordinary
# std::string concatenation at -O2/-O3 (GCC bug 105329).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(docket_warnings INTERFACE -Wno-restrict)
endif()
