/* world_store.h: a scenario's durable store, reached through its world (steps.h): the
 * store, run and execution the runner gave it (or TF_STORE), the journals of its
 * runtimes and its at-most-once effects. These live with the runner because they read
 * the world; the store itself (durable.h) knows nothing of worlds or runtimes. */
#ifndef TF_WORLD_STORE_H
#define TF_WORLD_STORE_H

#include <glib.h>
#include <jansson.h>
#include "tf/durable.h"
#include "tf/runtime.h"
#include "tf/steps.h"
#include "tf/api.h"

G_BEGIN_DECLS

/* *store receives the store a scenario's steps use for claims, caches and journals
 * (borrowed from the world): the world's "tf.store" entry if the runner put one there,
 * else the store named by the TF_STORE environment variable (opened on first use and
 * kept in the world). FOUND; ABSENT when there is none (durability is opt-in: TF_STORE
 * unset or empty); FAILED + error when the named store cannot be opened. */
TF_API tf_lookup tf_world_store(tf_world *world, tf_store **store, GError **error);
/* The claim owner name of this world's runner (borrowed; stable for the world's life). */
TF_API const char *tf_world_claim_owner(tf_world *world);
/* *run receives the run this world records into: the run the runner gave
 * (`tf run --store`, `tf wire`) or, on first use, a new run labelled with the scenario's name
 * that is ended with "passed"/"failed"/"interrupted" when the world is cleaned up.
 * FOUND; ABSENT without a store (*run = 0); FAILED + error. */
TF_API tf_lookup tf_world_run(tf_world *world, gint64 *run, GError **error);
/* *journal receives a journal (new reference) on the world's store for `stream` in this
 * scenario's execution, to hand to tf_runtime_set_journal: FOUND; ABSENT without a store;
 * FAILED + error. A stream name already journaled in this world gets "#2", "#3"...
 * Call it before storing the runtime in the world: the world's journals are checked
 * (and the execution ended) after the runtime was stopped and flushed. */
TF_API tf_lookup tf_world_journal(tf_world *world, const char *stream, tf_journal **journal,
                                  GError **error);
/* Journals rt (before its start) into the world's store as stream `stream` of this
 * scenario's execution when the world has a store; TRUE without one. FALSE + error when
 * the store is there but the journal cannot be set up. rt is borrowed. As
 * tf_world_journal: call it before storing rt in the world (examples/httpstatus shows
 * the order). */
TF_API gboolean tf_world_journal_runtime(tf_world *world, tf_runtime *rt, const char *stream,
                                         GError **error);
/* A side effect a step performs: its result (new JSON) or NULL + error. */
typedef json_t *(*tf_effect_fn)(void *data, GError **error);
/* Does an effect at most once across retries and restarted runners. With a store in the
 * world, a claim keyed by kind and a hash of input plus the scenario's uri and line is
 * taken (lease lease_us); a completed one gives back its recorded result with *replayed
 * TRUE and fn is not called; one held by another live runner is an error; a failed fn
 * releases the claim. Without a store fn just runs. input is borrowed; the result is new
 * (json_decref), or NULL + error. */
TF_API json_t *tf_world_effect_once(tf_world *world, const char *kind, json_t *input,
                                    gint64 lease_us, tf_effect_fn fn, void *data,
                                    gboolean *replayed, GError **error);

G_END_DECLS

#endif
