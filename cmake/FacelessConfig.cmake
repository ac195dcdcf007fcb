# CMake package configuration for Faceless.
#
#   find_package(Faceless 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE Faceless::faceless)
#
# Installed as <prefix>/lib/cmake/Faceless/FacelessConfig.cmake; everything is
# found relative to this file, so the installed tree can be moved.
# ONNX Runtime is loaded at run time (ORT_DYLIB_PATH or beside libfaceless);
# it is not a link dependency. Linking Faceless::faceless also sets the run
# path to <prefix>/lib.

get_filename_component(_faceless_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

if(NOT TARGET Faceless::faceless)
  add_library(Faceless::faceless SHARED IMPORTED)
  if(WIN32)
    set_target_properties(Faceless::faceless PROPERTIES
      IMPORTED_LOCATION "${_faceless_prefix}/bin/faceless.dll"
      IMPORTED_IMPLIB "${_faceless_prefix}/lib/faceless.dll.lib")
  elseif(APPLE)
    set_target_properties(Faceless::faceless PROPERTIES
      IMPORTED_LOCATION "${_faceless_prefix}/lib/libfaceless.dylib")
  else()
    set_target_properties(Faceless::faceless PROPERTIES
      IMPORTED_LOCATION "${_faceless_prefix}/lib/libfaceless.so.0"
      IMPORTED_SONAME "libfaceless.so.0")
  endif()
  set_target_properties(Faceless::faceless PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_faceless_prefix}/include")
  if(NOT WIN32 AND NOT CMAKE_VERSION VERSION_LESS 3.13)
    # The run path travels with the link flags (as pkg-config's Libs do), so
    # executables find libfaceless.so.0 without LD_LIBRARY_PATH, also after
    # `cmake --install` of the application (which drops CMake's build RPATH).
    set_target_properties(Faceless::faceless PROPERTIES
      INTERFACE_LINK_OPTIONS "LINKER:-rpath,${_faceless_prefix}/lib")
  endif()
endif()

set(Faceless_INCLUDE_DIRS "${_faceless_prefix}/include")
set(Faceless_LIBRARIES Faceless::faceless)
unset(_faceless_prefix)
