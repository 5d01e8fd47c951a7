/* durable.h: the durable store: one SQLite file (WAL) holding runs, the event journal,
 * observer checkpoints with fingerprints, idempotent-effect claims and cached projections.
 * Memory survives the process: a restarted runner resumes instead of starting over, and
 * never repeats an effect it already completed. Thread-safe: one store serves many threads.
 * A leaf of tf: it stores JSON and knows no runtime, observer or world (the runtime
 * journals through tf_runtime_set_journal; a scenario reaches its store through
 * world_store.h). */
#ifndef TF_DURABLE_H
#define TF_DURABLE_H

#include <stdio.h>
#include <glib.h>
#include <jansson.h>
#include "tf/error.h"
#include "tf/api.h"

G_BEGIN_DECLS

/* ---- store -------------------------------------------------------------------------- */

/* Where tf_store_open(NULL) puts the store, relative to the working directory. */
#define TF_STORE_DEFAULT_PATH ".tf/state.db"

/* An open store. Refcounted and thread-safe (one connection behind a mutex). */
typedef struct tf_store tf_store;

/* What a lookup found: "there is none" and "the store failed" are distinct answers. */
typedef enum {
    TF_LOOKUP_FOUND,  /* the out-parameter holds the answer */
    TF_LOOKUP_ABSENT, /* there is none (never stored, pruned, or no store configured) */
    TF_LOOKUP_FAILED, /* the store failed: error is set, the out-parameter is cleared */
} tf_lookup;

/* Opens or creates the store at path to read and write (NULL = TF_STORE_DEFAULT_PATH;
 * "" is TF_ERROR_INVALID). Missing directories on the way are created (0700), as a
 * server's data directory would be. Creation is atomic: processes opening one new file
 * at once all get the same complete store. A store of an older schema is migrated in
 * place in one transaction. A file that is not SQLite, a SQLite file of another
 * application, a newer schema or a corrupt file gives NULL + TF_ERROR_CORRUPT naming the
 * path and why; such a file is never written to. Returns a new store (tf_store_unref). */
TF_API tf_store *tf_store_open(const char *path, GError **error);
/* Opens an existing store only to read it (NULL = TF_STORE_DEFAULT_PATH): nothing is
 * created, migrated or written, so an archived store in a read-only file or directory
 * can be read (an older schema is read as it is). Refused like tf_store_open; a missing
 * file is TF_ERROR_IO. Writes through it fail. Returns a new store (tf_store_unref). */
TF_API tf_store *tf_store_open_readonly(const char *path, GError **error);
/* Adds a reference; returns s. */
TF_API tf_store *tf_store_ref(tf_store *s);
/* Drops a reference; the last one closes the database. NULL is a no-op. */
TF_API void tf_store_unref(tf_store *s);
/* The file's path (borrowed, valid while s is). */
TF_API const char *tf_store_path(const tf_store *s);
/* Makes everything committed so far durable on disk (WAL checkpoint + fsync); TRUE and
 * nothing done on a read-only store. */
TF_API gboolean tf_store_flush(tf_store *s, GError **error);

/* ---- runs --------------------------------------------------------------------------- */

/* Records the start of a run labelled `label` (copied); returns its id (> 0, distinct
 * across processes), 0 + error. Also applies the retention (tf_store_set_retention). */
TF_API gint64 tf_store_run_begin(tf_store *s, const char *label, GError **error);
/* Records how a run ended ("passed", "failed", "interrupted"...; copied). When a journal
 * of one of its executions stopped recording (a batch was lost), the run is recorded
 * "failed" whatever status says, and FALSE + TF_ERROR_CORRUPT names the first such
 * journal: the run must not pass. */
TF_API gboolean tf_store_run_end(tf_store *s, gint64 run, const char *status, GError **error);
/* *run receives the id of the most recent run: FOUND, ABSENT (no run yet: *run = 0) or
 * FAILED + error. */
TF_API tf_lookup tf_store_run_latest(tf_store *s, gint64 *run, GError **error);
/* New JSON array of runs, newest first: {"run","label","started","ended","status",
 * "batches","executions","journal_errors"} ("journal_errors": how many executions lost
 * journal batches). NULL + error on failure. */
TF_API json_t *tf_store_runs(tf_store *s, GError **error);

/* One execution of a scenario: one attempt of one pickle. What identifies it in a run is
 * the pickle and the attempt; the store gives each execution its own id, so neither two
 * runs, nor scenarios or outline rows of one name, nor retries, nor worker processes of
 * one run ever share a journal stream. Strings are borrowed for the call. */
typedef struct {
    const char *pickle; /* the pickle's id ("" when unknown, as on the wire) */
    guint attempt;      /* 0 for the first try, n for the n-th retry */
    const char *uri;    /* the feature file ("" when unknown) */
    guint line;         /* the scenario's line (0 when unknown) */
    const char *name;   /* the scenario's name */
} tf_execution;
/* Records that execution e of run began; returns its id (> 0), 0 + error. */
TF_API gint64 tf_store_execution_begin(tf_store *s, gint64 run, const tf_execution *e,
                                       GError **error);
/* Records how an execution ended (status copied) and, when one of its journals stopped
 * recording, why (journal_error: copied, NULL = none). */
TF_API gboolean tf_store_execution_end(tf_store *s, gint64 execution, const char *status,
                                       const char *journal_error, GError **error);
/* New JSON array of a run's executions in the order they began: {"execution","pickle",
 * "attempt","uri","line","scenario","status","journal_error","streams":{name: batches}}.
 * NULL + error on failure. */
TF_API json_t *tf_store_executions(tf_store *s, gint64 run, GError **error);

/* Journal retention, applied when a run begins and on every 1,000th append through one
 * open store. 0 = unlimited. Dropping a run's journal also forgets the sequence numbers of
 * its streams once the run has ended (nothing appends to them any more). */
typedef struct {
    guint keep_runs;        /* journals of the newest N runs are kept (default 20) */
    guint64 max_batches;    /* per stream, the newest N batches are kept (default 0) */
    gint64 max_age_us;      /* batches older than this (wall clock) are dropped (default 0) */
} tf_retention;
/* Sets the retention of s (copied). */
TF_API void tf_store_set_retention(tf_store *s, const tf_retention *r);
/* Applies the retention now; returns how many batches were removed, -1 + error. */
TF_API gint64 tf_store_prune(tf_store *s, GError **error);

/* ---- journal ------------------------------------------------------------------------ */

/* One append-only stream of event batches (usually one per observer). Sequence numbers
 * are persisted: they continue across restarts and are never reused, even after
 * pruning. Refcounted; thread-safe. */
typedef struct tf_journal tf_journal;

/* Opens stream `stream` (copied) in s for run `run` (the run its appends belong to;
 * 0 = none): a stream of its own name, which a restarted process continues. Names
 * beginning with '@' are reserved for executions (TF_ERROR_INVALID). Takes a store
 * reference. NULL + error on failure. */
TF_API tf_journal *tf_journal_open(tf_store *s, const char *stream, gint64 run, GError **error);
/* Opens stream `stream` (copied) of one execution (tf_store_execution_begin): its
 * numbers start at 1 and no other execution shares them. Takes a store reference.
 * NULL + error on failure (TF_ERROR_INVALID for an unknown execution). */
TF_API tf_journal *tf_journal_open_execution(tf_store *s, gint64 execution, const char *stream,
                                             GError **error);
/* Adds a reference; returns j. */
TF_API tf_journal *tf_journal_ref(tf_journal *j);
/* Drops a reference. NULL is a no-op. */
TF_API void tf_journal_unref(tf_journal *j);
/* The store the journal writes to (borrowed, valid while j is). */
TF_API tf_store *tf_journal_store(const tf_journal *j);
/* The stream's name as opened (borrowed). */
TF_API const char *tf_journal_stream(const tf_journal *j);
/* The execution the stream belongs to (0 for a stream opened by name). */
TF_API gint64 tf_journal_execution(const tf_journal *j);
/* *seq receives the last sequence number ever appended to the stream (0 when none);
 * FALSE + error when the store failed. */
TF_API gboolean tf_journal_last_seq(tf_journal *j, guint64 *seq, GError **error);
/* *found receives the oldest sequence number still stored that is >= seq: FOUND, ABSENT
 * (none is: *found = 0) or FAILED + error. */
TF_API tf_lookup tf_journal_next_stored(tf_journal *j, guint64 seq, guint64 *found, GError **error);
/* Appends one batch, committed before returning. seq must be last_seq + 1 (else
 * TF_ERROR_INVALID): the journal is gapless by construction. batch_json is borrowed; it
 * is stored as is: an object with "events" and "wall_time" (a runtime stores
 * tf_batch_to_json's shape). A failed append is remembered (tf_journal_failure). */
TF_API gboolean tf_journal_append(tf_journal *j, guint64 seq, guint64 cycle, gint64 wall_time,
                                  json_t *batch_json, GError **error);
/* Makes the journal's commits durable (tf_store_flush); a failure is remembered too. */
TF_API gboolean tf_journal_flush(tf_journal *j, GError **error);
/* Why the journal lost a batch: the first append or flush that failed on j (new string),
 * or NULL while everything appended through j was recorded. */
TF_API char *tf_journal_failure(tf_journal *j);
/* *batch receives the stored batch JSON of seq (new reference): FOUND, ABSENT (never
 * written, or pruned) or FAILED + error (the store failed or the stored JSON is bad). */
TF_API tf_lookup tf_journal_read(tf_journal *j, guint64 seq, json_t **batch, GError **error);
/* Writes a run's journal as NDJSON, one batch a line: {"run","stream","seq","cycle",
 * "events","wall_time"} plus, for a scenario's stream, "execution","scenario","pickle",
 * "attempt". Ordered by execution, stream, seq. run 0 = latest run; stream NULL = every
 * stream, else only streams of that name. Returns the number of lines, -1 + error. */
TF_API gint64 tf_store_export_journal(tf_store *s, gint64 run, const char *stream, FILE *out,
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
TF_API tf_claim_status tf_claim_acquire(tf_store *s, const char *key, const char *owner,
                                        gint64 lease_us, json_t **result, gboolean *taken_over,
                                        GError **error);
/* Records the effect's result (borrowed JSON) and marks it done; only the current owner
 * may (TF_ERROR_INVALID otherwise, e.g. after a takeover). */
TF_API gboolean tf_claim_complete(tf_store *s, const char *key, const char *owner, json_t *result,
                                  GError **error);
/* Gives a claim up without a result (the effect did not happen); only its owner may. */
TF_API gboolean tf_claim_release(tf_store *s, const char *key, const char *owner, GError **error);
/* A process-unique owner name "host:pid:random" (new string). */
TF_API char *tf_claim_owner_new(void);

/* ---- fingerprints and checkpoints --------------------------------------------------- */

/* The ELF build-id (hex, new string) of the loaded object holding `fn` (an executable
 * or shared object); NULL + error when it has none. */
TF_API char *tf_build_id_of(const void *fn, GError **error);
/* The fingerprint of some logic whose stored state must not outlive a change to it (hex
 * SHA-256, new string): its name and version, its canonical config JSON (borrowed, may be
 * NULL; keys sorted, compact), the build-id of the object holding `code` and the
 * fingerprints it builds on (NULL-terminated, may be NULL). NULL + error when the
 * build-id cannot be read. An observer's is tf_fingerprint_observer (observer.h). */
TF_API char *tf_fingerprint(const char *name, guint version, json_t *config, const void *code,
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
TF_API const char *tf_checkpoint_status_name(tf_checkpoint_status st);

/* Saves `state` (borrowed JSON) as the checkpoint of `name` under `fingerprint`;
 * bootstrapped says the observer's full catch-up had finished. The write is committed
 * with a full fsync before this returns. */
TF_API gboolean tf_checkpoint_save(tf_store *s, const char *name, const char *fingerprint,
                                   gboolean bootstrapped, json_t *state, GError **error);
/* Loads the checkpoint of `name` if it is usable under `fingerprint`: on VALID *state is
 * a new reference. *why (may be NULL) receives a new one-line explanation of the
 * decision for the log ("checkpoint of chain: fingerprint mismatch (stored 1a2b.., now
 * 3c4d..): full scan"). */
TF_API tf_checkpoint_status tf_checkpoint_load(tf_store *s, const char *name,
                                               const char *fingerprint, json_t **state, char **why,
                                               GError **error);

/* ---- cached projections ------------------------------------------------------------- */

/* A hash (hex SHA-256, new string) of a projection's input: its fingerprint and the
 * canonical JSON of the input (borrowed: e.g. {"header":..,"wallets":[..]}). */
TF_API char *tf_cache_key(const char *fingerprint, json_t *input);
/* Stores a projection result (borrowed) under key with provenance: run, time now and
 * the input (borrowed JSON). Replaces an existing entry. */
TF_API gboolean tf_cache_put(tf_store *s, const char *kind, const char *key, json_t *input,
                             json_t *result, gint64 run, GError **error);
/* *result receives the cached result of key (new reference): FOUND, ABSENT or FAILED +
 * error (the store failed, or the stored JSON is unreadable: TF_ERROR_CORRUPT). On FOUND
 * *provenance (may be NULL) receives {"run","time","input"} (new reference). */
TF_API tf_lookup tf_cache_get(tf_store *s, const char *kind, const char *key, json_t **result,
                              json_t **provenance, GError **error);

G_END_DECLS

#endif
