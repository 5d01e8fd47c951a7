/* version.h: tf's version, at compile time (macros) and at run time (the library's).
 * The one place the version is written: CMake's project() reads it from here.
 * TF_VERSION is the package's version; TF_ABI_VERSION counts incompatible changes of the
 * binary interface (a function removed or changed, a public struct or vtable changed) and
 * is libtf.so's SONAME number (libtf.so.1). Plug-ins record both (plugin.h): tf refuses
 * one built against another ABI. */
#ifndef TF_VERSION_H
#define TF_VERSION_H

#include "tf/api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The package version: MAJOR.MINOR.PATCH. */
#define TF_VERSION_MAJOR 0
#define TF_VERSION_MINOR 2
#define TF_VERSION_PATCH 0
/* The same as a string ("0.2.0"). */
#define TF_VERSION "0.2.0"
/* The ABI version: bumped with every incompatible change; libtf.so.TF_ABI_VERSION. */
#define TF_ABI_VERSION 1

/* The version of the libtf running ("0.2.0"; static), which may differ from the
 * TF_VERSION a program was compiled with. */
TF_API const char *tf_version(void);
/* The ABI version of the libtf running (TF_ABI_VERSION of its build). */
TF_API int tf_abi_version(void);

#ifdef __cplusplus
}
#endif

#endif
