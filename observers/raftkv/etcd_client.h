/* etcd_client.h: one operation of a linearizability client against one etcd member over
 * the v3 JSON gateway (read: range; write: put; compare-and-set: a txn comparing the
 * key's value, put on success, range on failure), recorded in an operation history with
 * what the client can honestly say of it: ok with the answer; fail only when it certainly
 * took no effect (a read, which never has one; a request that never reached the member;
 * an error etcd gives before proposing); unknown otherwise (a time-out, a lost
 * connection: it may still take effect). Inputs and outputs are those of the registers
 * model (lin_models.h); a refused cas records what the key held, {"ok": false, "value": V},
 * since the txn's failure branch read it at the same revision. */
#ifndef RAFTKV_ETCD_CLIENT_H
#define RAFTKV_ETCD_CLIENT_H

#include <tf/http.h>
#include <tf/ophistory.h>

typedef enum { RAFTKV_READ, RAFTKV_WRITE, RAFTKV_CAS } raftkv_op_kind;

/* An operation on one key (strings borrowed). */
typedef struct {
    raftkv_op_kind kind;
    const char *key;
    const char *value;      /* write: the value written; cas: the value set on success */
    const char *expect;     /* cas: the value the key must hold */
    gboolean serializable;  /* read: answered from the member's own state, without the
                               leader (etcd's serializable range); default linearizable */
} raftkv_op;

/* What an operation came to. */
typedef struct {
    tf_op_status status;
    char *seen;  /* the key's value the client learnt, or NULL: a read's value, a write's
                    or a successful cas's new value, the current value a refused cas read */
    char *error; /* fail/unknown: why, as recorded */
    gint64 complete_time; /* monotonic µs: the completion's time in the history */
} raftkv_op_result;

/* Frees what r holds (not r). */
void raftkv_op_result_clear(raftkv_op_result *r);

/* Runs op through the member at base_url as process `process` of history h: records the
 * invocation, sends it (timeout_us), records the completion. `http` is the calling
 * thread's client; writes and cas go on a fresh connection so that a refused connection
 * proves the request never left (tf_http_req_unsent). */
raftkv_op_result raftkv_client_run(tf_http *http, const char *base_url, tf_ophistory *h,
                                   gint64 process, const raftkv_op *op, gint64 timeout_us);

#endif
