/* option_value.h: the values of numeric options (--retry, --port, --step-timeout, ...),
 * checked one way for every command: the whole text must be a number inside the
 * option's range, or the error names the option, the text and the range. Nothing is
 * clamped or wrapped (a count that does not fit is an error, not 4,294,967,295). */
#ifndef TF_RUNNER_OPTION_VALUE_H
#define TF_RUNNER_OPTION_VALUE_H

#include <glib.h>

/* The longest --step-timeout accepted: one year, in seconds. */
#define TF_OPT_SECONDS_MAX 31536000

/* Parses text (decimal digits only) as a whole number in [min, max] into *out; FALSE +
 * error "OPTION: 'TEXT' is ..." otherwise. option names the option in the error. */
gboolean tf_opt_parse_uint(const char *option, const char *text, guint64 min, guint64 max,
                           guint64 *out, GError **error);
/* Parses a duration: a finite decimal number of seconds (30, 0.5, 1e3) or milliseconds
 * with an "ms" suffix ("s" is allowed too), from 0 to TF_OPT_SECONDS_MAX, into whole
 * microseconds. 0 is 0; a positive value below 1 microsecond (it would read as 0, which
 * turns timeouts off), nan, inf, signs, hex and anything out of range are errors. */
gboolean tf_opt_parse_seconds(const char *option, const char *text, gint64 *us,
                              GError **error);

#endif
