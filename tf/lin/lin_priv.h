/* lin_priv.h: what the operation history, its readers, the checker and the drawing share
 * inside libtf. Internal header. */
#ifndef TF_LIN_PRIV_H
#define TF_LIN_PRIV_H

#include "tf/error.h"
#include "tf/lincheck.h"
#include "tf/ophistory.h"

/* Records an invocation read from a file: `input` is stolen, `line` kept for errors.
 * Returns the new op id. */
guint64 ophistory_add_read(tf_ophistory *h, gint64 time, gint64 process, const char *name,
                           json_t *input, guint line);
/* The time a check gives op's completion: its completion time when TF_OP_OK, else
 * G_MAXINT64 (it may take effect until the end of the history). */
gint64 lin_op_return_time(const tf_op *op);
/* Orders the operations' events as the checker does (time; a tie puts invocations first,
 * so operations that touch overlap): sets call_rank[i] and ret_rank[i] (0-based
 * positions among the 2 * n events) of ops[i]. */
void lin_event_ranks(const tf_op *const *ops, guint n, guint *call_rank, guint *ret_rank);
/* One EDN value (the whole of `len` bytes of text) as JSON (new reference), or NULL with
 * *why set to a static reason. */
json_t *lin_edn_parse(const char *text, gsize len, const char **why);
/* JSON as compact text, any value (new string). */
char *lin_json_text(const json_t *v);

#endif
