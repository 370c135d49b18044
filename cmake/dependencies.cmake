# Every dependency is a Debian 12 package (see the Makefile's DEBIAN_PACKAGES).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(tomlplusplus 3 REQUIRED)
find_package(date REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
pkg_check_modules(LIBICAL REQUIRED IMPORTED_TARGET libical)
