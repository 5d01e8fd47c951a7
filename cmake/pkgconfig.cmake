# pkgconfig.cmake: tf.pc for the installed tree and tf-uninstalled.pc for this build tree.
#
# The installed tf.pc finds its prefix from its own place, ${pcfiledir}, going up as many
# levels as CMAKE_INSTALL_LIBDIR/pkgconfig has (lib/pkgconfig: 2, Debian's multiarch
# lib/x86_64-linux-gnu/pkgconfig: 3), so it holds under any prefix, also one given only
# at install time (cmake --install --prefix). Absolute install dirs are used as they are.
file(RELATIVE_PATH _tf_pc_up "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
string(REGEX REPLACE "/$" "" _tf_pc_up "${_tf_pc_up}")
set(TF_PC_PREFIX "\${pcfiledir}/${_tf_pc_up}")
foreach(kind LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${kind}}")
    set(TF_PC_${kind} "${CMAKE_INSTALL_${kind}}")
  else()
    set(TF_PC_${kind} "\${prefix}/${CMAKE_INSTALL_${kind}}")
  endif()
endforeach()
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(TF_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")  # nothing to go up from
endif()
# Kept out of the build tree's top so that PKG_CONFIG_PATH=<build> finds the uninstalled one.
configure_file(${CMAKE_SOURCE_DIR}/tf/tf.pc.in ${CMAKE_BINARY_DIR}/pkgconfig-install/tf.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/pkgconfig-install/tf.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# PKG_CONFIG_PATH=<build dir>: builds against this tree's libtf and the source headers.
set(TF_PC_PREFIX "${CMAKE_BINARY_DIR}")
set(TF_PC_LIBDIR "$<TARGET_FILE_DIR:tf_shared>")
set(TF_PC_INCLUDEDIR "${CMAKE_SOURCE_DIR}/tf/include")
configure_file(${CMAKE_SOURCE_DIR}/tf/tf.pc.in ${CMAKE_BINARY_DIR}/tf-uninstalled.pc.gen @ONLY)
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/tf-uninstalled.pc INPUT ${CMAKE_BINARY_DIR}/tf-uninstalled.pc.gen)
