/* api.h: TF_API, the mark on every function libtf exports. libtf is built with hidden
 * visibility: what a public header declares with TF_API is its whole binary interface
 * (as libuv's UV_EXTERN, SQLite's SQLITE_API); everything else stays inside the library. */
#ifndef TF_API_H
#define TF_API_H

/* Exported from libtf.so and from the `tf` command (for the plug-ins it loads). */
#if defined(__GNUC__) && __GNUC__ >= 4
#define TF_API __attribute__((visibility("default")))
#else
#define TF_API
#endif

#endif
