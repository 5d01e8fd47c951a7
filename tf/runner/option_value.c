/* option_value.c: numeric option values, parsed strictly and range-checked in one place
 * so `tf run` and `tf wire` cannot disagree about what `--step-timeout 1e-300` means. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include "option_value.h"
#include "tf/error.h"

gboolean tf_opt_parse_uint(const char *option, const char *text, guint64 min, guint64 max,
                           guint64 *out, GError **error)
{
    if (!*text || strspn(text, "0123456789") != strlen(text)) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: '%s' is not a whole number",
                    option, text);
        return FALSE;
    }
    guint64 v = 0;
    if (!g_ascii_string_to_unsigned(text, 10, min, max, &v, NULL)) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s: '%s' is out of range (%" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT ")",
                    option, text, min, max);
        return FALSE;
    }
    *out = v;
    return TRUE;
}

/* TRUE when s is [digits][.digits][e[+-]digits] with at least one mantissa digit. */
static gboolean is_decimal(const char *s, gsize n)
{
    gsize i = 0, digits = 0;
    while (i < n && g_ascii_isdigit(s[i]))
        i++, digits++;
    if (i < n && s[i] == '.')
        for (i++; i < n && g_ascii_isdigit(s[i]); i++)
            digits++;
    if (digits == 0)
        return FALSE;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        gsize exp_digits = 0;
        while (i < n && g_ascii_isdigit(s[i]))
            i++, exp_digits++;
        if (exp_digits == 0)
            return FALSE;
    }
    return i == n;
}

gboolean tf_opt_parse_seconds(const char *option, const char *text, gint64 *us,
                              GError **error)
{
    gsize n = strlen(text);
    double scale = 1.0;
    if (n > 2 && g_str_has_suffix(text, "ms")) {
        n -= 2;
        scale = 1e-3;
    } else if (n > 1 && text[n - 1] == 's') {
        n -= 1;
    }
    if (!is_decimal(text, n)) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s: '%s' is not a number of seconds (e.g. 30, 0.5 or 500ms)", option, text);
        return FALSE;
    }
    char *num = g_strndup(text, n);
    errno = 0;
    double v = g_ascii_strtod(num, NULL) * scale;
    int range = errno;
    g_free(num);
    double micros = v * G_USEC_PER_SEC;
    if ((v > 0 || range == ERANGE) && micros < 1) { /* underflow included */
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s: '%s' is below 1 microsecond (0 turns the timeout off)", option, text);
        return FALSE;
    }
    if (range == ERANGE || !isfinite(v) || v > TF_OPT_SECONDS_MAX) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s: '%s' is out of range (0 to %d seconds)", option, text,
                    TF_OPT_SECONDS_MAX);
        return FALSE;
    }
    *us = (gint64)llround(micros);
    return TRUE;
}
