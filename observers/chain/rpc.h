/* rpc.h: Bitcoin-Core-family JSON-RPC 1.0 over HTTP (litecoind, bitcoind and their forks).
 * Calls to one node are batched into one HTTP request (a JSON array, answers matched by
 * id); batches to many nodes run concurrently on one tf_http. Auth is user/password or a
 * cookie file; credentials never appear in errors, logs or reports. */
#ifndef CHAIN_RPC_H
#define CHAIN_RPC_H

#include <glib.h>
#include <jansson.h>
#include <tf/http.h>
#include <tf/source.h>

G_BEGIN_DECLS

/* One node's RPC endpoint: name (for errors), base URL, credentials. Owned by the caller. */
typedef struct chain_rpc chain_rpc;

/* A new endpoint. name and url copied; user/password (may be NULL) copied; cookie_file
 * (may be NULL) is read at every request ("user:password", as bitcoind writes it), so a
 * restarted node's new cookie is picked up. Free with chain_rpc_free. */
chain_rpc *chain_rpc_new(const char *name, const char *url, const char *user,
                         const char *password, const char *cookie_file);
/* An endpoint from a source: its url, attributes rpc_user, rpc_password, rpc_cookie_file.
 * NULL + TF_ERROR_INVALID naming the source when it has no url. */
chain_rpc *chain_rpc_from_source(const tf_source *src, GError **error);
/* Frees the endpoint (wiping the password). NULL is a no-op. */
void chain_rpc_free(chain_rpc *rpc);
/* The endpoint's name and base URL without a trailing slash (borrowed). */
const char *chain_rpc_name(const chain_rpc *rpc);
const char *chain_rpc_url(const chain_rpc *rpc);

/* Calls to one endpoint sent as one HTTP request. Owned by the caller. */
typedef struct chain_rpc_batch chain_rpc_batch;

/* A new batch to rpc (borrowed; must outlive the batch). path: "" or NULL for the node,
 * "/wallet/NAME" for a wallet (copied). */
chain_rpc_batch *chain_rpc_batch_new(chain_rpc *rpc, const char *path);
/* Adds a call; params is taken (NULL: no params). Returns the call's index. */
guint chain_rpc_batch_add(chain_rpc_batch *b, const char *method, json_t *params);
/* Number of calls in the batch. */
guint chain_rpc_batch_len(const chain_rpc_batch *b);
/* Sends the n batches (empty ones are skipped) as concurrent HTTP requests on http and
 * returns when all answered or timed out. A batch may be run again after new adds
 * (results are reset). Returns the number of HTTP requests sent. */
guint chain_rpc_run(tf_http *http, chain_rpc_batch *const *batches, guint n, gint64 timeout_us);
/* The result of call i (borrowed, valid until the batch is freed or run again; may be a
 * JSON null), or NULL + error "NAME: METHOD: why" (transport failure, HTTP status,
 * authentication refused, RPC error code and message, missing answer). */
json_t *chain_rpc_batch_result(const chain_rpc_batch *b, guint i, GError **error);
/* The batch's transport-level error (NULL + TRUE when the request itself succeeded). */
gboolean chain_rpc_batch_ok(const chain_rpc_batch *b, GError **error);
/* Frees the batch. NULL is a no-op. */
void chain_rpc_batch_free(chain_rpc_batch *b);

/* One call, synchronously: the result (new reference) or NULL + error as above. */
json_t *chain_rpc_call(chain_rpc *rpc, tf_http *http, const char *path, const char *method,
                       json_t *params, gint64 timeout_us, GError **error);

/* The RPC error code call i answered with (e.g. -5: block not found), 0 when it succeeded
 * or failed for another reason (transport, HTTP, malformed answer). */
gint chain_rpc_batch_error_code(const chain_rpc_batch *b, guint i);

G_END_DECLS

#endif
