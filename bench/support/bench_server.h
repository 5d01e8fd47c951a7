/* bench_server.h: the tests' HTTP fixture (fixture_http) served from a child process, so
 * that a bench's CPU figures (getrusage of its own process) are the observers' alone and
 * not the server's. The child registers its routes with a setup function; the values
 * both sides change (what the nodes answer) live in a shared memory block. Fork it first
 * thing in main, before any thread exists. The child dies with the parent. */
#ifndef TF_BENCH_SERVER_H
#define TF_BENCH_SERVER_H

#include <glib.h>
#include "fixture_http.h"

typedef struct bench_server bench_server;

/* Runs in the child: routes paths of fx to handlers reading `shared`. */
typedef void (*bench_server_setup)(fixture_http *fx, void *shared);

/* Forks the server child with shared_size bytes of zeroed shared memory and waits until
 * it listens. Exits the bench (status 1) when it cannot. Free with bench_server_free. */
bench_server *bench_server_fork(gsize shared_size, bench_server_setup setup);
/* The same with the server on a pool of `threads` polling threads
 * (fixture_http_start_pooled), as event-driven servers work, instead of a thread per
 * connection; 0: a thread per connection. */
bench_server *bench_server_fork_pooled(gsize shared_size, bench_server_setup setup, guint threads);
/* The shared memory block (the same bytes the child's handlers see). */
void *bench_server_shared(bench_server *s);
/* "http://127.0.0.1:<port><path>" (new string). */
char *bench_server_url(bench_server *s, const char *path);

/* What the child has seen and spent so far (asked over its control pipe). */
typedef struct {
    guint64 requests;     /* complete requests received */
    guint64 connections;  /* TCP connections accepted */
    double cpu_s;         /* the server process's CPU time */
} bench_server_stats;
bench_server_stats bench_server_stats_get(bench_server *s);

/* Stops the child (closing its control pipe) and reaps it. NULL is a no-op. */
void bench_server_free(bench_server *s);

#endif
