/* wire.h: the Cucumber wire protocol server behind `tf wire`: a real Cucumber (with
 * cucumber-wire) matches and invokes tf's C step definitions over newline-delimited JSON
 * on TCP. One thread, one step worker and one world per connection. Internal to libtf,
 * the tf command and the tests (not an installed header). */
#ifndef TF_RUNNER_WIRE_H
#define TF_RUNNER_WIRE_H

#include <stdio.h>
#include <glib.h>
#include "tf/steps.h"

G_BEGIN_DECLS

/* A listening wire server. */
typedef struct tf_wire_server tf_wire_server;

typedef struct {
    const char *host;        /* numeric IPv4/IPv6 address to bind; NULL: 127.0.0.1 */
    guint16 port;            /* 0: any free port (tf_wire_server_port tells which) */
    gint64 step_timeout_us;  /* what a step or hook may take; <= 0: no limit */
    FILE *log;               /* connection notes and failures, or NULL (borrowed) */
    gsize max_request;       /* longest request line (bytes) before the connection is
                              * closed; 0: 16 MiB */
    struct tf_store *store;  /* every scenario's world journals and claims here (borrowed,
                              * must outlive the server), or NULL */
    gint64 store_run;        /* the run those worlds record into */
} tf_wire_options;

/* Binds and listens (nothing is served before tf_wire_server_start). reg is borrowed and
 * must outlive the server. NULL + error when the address cannot be bound. */
tf_wire_server *tf_wire_server_new(tf_registry *reg, const tf_wire_options *opts,
                                   GError **error);
/* The port the server listens on. */
guint16 tf_wire_server_port(const tf_wire_server *s);
/* Runs the BeforeAll hooks, then accepts connections on a thread of its own. FALSE +
 * error when a BeforeAll hook failed (nothing is served then). */
gboolean tf_wire_server_start(tf_wire_server *s, GError **error);
/* Stops accepting, interrupts steps in flight, ends every open scenario (After hooks and
 * world cleanups run), waits for every connection thread, runs the AfterAll hooks (when
 * started) and frees the server. NULL is a no-op. */
void tf_wire_server_free(tf_wire_server *s);

G_END_DECLS

#endif
