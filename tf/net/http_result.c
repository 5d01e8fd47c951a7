/* http_result.c: reading a finished tf_http_req: status, body, JSON, and the wording of
 * its errors ("label: METHOD url: why"). Errors quote at most 200 escaped bytes of a
 * body so binary garbage stays printable, and never show credentials. */
#include <errno.h>
#include <string.h>
#include "net/http_priv.h"
#include "tf/error.h"

/* Finds the "user:password@" part of a URL: [*start, *end) includes the '@'. */
static gboolean url_userinfo(const char *url, gsize *start, gsize *end)
{
    const char *scheme = strstr(url, "://");
    const char *auth = scheme ? scheme + 3 : url;
    gsize auth_len = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < auth + auth_len; p++)
        if (*p == '@')
            at = p; /* the last '@' ends the user-info */
    if (!at)
        return FALSE;
    *start = (gsize)(auth - url);
    *end = (gsize)(at - url) + 1;
    return TRUE;
}

char *tf_http_redact_url(const char *url)
{
    gsize start, end;
    if (!url_userinfo(url, &start, &end))
        return g_strdup(url);
    return g_strdup_printf("%.*s***@%s", (int)start, url, url + end);
}

char *tf_http_quote(const char *data, gsize len, gsize max)
{
    GString *s = g_string_sized_new(MIN(len, max) + 32);
    for (gsize i = 0; i < MIN(len, max); i++) {
        guchar c = (guchar)data[i];
        switch (c) {
        case '\\': g_string_append(s, "\\\\"); break;
        case '\n': g_string_append(s, "\\n"); break;
        case '\r': g_string_append(s, "\\r"); break;
        case '\t': g_string_append(s, "\\t"); break;
        default:
            if (c < 0x20 || c >= 0x7f)
                g_string_append_printf(s, "\\x%02x", c);
            else
                g_string_append_c(s, (char)c);
        }
    }
    if (len > max)
        g_string_append_printf(s, "... (%" G_GSIZE_FORMAT " bytes)", len);
    return g_string_free(s, FALSE);
}

/* Replaces every occurrence of secret in text (owned, replaced) with "***". */
static char *scrub(char *text, const char *secret)
{
    if (!secret || !*secret || !strstr(text, secret))
        return text;
    char **parts = g_strsplit(text, secret, -1);
    char *out = g_strjoinv("***", parts);
    g_strfreev(parts);
    g_free(text);
    return out;
}

/* curl's own words for a transport failure, with any credential scrubbed out. */
static char *transport_why(const tf_http_req *r)
{
    if (r->result == CURLE_COULDNT_CONNECT && r->os_errno == ECONNREFUSED)
        return g_strdup("connection refused");
    char *why;
    if (r->result == CURLE_COULDNT_CONNECT && r->os_errno != 0)
        why = g_strdup_printf("cannot connect: %s", g_strerror((int)r->os_errno));
    else if (r->errbuf[0])
        why = g_strdup(r->errbuf);
    else
        why = g_strdup(curl_easy_strerror(r->result));
    why = scrub(why, r->password);
    gsize start, end;
    if (url_userinfo(r->url, &start, &end)) {
        char *info = g_strndup(r->url + start, end - start - 1); /* "user:pw" */
        char *colon = strchr(info, ':');
        why = scrub(why, info);
        if (colon)
            why = scrub(why, colon + 1);
        g_free(info);
    }
    return why;
}

/* Sets error to "label: METHOD url: <why>" and returns FALSE. */
G_GNUC_PRINTF(4, 5)
static gboolean fail(const tf_http_req *r, GError **error, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, TF_ERROR, code, "%s: %s %s: %s", r->label, r->method, r->shown_url, why);
    g_free(why);
    return FALSE;
}

long tf_http_req_status(const tf_http_req *r) { return r->status; }

const char *tf_http_req_body(const tf_http_req *r, gsize *len)
{
    if (len)
        *len = r->resp->len;
    return r->resp->str;
}

gint64 tf_http_req_duration(const tf_http_req *r) { return r->duration_us; }

gboolean tf_http_req_unsent(const tf_http_req *r)
{
    if (r->outcome == TF_HTTP_NOT_RUN || (r->outcome == TF_HTTP_INTERRUPTED && !r->started_us))
        return TRUE;
    if (r->outcome != TF_HTTP_DONE || !r->fresh || r->connected || r->sent_bytes)
        return FALSE;
    return r->result == CURLE_COULDNT_CONNECT || r->result == CURLE_COULDNT_RESOLVE_HOST ||
           r->result == CURLE_OPERATION_TIMEDOUT;
}

gboolean tf_http_req_ok(const tf_http_req *r, GError **error)
{
    switch (r->outcome) {
    case TF_HTTP_NOT_RUN:
        return fail(r, error, TF_ERROR_INVALID, "not sent (its batch was never run)");
    case TF_HTTP_INTERRUPTED:
        return fail(r, error, TF_ERROR_STOPPED, "interrupted");
    case TF_HTTP_TOO_LARGE:
        return fail(r, error, TF_ERROR_HTTP, "response larger than %" G_GSIZE_FORMAT " MiB",
                    TF_HTTP_MAX_BODY / (1024 * 1024));
    case TF_HTTP_DONE:
        break;
    }
    if (r->result == CURLE_OPERATION_TIMEDOUT)
        return fail(r, error, TF_ERROR_TIMEOUT, "timed out after %" G_GINT64_FORMAT " ms",
                    MAX(1, (r->timeout_us + 999) / 1000));
    if (r->result != CURLE_OK) {
        char *why = transport_why(r);
        fail(r, error, TF_ERROR_HTTP, "%s", why);
        g_free(why);
        return FALSE;
    }
    if (r->status >= 200 && r->status < 300)
        return TRUE;
    if (r->resp->len == 0)
        return fail(r, error, TF_ERROR_HTTP, "HTTP %ld (empty body)", r->status);
    char *quoted = tf_http_quote(r->resp->str, r->resp->len, TF_HTTP_QUOTE_BYTES);
    fail(r, error, TF_ERROR_HTTP, "HTTP %ld: %s", r->status, quoted);
    g_free(quoted);
    return FALSE;
}

json_t *tf_http_req_json(const tf_http_req *r, GError **error)
{
    if (!tf_http_req_ok(r, error))
        return NULL;
    if (r->resp->len == 0) {
        fail(r, error, TF_ERROR_PARSE, "empty body where JSON was expected (HTTP %ld)",
             r->status);
        return NULL;
    }
    json_error_t je;
    json_t *v = json_loadb(r->resp->str, r->resp->len, JSON_DECODE_ANY, &je);
    if (v)
        return v;
    /* jansson's "near '...'" may quote bytes past the first 200: keep only its verdict. */
    char *verdict = g_strdup(je.text);
    char *near = strstr(verdict, " near ");
    if (near)
        *near = '\0';
    char *shown_verdict = tf_http_quote(verdict, strlen(verdict), 80);
    char *quoted = tf_http_quote(r->resp->str, r->resp->len, TF_HTTP_QUOTE_BYTES);
    fail(r, error, TF_ERROR_PARSE, "body is not JSON (%s at byte %d): %s", shown_verdict,
         je.position, quoted);
    g_free(quoted);
    g_free(shown_verdict);
    g_free(verdict);
    return NULL;
}
