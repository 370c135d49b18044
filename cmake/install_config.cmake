# Run by `cmake --install` (see install.cmake): writes the unit with the
# paths of this install (the prefix given to cmake --install), and copies the shipped
# configuration into docket_config_dest, file by file, skipping every file
# that is already there so an operator's edits survive a reinstall or an
# upgrade. docketd.toml comes from systemd/ (installed paths), not config/.
function(docket_copy_if_absent from to)
  if(EXISTS "${to}")
    message(STATUS "Kept (already present): ${to}")
    return()
  endif()
  get_filename_component(parent "${to}" DIRECTORY)
  file(MAKE_DIRECTORY "${parent}")
  file(COPY_FILE "${from}" "${to}")
  message(STATUS "Installing: ${to}")
endfunction()

file(GLOB_RECURSE docket_config_files RELATIVE "${docket_config_src}" "${docket_config_src}/*.toml")
list(REMOVE_ITEM docket_config_files "docketd.toml")
list(SORT docket_config_files)
foreach(rel IN LISTS docket_config_files)
  docket_copy_if_absent("${docket_config_src}/${rel}" "${docket_config_dest}/${rel}")
endforeach()
docket_copy_if_absent("${docket_daemon_toml}" "${docket_config_dest}/docketd.toml")

# The unit names the executables and the configuration by absolute path.
file(READ "${docket_unit_src}" docket_unit)
string(REPLACE "/usr/bin/docketd" "${CMAKE_INSTALL_PREFIX}/bin/docketd" docket_unit "${docket_unit}")
string(REPLACE "/etc/docket" "${docket_config_dir}" docket_unit "${docket_unit}")
file(WRITE "${docket_unit_dest}" "${docket_unit}")
message(STATUS "Installing: ${docket_unit_dest}")
