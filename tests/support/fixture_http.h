/* fixture_http.h: an in-process HTTP server on 127.0.0.1 (libmicrohttpd, one thread per
 * connection, ephemeral port) for unit tests and benchmarks of HTTP observers: routes by
 * path to a fixed or computed response, optional delays that end early when the server
 * stops, and thread-safe counters of what it saw (requests, connections, concurrency).
 * Typical use:
 *     fixture_http *f = fixture_http_start();
 *     fixture_http_route_json(f, "/v", "{\"a\":1}");
 *     char *url = fixture_http_url(f, "/v");   ... GET it ...
 *     assert_int_equal(fixture_http_requests_to(f, "/v"), 1);
 *     g_free(url); fixture_http_free(f);
 */
#ifndef TF_TEST_FIXTURE_HTTP_H
#define TF_TEST_FIXTURE_HTTP_H

#include <glib.h>

typedef struct fixture_http fixture_http;

/* What a handler sees of a request (all borrowed, valid during the call). */
typedef struct {
    const char *method;   /* "GET", "POST", ... */
    const char *path;     /* the path without the query string */
    const char *body;     /* request body, NUL-terminated (it may also hold NULs) */
    gsize body_len;
} fixture_http_request;

/* What a handler answers. Preset to status 200, an empty body, "application/json" and
 * the route's delay; the handler changes what it wants. */
typedef struct {
    guint status;
    GString *body;             /* append to it; may hold NULs; owned by the fixture */
    const char *content_type;  /* must outlive the call (a string literal, say) */
    guint delay_ms;            /* answer after this long; cut short when the server stops */
} fixture_http_response;

/* Computes a response; runs on the connection's thread, concurrently with other calls
 * and without any fixture lock held. Called before the delay. */
typedef void (*fixture_http_handler)(const fixture_http_request *req,
                                     fixture_http_response *resp, void *user);

/* Starts a server on 127.0.0.1 on a free port (aborts the test if it cannot).
 * Unrouted paths answer 404 "no route for <path>". Free with fixture_http_free. */
fixture_http *fixture_http_start(void);
/* The same on a given port (0: a free one), for a server in a child process whose port
 * a cluster spec chose. */
fixture_http *fixture_http_start_on(guint16 port);
/* The same on a free port, served by a pool of `threads` threads each polling its share
 * of the connections, as event-driven servers (etcd, bitcoind's libevent) are, rather
 * than a thread per connection: for benches of many connections. A delayed answer holds
 * up its thread's other connections. (Not libmicrohttpd 0.9.75's epoll mode: with 1,000
 * connections it left some unserved for seconds.) */
fixture_http *fixture_http_start_pooled(guint threads);
/* Stops serving: pending delays end at once, open connections close and new ones are
 * refused. Counters stay readable. Idempotent. */
void fixture_http_stop(fixture_http *f);
/* Stops (if needed) and frees the fixture. NULL is a no-op. */
void fixture_http_free(fixture_http *f);

/* The bound port. */
guint16 fixture_http_port(const fixture_http *f);
/* "http://127.0.0.1:<port><path>" (newly allocated; g_free). */
char *fixture_http_url(const fixture_http *f, const char *path);
/* A port on 127.0.0.1 that was just bound and closed: connecting to it is refused. */
guint16 fixture_http_closed_port(void);

/* Routes path to a fixed response (body copied; len -1 means strlen; content_type NULL
 * means "application/json"). Replaces any earlier route of the path; thread-safe. */
void fixture_http_route(fixture_http *f, const char *path, guint status,
                        const char *content_type, const char *body, gssize len,
                        guint delay_ms);
/* Routes path to 200 with a JSON text body and no delay. */
void fixture_http_route_json(fixture_http *f, const char *path, const char *json);
/* Routes path to a handler (user borrowed; must outlive the fixture or the route). A path
 * ending in '*' is a prefix route: it answers every path that starts with what precedes
 * the '*' and has no route of its own (the longest such prefix wins). */
void fixture_http_route_handler(fixture_http *f, const char *path,
                                fixture_http_handler fn, void *user);

/* Requests received in all (complete requests, counted before any delay). */
guint64 fixture_http_requests(fixture_http *f);
/* Requests received for one path. */
guint64 fixture_http_requests_to(fixture_http *f, const char *path);
/* TCP connections accepted: equal to the request count when nothing is reused. */
guint64 fixture_http_connections(fixture_http *f);
/* Requests being handled (received, not yet answered) right now, and the most at once. */
guint fixture_http_in_flight(fixture_http *f);
guint fixture_http_max_in_flight(fixture_http *f);
/* Waits until at least n requests are in flight at once, or timeout_ms passes (then
 * FALSE). Lets a test act "while the requests hang" without sleeping. */
gboolean fixture_http_wait_in_flight(fixture_http *f, guint n, guint timeout_ms);

/* The last request seen on path: its method, body, and a header (name matched without
 * case). Newly allocated (g_free); NULL when path saw no request or no such header. */
char *fixture_http_last_method(fixture_http *f, const char *path);
char *fixture_http_last_body(fixture_http *f, const char *path);
char *fixture_http_last_header(fixture_http *f, const char *path, const char *name);

#endif
