/* wire_priv.h: what the wire server's two halves share. wire_server.c owns sockets
 * and threads; wire_session.c turns one connection's request lines into replies and owns
 * that connection's step worker, step ids and scenario world. */
#ifndef TF_RUNNER_WIRE_PRIV_H
#define TF_RUNNER_WIRE_PRIV_H

#include "runner_priv.h"
#include "wire.h"

/* One connection's protocol state. */
typedef struct tf_wire_session tf_wire_session;

/* A session serving reg (borrowed) with its own step worker. */
tf_wire_session *tf_wire_session_new(tf_registry *reg, gint64 step_timeout_us, FILE *log);
/* Gives every later scenario's world store (borrowed) and run, as `tf run --store` does. */
void tf_wire_session_use_store(tf_wire_session *s, struct tf_store *store, gint64 run);
/* The session's exec, for interrupting a step in flight when the server stops. */
tf_exec *tf_wire_session_exec(tf_wire_session *s);
/* Handles one request (a JSON array, without its newline) and returns the reply line
 * (newly allocated, no newline). Never fails: protocol errors are "fail" replies. */
char *tf_wire_session_handle(tf_wire_session *s, const char *line, gsize len);
/* Ends the open scenario if any (After hooks, world cleanups), stops the worker, frees. */
void tf_wire_session_free(tf_wire_session *s);

/* BeforeAll/AfterAll hooks on a worker of their own; FALSE + error naming the first
 * failing hook (every hook still runs). */
gboolean tf_wire_global_hooks(tf_registry *reg, tf_hook_kind kind, gint64 timeout_us,
                              GError **error);

#endif
