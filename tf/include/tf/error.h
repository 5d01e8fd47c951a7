/* error.h: tf's GError domain and codes (tf/util/error.c: every layer shares it).
 * Every tf function that can fail takes a `GError **`; messages read "where: what: why". */
#ifndef TF_ERROR_H
#define TF_ERROR_H

#include <glib.h>
#include "tf/api.h"

G_BEGIN_DECLS

/* The GError domain of every error tf itself raises. */
#define TF_ERROR (tf_error_quark())
/* Returns the quark of TF_ERROR (static, never freed). */
TF_API GQuark tf_error_quark(void);

/* Error codes within TF_ERROR. */
typedef enum {
    TF_ERROR_FAILED = 1, /* generic failure */
    TF_ERROR_INVALID,    /* bad argument or configuration */
    TF_ERROR_IO,         /* file or process I/O failed */
    TF_ERROR_PARSE,      /* malformed input (JSON, feature file, ...) */
    TF_ERROR_HTTP,       /* transport or HTTP status failure */
    TF_ERROR_TIMEOUT,    /* a wait or request ran out of time */
    TF_ERROR_STOPPED,    /* the runtime stopped while a reader waited */
    TF_ERROR_SOURCE,     /* a source reported a failure (node down, bad answer) */
    TF_ERROR_CORRUPT,    /* stored data failed validation */
} tf_error_code;

G_END_DECLS

#endif
