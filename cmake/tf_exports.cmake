# tf_exports.cmake: the linker dynamic list of the `tf` command, generated from the public
# headers: every function they declare with TF_API, which is exactly what libtf.so
# exports (hidden visibility everywhere else). The command exports that API, and nothing
# else, to the plug-ins it loads (`tf run --plugin`).
# cmake -DHEADERS_DIR=tf/include/tf -DOUT=FILE -P tf_exports.cmake
file(GLOB headers ${HEADERS_DIR}/*.h)
list(FILTER headers EXCLUDE REGEX "/api[.]h$")  # defines TF_API, declares nothing
list(SORT headers)
set(names "")
foreach(h ${headers})
  file(READ ${h} text)
  string(REGEX REPLACE "/\\*([^*]|\\*+[^*/])*\\*+/" "" text "${text}")  # comments
  string(REGEX MATCHALL "TF_API[^;(]*[(]" decls "${text}")
  foreach(d ${decls})
    string(REGEX MATCH "([A-Za-z_][A-Za-z0-9_]*)[ \t\n]*[(]$" _ "${d}")
    list(APPEND names ${CMAKE_MATCH_1})
  endforeach()
endforeach()
list(REMOVE_DUPLICATES names)
list(SORT names)
list(LENGTH names n)
if(n EQUAL 0)
  message(FATAL_ERROR "tf_exports.cmake: no TF_API declaration in ${HEADERS_DIR}")
endif()
set(list "/* The tf command's exports: the TF_API functions of tf/include/tf (${n}). */\n{\n")
foreach(name ${names})
  string(APPEND list "  ${name};\n")
endforeach()
string(APPEND list "};\n")
# Rewritten only when it changes, so the command relinks only then.
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT "${old}" STREQUAL "${list}")
  file(WRITE ${OUT} "${list}")
endif()
