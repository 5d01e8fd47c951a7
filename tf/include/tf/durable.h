/* durable.h: the durable store: one SQLite file (WAL) holding runs, the event journal,
 * observer checkpoints with fingerprints, idempotent-effect claims and cached projections.
 * Memory survives the process: a restarted runner resumes instead of starting over, and
 * never repeats an effect it already completed. Thread-safe: one store serves many threads. */
#ifndef TF_DURABLE_H
#define TF_DURABLE_H

#include <stdio.h>
#include <glib.h>
#include <jansson.h>
#include "tf/observer.h"
#include "tf/snapshot.h"
#include "tf/runtime.h"

G_BEGIN_DECLS

/* ---- store -------------------------------------------------------------------------- */

/* Where tf_store_open(NULL) puts the store, relative to the working directory. */
#define TF_STORE_DEFAULT_PATH ".tf/state.db"

/* An open store. Refcounted and thread-safe (one connection behind a mutex). */
typedef struct tf_store tf_store;

/* Opens or creates the store at path (NULL = TF_STORE_DEFAULT_PATH; its directory is
 * created). A file that is not SQLite, a SQLite file of another application, a newer
 * schema or a corrupt file gives NULL + TF_ERROR_CORRUPT naming the path and why; such a
 * file is never written to. Returns a new store (free with tf_store_unref). */
tf_store *tf_store_open(const char *path, GError **error);
/* Adds a reference; returns s. */
tf_store *tf_store_ref(tf_store *s);
/* Drops a reference; the last one closes the database. NULL is a no-op. */
void tf_store_unref(tf_store *s);
/* The file's path (borrowed, valid while s is). */
const char *tf_store_path(const tf_store *s);
/* Makes everything committed so far durable on disk (WAL checkpoint + fsync). */
gboolean tf_store_flush(tf_store *s, GError **error);

/* ---- runs --------------------------------------------------------------------------- */

/* Records the start of a run labelled `label` (copied); returns its id (> 0), 0 + error.
 * Also applies the run retention (tf_store_set_retention). */
gint64 tf_store_run_begin(tf_store *s, const char *label, GError **error);
/* Records how a run ended ("passed", "failed", "interrupted"...; copied). */
gboolean tf_store_run_end(tf_store *s, gint64 run, const char *status, GError **error);
/* The id of the most recent run, 0 when there is none (or on error, with error set). */
gint64 tf_store_run_latest(tf_store *s, GError **error);
/* New JSON array of runs, newest first: {"run","label","started","ended","status",
 * "batches"}. NULL + error on failure. */
json_t *tf_store_runs(tf_store *s, GError **error);

/* Journal retention, applied when a run begins and every 1,000 appends. 0 = unlimited. */
typedef struct {
    guint keep_runs;        /* journals of the newest N runs are kept (default 20) */
    guint64 max_batches;    /* per stream, the newest N batches are kept (default 0) */
    gint64 max_age_us;      /* batches older than this (wall clock) are dropped (default 0) */
} tf_retention;
/* Sets the retention of s (copied). */
void tf_store_set_retention(tf_store *s, const tf_retention *r);
/* Applies the retention now; returns how many batches were removed, -1 + error. */
gint64 tf_store_prune(tf_store *s, GError **error);

/* ---- journal ------------------------------------------------------------------------ */

/* One named, append-only stream of event batches (usually one per observer). Sequence
 * numbers are persisted: they continue across restarts and are never reused, even after
 * pruning. Refcounted; thread-safe. */
typedef struct tf_journal tf_journal;

/* Opens stream `stream` (copied) in s for run `run` (the run its appends belong to;
 * 0 = none). Takes a store reference. NULL + error on failure. */
tf_journal *tf_journal_open(tf_store *s, const char *stream, gint64 run, GError **error);
/* Adds a reference; returns j. */
tf_journal *tf_journal_ref(tf_journal *j);
/* Drops a reference. NULL is a no-op. */
void tf_journal_unref(tf_journal *j);
/* The store the journal writes to (borrowed, valid while j is). */
tf_store *tf_journal_store(const tf_journal *j);
/* The stream's name (borrowed). */
const char *tf_journal_stream(const tf_journal *j);
/* The last sequence number ever appended to the stream (0 when none). */
guint64 tf_journal_last_seq(tf_journal *j, GError **error);
/* The oldest sequence number still stored that is >= seq (0 when none). */
guint64 tf_journal_next_stored(tf_journal *j, guint64 seq, GError **error);
/* Appends one batch, committed before returning. seq must be last_seq + 1 (else
 * TF_ERROR_INVALID): the journal is gapless by construction. batch_json is borrowed; it
 * is stored as is and should be tf_batch_to_json's shape. */
gboolean tf_journal_append(tf_journal *j, guint64 seq, guint64 cycle, gint64 wall_time,
                           json_t *batch_json, GError **error);
/* Appends a runtime batch (its seq, cycle, time and tf_batch_to_json). */
gboolean tf_journal_append_batch(tf_journal *j, const tf_batch *b, GError **error);
/* The stored batch JSON of seq (new reference), or NULL: with error set on failure, or
 * with no error when the stream has no such batch (never written or pruned). */
json_t *tf_journal_read(tf_journal *j, guint64 seq, GError **error);
/* Writes a run's journal as NDJSON, one batch a line: {"run","stream","seq","cycle",
 * "wall_time","events"}, ordered by stream then seq. run 0 = latest run; stream NULL =
 * every stream. Returns the number of lines, -1 + error. */
gint64 tf_store_export_journal(tf_store *s, gint64 run, const char *stream, FILE *out,
                               GError **error);

/* ---- claims: idempotent effects ----------------------------------------------------- */

/* Outcome of tf_claim_acquire. */
typedef enum {
    TF_CLAIM_ACQUIRED, /* the caller owns the effect: act, then tf_claim_complete */
    TF_CLAIM_DONE,     /* the effect already completed: *result holds its recorded result */
    TF_CLAIM_BUSY,     /* another live owner holds it (its lease has not expired) */
    TF_CLAIM_ERROR,    /* the store failed: see error */
} tf_claim_status;

/* Takes the durable claim on effect `key` for `owner` (both copied) for lease_us. A
 * claim whose lease expired (its owner died) is taken over. On TF_CLAIM_DONE *result
 * (may be NULL) receives a new reference to the recorded result JSON. A takeover is
 * reported through *taken_over (may be NULL). */
tf_claim_status tf_claim_acquire(tf_store *s, const char *key, const char *owner,
                                 gint64 lease_us, json_t **result, gboolean *taken_over,
                                 GError **error);
/* Records the effect's result (borrowed JSON) and marks it done; only the current owner
 * may (TF_ERROR_INVALID otherwise, e.g. after a takeover). */
gboolean tf_claim_complete(tf_store *s, const char *key, const char *owner, json_t *result,
                           GError **error);
/* Gives a claim up without a result (the effect did not happen); only its owner may. */
gboolean tf_claim_release(tf_store *s, const char *key, const char *owner, GError **error);
/* A process-unique owner name "host:pid:random" (new string). */
char *tf_claim_owner_new(void);

typedef struct tf_world tf_world; /* steps.h */
/* The store a scenario's steps use for claims and caches: the world's "tf.store" entry if
 * the runner put one there, else the store named by the TF_STORE environment variable
 * (opened on first use and kept in the world), else NULL without an error (durability is
 * opt-in). NULL + error when the named store cannot be opened. Borrowed from the world. */
tf_store *tf_world_store(tf_world *world, GError **error);
/* Makes s (a new reference is kept) and run the store and run of this world: what a
 * runner with a store (`tf run --store`, `tf wire`) does for every scenario. */
void tf_world_use_store(tf_world *world, tf_store *s, gint64 run);
/* The claim owner name of this world's runner (borrowed; stable for the world's life). */
const char *tf_world_claim_owner(tf_world *world);
/* The run this world records into: the world's "tf.run" (a gint64* the runner put there)
 * or, on first use, a new run labelled with the scenario's name that is ended with
 * "passed"/"failed"/"interrupted" when the world is cleaned up. 0 without a store. */
gint64 tf_world_run(tf_world *world, GError **error);
/* A journal on the world's store for `stream` in the world's run, to hand to
 * tf_runtime_set_journal (new reference), or NULL without a store (error unset) or on
 * failure (error set). Call it before storing the runtime in the world, so the run is
 * ended after the runtime was stopped and flushed. */
tf_journal *tf_world_journal(tf_world *world, const char *stream, GError **error);
/* A side effect a step performs: its result (new JSON) or NULL + error. */
typedef json_t *(*tf_effect_fn)(void *data, GError **error);
/* Does an effect at most once across retries and restarted runners. With a store in the
 * world, a claim keyed by kind and a hash of input plus the scenario's uri and line is
 * taken (lease lease_us); a completed one gives back its recorded result with *replayed
 * TRUE and fn is not called; one held by another live runner is an error; a failed fn
 * releases the claim. Without a store fn just runs. input is borrowed; the result is new
 * (json_decref), or NULL + error. */
json_t *tf_world_effect_once(tf_world *world, const char *kind, json_t *input, gint64 lease_us,
                             tf_effect_fn fn, void *data, gboolean *replayed, GError **error);
/* Journals rt (before its start) into the world's store under "<stream>/<scenario name>"
 * when the world has a store; TRUE without one. FALSE + error when the store is there but
 * the journal cannot be set up. rt is borrowed. */
gboolean tf_world_journal_runtime(tf_world *world, tf_runtime *rt, const char *stream,
                                  GError **error);

/* ---- fingerprints and checkpoints --------------------------------------------------- */

/* The ELF build-id (hex, new string) of the loaded object holding `fn` (an executable
 * or shared object); NULL + error when it has none. */
char *tf_build_id_of(const void *fn, GError **error);
/* The fingerprint of an observer's logic (hex SHA-256, new string): its name and
 * version, its canonical config JSON (borrowed, may be NULL; keys sorted, compact), the
 * build-id of the object holding its poll function and the fingerprints it builds on
 * (NULL-terminated, may be NULL). NULL + error when the build-id cannot be read. */
char *tf_fingerprint_observer(const tf_observer *obs, json_t *config,
                              const char *const *depends_on, GError **error);

/* What tf_checkpoint_load found. */
typedef enum {
    TF_CHECKPOINT_VALID,      /* usable: skip the full catch-up */
    TF_CHECKPOINT_MISSING,    /* none stored */
    TF_CHECKPOINT_MISMATCH,   /* stored under another fingerprint (logic/config/code) */
    TF_CHECKPOINT_INCOMPLETE, /* bootstrap had not finished or the commit was not durable */
    TF_CHECKPOINT_CORRUPT,    /* stored but unreadable (checksum or JSON failed) */
    TF_CHECKPOINT_ERROR,      /* the store failed */
} tf_checkpoint_status;

/* "valid", "missing", ... (static). */
const char *tf_checkpoint_status_name(tf_checkpoint_status st);

/* Saves `state` (borrowed JSON) as the checkpoint of `name` under `fingerprint`;
 * bootstrapped says the observer's full catch-up had finished. The write is committed
 * with a full fsync before this returns. */
gboolean tf_checkpoint_save(tf_store *s, const char *name, const char *fingerprint,
                            gboolean bootstrapped, json_t *state, GError **error);
/* Loads the checkpoint of `name` if it is usable under `fingerprint`: on VALID *state is
 * a new reference. *why (may be NULL) receives a new one-line explanation of the
 * decision for the log ("checkpoint of chain: fingerprint mismatch (stored 1a2b.., now
 * 3c4d..): full scan"). */
tf_checkpoint_status tf_checkpoint_load(tf_store *s, const char *name,
                                        const char *fingerprint, json_t **state, char **why,
                                        GError **error);

/* ---- cached projections ------------------------------------------------------------- */

/* A hash (hex SHA-256, new string) of a projection's input: its fingerprint and the
 * canonical JSON of the input (borrowed: e.g. {"header":..,"wallets":[..]}). */
char *tf_cache_key(const char *fingerprint, json_t *input);
/* Stores a projection result (borrowed) under key with provenance: run, time now and
 * the input (borrowed JSON). Replaces an existing entry. */
gboolean tf_cache_put(tf_store *s, const char *kind, const char *key, json_t *input,
                      json_t *result, gint64 run, GError **error);
/* The cached result of key (new ref) or NULL (error set only on failure). *provenance
 * (may be NULL) receives {"run","time","input"} (new ref). */
json_t *tf_cache_get(tf_store *s, const char *kind, const char *key, json_t **provenance,
                     GError **error);

G_END_DECLS

#endif
