# `cmake --install`: the executables to /usr/bin, the shipped configuration to
# /etc/docket without touching a file an operator already has there, the
# unit to the system unit directory and the account to sysusers.d.
include(GNUInstallDirs)

set(DOCKET_CONFIG_INSTALL_DIR "/etc/docket" CACHE PATH "Where cmake --install puts the configuration")
pkg_get_variable(DOCKET_SYSTEMD_UNIT_DIR systemd systemdsystemunitdir)
if(NOT DOCKET_SYSTEMD_UNIT_DIR)
  set(DOCKET_SYSTEMD_UNIT_DIR "/lib/systemd/system")
endif()
pkg_get_variable(DOCKET_SYSUSERS_DIR systemd sysusersdir)
if(NOT DOCKET_SYSUSERS_DIR)
  set(DOCKET_SYSUSERS_DIR "/usr/lib/sysusers.d")
endif()

install(TARGETS docket docketd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(FILES ${PROJECT_SOURCE_DIR}/systemd/docket.sysusers DESTINATION ${DOCKET_SYSUSERS_DIR} RENAME docket.conf)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The README links to docs/: architecture, protocol, development, performance.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs FILES_MATCHING PATTERN "*.md")

install(CODE "
  set(docket_config_src \"${PROJECT_SOURCE_DIR}/config\")
  set(docket_daemon_toml \"${PROJECT_SOURCE_DIR}/systemd/docketd.toml\")
  set(docket_config_dest \"\$ENV{DESTDIR}${DOCKET_CONFIG_INSTALL_DIR}\")
  set(docket_config_dir \"${DOCKET_CONFIG_INSTALL_DIR}\")
  set(docket_unit_src \"${PROJECT_SOURCE_DIR}/systemd/docketd.service\")
  set(docket_unit_dest \"\$ENV{DESTDIR}${DOCKET_SYSTEMD_UNIT_DIR}/docketd.service\")
  include(\"${PROJECT_SOURCE_DIR}/cmake/install_config.cmake\")
")
