# Every dependency is a Debian 12 package (see the Makefile's DEBIAN_PACKAGES).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(tomlplusplus 3 REQUIRED)
find_package(date REQUIRED)
find_package(Boost 1.81 REQUIRED)  # header-only: Boost.MSM (workflows/*_machine.cc)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
find_package(CURL REQUIRED)  # notifiers/: SMTP and HTTP(S) delivery
pkg_check_modules(LIBICAL REQUIRED IMPORTED_TARGET libical)
pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)  # daemon/: sd_notify, watchdog, journald
find_package(SQLite3 REQUIRED)
find_package(spdlog REQUIRED)
