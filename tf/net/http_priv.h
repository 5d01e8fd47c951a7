/* http_priv.h: the structures behind tf_http, shared by http.c (sending) and
 * http_result.c (reading results, wording errors). Internal header: not installed. */
#ifndef TF_NET_HTTP_PRIV_H
#define TF_NET_HTTP_PRIV_H

#include <curl/curl.h>
#include "tf/http.h"
#include "net/idle_pool_priv.h"

/* Responses larger than this fail with "response larger than 64 MiB" instead of
 * exhausting memory on a misbehaving node. */
#define TF_HTTP_MAX_BODY ((gsize)64 * 1024 * 1024)
/* How much of a body an error message quotes. */
#define TF_HTTP_QUOTE_BYTES 200

/* http1.c: tf's own HTTP/1.1 client for plain keep-alive requests (see its top comment). */
typedef struct tf_http1 tf_http1;
typedef struct tf_http1_req tf_http1_req;

struct tf_http {
    CURLM *multi;          /* owns the connection cache kept between batches */
    tf_http1 *h1;          /* tf's own client and its kept connections */
    gboolean curl_only;    /* TF_HTTP_CURL=1: every batch through libcurl */
    tf_idle_pool idle;     /* configured easy handles by request key (http.c) */
    guint64 runs;          /* batch runs so far */
    gint interrupted;      /* atomic: set by tf_http_interrupt, consumed by a run */
    guint64 sent;          /* atomic: requests handed to curl */
    long max_idle;         /* CURLMOPT_MAXCONNECTS: idle connections kept */
};

/* How a request ended, beyond curl's own result code. */
typedef enum {
    TF_HTTP_NOT_RUN = 0,
    TF_HTTP_DONE,          /* curl finished it: see result/status */
    TF_HTTP_INTERRUPTED,   /* tf_http_interrupt cut it short */
    TF_HTTP_TOO_LARGE,     /* the body went over TF_HTTP_MAX_BODY */
} tf_http_outcome;

struct tf_http_req {
    tf_http_batch *batch;
    char *label, *method, *url;
    char *shown_url;       /* url with any user:password@ replaced by ***@ */
    char *body;            /* request body or NULL */
    gsize body_len;
    gint64 timeout_us;
    struct curl_slist *headers;
    char *user, *password; /* basic credentials, NULL when none */

    tf_http1_req *h1;      /* its bytes and transfer in http1.c, NULL until a run asks */
    CURL *easy;            /* borrowed from the client's pool while running */
    char *key;             /* what its easy handle is configured for (holds credentials) */
    GString *resp;         /* response body (may hold NULs; always NUL-terminated) */
    long os_errno;         /* errno of a failed connect, for "connection refused" */
    gboolean fresh;        /* tf_http_req_fresh_connection: no connection reuse */
    gboolean connected;    /* a connection was made (curl's connect time is set) */
    gboolean sent_bytes;   /* curl sent some of the request */
    tf_http_outcome outcome;
    CURLcode result;
    long status;
    gint64 started_us, duration_us;
    char errbuf[CURL_ERROR_SIZE];
};

struct tf_http_batch {
    tf_http *http;
    GPtrArray *reqs;       /* tf_http_req*, owned */
};

/* Whether r sends a body (then Content-Length; an empty POST says 0). */
gboolean tf_http_req_has_body(const tf_http_req *r);
/* Idle easy handles and connections the client keeps (for tests). */
guint tf_http_idle_handles(const tf_http *h);

/* Requests sent by tf's own client rather than libcurl (for tests). */
guint64 tf_http_requests_own(const tf_http *h);

/* A new client of its own with no connections; tf_http1_free closes them. */
tf_http1 *tf_http1_new(void);
void tf_http1_free(tf_http1 *c);
/* Makes a running tf_http1_run look at tf_http's interrupt flag (any thread). */
void tf_http1_wake(tf_http1 *c);
/* Idle connections kept. */
guint tf_http1_idle(const tf_http1 *c);
/* TRUE if this client carries every request of b (it has at least one); builds the
 * requests' bytes on the way. */
gboolean tf_http1_carries(tf_http_batch *b);
/* Runs b (tf_http1_carries said TRUE; every request reset) to its end, a timeout or an
 * interrupt. */
void tf_http1_run(tf_http *h, tf_http_batch *b);
/* The request's method, headers or credentials changed: its bytes are built again. */
void tf_http1_req_changed(tf_http_req *r);
/* Frees a request's part (NULL-safe). */
void tf_http1_req_free(tf_http1_req *x);
/* Replaces the user-info of a URL ("user:pw@") with "***@"; newly allocated. */
char *tf_http_redact_url(const char *url);
/* Printable excerpt of at most `max` bytes of data: bytes outside printable ASCII and
 * backslashes are escaped; "... (N bytes)" is appended when data was longer. */
char *tf_http_quote(const char *data, gsize len, gsize max);

#endif
