/* http.h: HTTP for observers, over one libcurl multi handle.
 * A batch sends many requests at once (one per source, say) and returns when all are
 * done or timed out; connections are kept in the client between batches. */
#ifndef TF_HTTP_H
#define TF_HTTP_H

#include <glib.h>
#include <jansson.h>
#include "tf/api.h"

G_BEGIN_DECLS

/* An HTTP client: a curl multi handle and its connection cache. One thread at a time;
 * tf_http_interrupt may be called from any thread. */
typedef struct tf_http tf_http;

/* Creates a client (owned by the caller). */
TF_API tf_http *tf_http_new(void);
/* Frees the client and closes its connections. NULL is a no-op. */
TF_API void tf_http_free(tf_http *http);
/* Makes a running tf_http_batch_run return early (every unfinished request fails with
 * TF_ERROR_STOPPED "interrupted"); thread-safe. tf_runtime_stop does this to the
 * runtime's client, so in poll such a failure means "tf is stopping", not "node down". */
TF_API void tf_http_interrupt(tf_http *http);
/* Number of requests this client has sent (for benchmarks). */
TF_API guint64 tf_http_requests_sent(const tf_http *http);

/* A set of requests sent together. Owned by the caller: tf_http_batch_free. */
typedef struct tf_http_batch tf_http_batch;
/* One request within a batch (owned by its batch). */
typedef struct tf_http_req tf_http_req;

/* Creates an empty batch on http (borrowed; must outlive the batch). */
TF_API tf_http_batch *tf_http_batch_new(tf_http *http);
/* Adds a request. method "GET"/"POST"; body may be NULL (copied); timeout_us > 0.
 * `label` names the request in errors (e.g. the source name; copied). */
TF_API tf_http_req *tf_http_batch_add(tf_http_batch *b, const char *label, const char *method,
                                      const char *url, const char *body, gint64 timeout_us);
/* Adds a POST of a JSON value (borrowed) with Content-Type application/json. */
TF_API tf_http_req *tf_http_batch_add_json(tf_http_batch *b, const char *label, const char *url,
                                           json_t *body, gint64 timeout_us);
/* Adds a request header "Name: value" (copied). */
TF_API void tf_http_req_header(tf_http_req *r, const char *header);
/* Sets HTTP basic credentials (copied; never printed in errors or logs). */
TF_API void tf_http_req_basic_auth(tf_http_req *r, const char *user, const char *password);
/* Sends r on a new connection that is closed after it. Kept-alive connections are
 * cheaper, but on one of them curl resends a request whose connection turned out to be
 * dead, so a failure to connect no longer proves the request never left: a client that
 * must know (tf_http_req_unsent) asks for a fresh connection. */
TF_API void tf_http_req_fresh_connection(tf_http_req *r);
/* Sends every request of the batch concurrently and returns when all finished. */
TF_API void tf_http_batch_run(tf_http_batch *b);
/* Number of requests in the batch and the i-th one (borrowed). */
TF_API guint tf_http_batch_len(const tf_http_batch *b);
TF_API tf_http_req *tf_http_batch_req(const tf_http_batch *b, guint i);
/* Frees the batch and its requests. NULL is a no-op. */
TF_API void tf_http_batch_free(tf_http_batch *b);

/* HTTP status of a finished request (0 when the transport failed). */
TF_API long tf_http_req_status(const tf_http_req *r);
/* Response body (borrowed, NUL-terminated) and its length; "" when none. */
TF_API const char *tf_http_req_body(const tf_http_req *r, gsize *len);
/* TRUE when the transport succeeded and the status is 2xx; otherwise FALSE + error
 * "label: METHOD url: why" (connection refused, timed out after N ms, HTTP 500: body...). */
TF_API gboolean tf_http_req_ok(const tf_http_req *r, GError **error);
/* Parses the body as JSON (new ref). NULL + TF_ERROR_PARSE quoting the first 200 bytes
 * of a garbage body, or the transport/status error of tf_http_req_ok. */
TF_API json_t *tf_http_req_json(const tf_http_req *r, GError **error);
/* TRUE when the finished request certainly never reached the server: it was never sent
 * (its batch was not run, or was interrupted before it ran), or it went on a fresh
 * connection (tf_http_req_fresh_connection) that could not be made: refused,
 * unreachable, or timed out before connecting. FALSE whenever it may have arrived. */
TF_API gboolean tf_http_req_unsent(const tf_http_req *r);
/* Duration of the request in µs (0 if not run). */
TF_API gint64 tf_http_req_duration(const tf_http_req *r);

/* One request, synchronously (a batch of one). Returns the parsed JSON body (new ref)
 * or NULL + error as tf_http_req_json. body may be NULL (then GET). */
TF_API json_t *tf_http_json(tf_http *http, const char *label, const char *url, json_t *body,
                            gint64 timeout_us, GError **error);

G_END_DECLS

#endif
