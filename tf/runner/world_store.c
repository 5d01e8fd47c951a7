/* world_store.c: how a scenario reaches the durable store without a global: the store,
 * the run and the attempt live in the scenario's world, put there by the runner (or the
 * store opened from TF_STORE on first use). The world's journals belong to one execution
 * (this attempt of this pickle) and are checked when steps end and when the world ends,
 * so a journal that stops recording fails the step, the run and says so on stderr.
 * It lives with the runner, whose world it reads, and uses only the store's public API:
 * the store (tf/durable) knows no world. */
#include <stdio.h>
#include <stdlib.h>
#include "tf/error.h"
#include "tf/world_store.h"
#include "runner_priv.h"
#include "util/sync.h"

#define WORLD_STORE_KEY "tf.store"
#define WORLD_OWNER_KEY "tf.claim_owner"
#define WORLD_RUN_KEY "tf.run"          /* gint64*: the run the runner gave */
#define WORLD_ATTEMPT_KEY "tf.attempt"  /* guint*: which attempt of its pickle this is */
#define WORLD_OWN_RUN_KEY "tf.run.own"  /* world_run: a run this world began itself */
#define WORLD_JOURNALS_KEY "tf.journals" /* world_journals: the execution and its journals */

tf_lookup tf_world_store(tf_world *world, tf_store **store, GError **error)
{
    *store = tf_world_get(world, WORLD_STORE_KEY);
    if (*store)
        return TF_LOOKUP_FOUND;
    const char *path = g_getenv("TF_STORE");
    if (!path || !*path)
        return TF_LOOKUP_ABSENT; /* durability is opt-in */
    tf_store *s = tf_store_open(path, error);
    if (!s)
        return TF_LOOKUP_FAILED;
    tf_world_set(world, WORLD_STORE_KEY, s, (GDestroyNotify)tf_store_unref);
    *store = s;
    return TF_LOOKUP_FOUND;
}

void tf_world_use_store(tf_world *world, tf_store *s, gint64 run, guint attempt)
{
    tf_world_set(world, WORLD_STORE_KEY, tf_store_ref(s), (GDestroyNotify)tf_store_unref);
    tf_world_set(world, WORLD_RUN_KEY, g_memdup2(&run, sizeof run), g_free);
    tf_world_set(world, WORLD_ATTEMPT_KEY, g_memdup2(&attempt, sizeof attempt), g_free);
}

const char *tf_world_claim_owner(tf_world *world)
{
    const char *owner = tf_world_get(world, WORLD_OWNER_KEY);
    if (!owner) {
        char *fresh = tf_claim_owner_new();
        tf_world_set(world, WORLD_OWNER_KEY, fresh, g_free);
        owner = fresh;
    }
    return owner;
}

static const char *world_outcome(tf_world *world)
{
    return tf_world_interrupted(world)                  ? "interrupted"
           : tf_world_status(world) == TF_STEP_PASSED ? "passed"
                                                        : "failed";
}

/* ---- a run the world began itself (TF_STORE without a runner's run) ----------------- */

typedef struct {
    tf_world *world;
    tf_store *store;
    gint64 run;
} world_run;

static void world_run_end(gpointer p)
{
    world_run *r = p;
    GError *err = NULL;
    if (!tf_store_run_end(r->store, r->run, world_outcome(r->world), &err)) {
        fprintf(stderr, "tf: %s\n", err->message);
        g_error_free(err);
    }
    tf_store_unref(r->store);
    g_free(r);
}

tf_lookup tf_world_run(tf_world *world, gint64 *run, GError **error)
{
    *run = 0;
    gint64 *given = tf_world_get(world, WORLD_RUN_KEY);
    world_run *own = tf_world_get(world, WORLD_OWN_RUN_KEY);
    if (given || own) {
        *run = given ? *given : own->run;
        return TF_LOOKUP_FOUND;
    }
    tf_store *s;
    tf_lookup l = tf_world_store(world, &s, error);
    if (l != TF_LOOKUP_FOUND)
        return l;
    const tf_gherkin_pickle *p = tf_world_pickle(world);
    gint64 id = tf_store_run_begin(s, p ? p->name : "", error);
    if (!id)
        return TF_LOOKUP_FAILED;
    own = g_new0(world_run, 1);
    own->world = world;
    own->store = tf_store_ref(s);
    own->run = id;
    tf_world_set(world, WORLD_OWN_RUN_KEY, own, world_run_end);
    *run = id;
    return TF_LOOKUP_FOUND;
}

/* ---- the execution and its journals ------------------------------------------------- */

typedef struct {
    tf_world *world;
    tf_store *store;
    gint64 run, execution;
    guint attempt;
    char *scenario;
    tf_mutex lock;      /* journals, reported: steps and the runner both reach them */
    GPtrArray *journals; /* tf_journal* (a reference each) */
    GArray *reported;    /* gboolean per journal: its loss was reported by a check */
} world_journals;

/* "journal 'raftkv' of scenario 'x' (run 3, pickle 7, attempt 0) stopped recording: why" */
static char *loss_message(const world_journals *wj, tf_journal *j, const char *why)
{
    const tf_gherkin_pickle *p = tf_world_pickle(wj->world);
    return g_strdup_printf("journal '%s' of scenario '%s' (run %" G_GINT64_FORMAT
                           ", pickle %s, attempt %u) stopped recording: %s",
                           tf_journal_stream(j), wj->scenario, wj->run,
                           p && p->id && *p->id ? p->id : "?", wj->attempt, why);
}

/* Runs when the world ends, after the runtimes stored later were stopped and flushed:
 * every loss goes to stderr and into the store, and the execution is ended. */
static void world_journals_end(gpointer p)
{
    world_journals *wj = p;
    char *first = NULL;
    for (guint i = 0; i < wj->journals->len; i++) {
        tf_journal *j = g_ptr_array_index(wj->journals, i);
        char *why = tf_journal_failure(j);
        if (why) {
            char *msg = loss_message(wj, j, why);
            fprintf(stderr, "tf: store %s: %s\n", tf_store_path(wj->store), msg);
            if (!first)
                first = msg;
            else
                g_free(msg);
        }
        g_free(why);
    }
    GError *err = NULL;
    if (!tf_store_execution_end(wj->store, wj->execution, world_outcome(wj->world), first, &err)) {
        fprintf(stderr, "tf: %s\n", err->message);
        g_error_free(err);
    }
    g_free(first);
    g_ptr_array_unref(wj->journals);
    g_array_unref(wj->reported);
    tf_mutex_clear(&wj->lock);
    tf_store_unref(wj->store);
    g_free(wj->scenario);
    g_free(wj);
}

/* The world's execution, begun in the store on first use. NULL + error on failure. */
static world_journals *world_journals_get(tf_world *world, tf_store *s, GError **error)
{
    world_journals *wj = tf_world_get(world, WORLD_JOURNALS_KEY);
    if (wj)
        return wj;
    gint64 run;
    if (tf_world_run(world, &run, error) != TF_LOOKUP_FOUND)
        return NULL;
    const tf_gherkin_pickle *p = tf_world_pickle(world);
    const guint *attempt = tf_world_get(world, WORLD_ATTEMPT_KEY);
    tf_execution e = {.pickle = p ? p->id : "",
                      .attempt = attempt ? *attempt : 0,
                      .uri = p ? p->uri : "",
                      .line = p ? p->location.line : 0,
                      .name = p ? p->name : ""};
    gint64 id = tf_store_execution_begin(s, run, &e, error);
    if (!id)
        return NULL;
    wj = g_new0(world_journals, 1);
    wj->world = world;
    wj->store = tf_store_ref(s);
    wj->run = run;
    wj->execution = id;
    wj->attempt = e.attempt;
    wj->scenario = g_strdup(e.name ? e.name : "");
    tf_mutex_init(&wj->lock);
    wj->journals = g_ptr_array_new_with_free_func((GDestroyNotify)tf_journal_unref);
    wj->reported = g_array_new(FALSE, TRUE, sizeof(gboolean));
    tf_world_set(world, WORLD_JOURNALS_KEY, wj, world_journals_end);
    return wj;
}

/* stream, or stream#2, #3... when this world already journals one of that name. Lock held. */
static char *unique_name(world_journals *wj, const char *stream)
{
    char *name = g_strdup(stream);
    for (guint n = 2;; n++) {
        gboolean taken = FALSE;
        for (guint i = 0; i < wj->journals->len && !taken; i++)
            taken = !g_strcmp0(tf_journal_stream(g_ptr_array_index(wj->journals, i)), name);
        if (!taken)
            return name;
        g_free(name);
        name = g_strdup_printf("%s#%u", stream, n);
    }
}

tf_lookup tf_world_journal(tf_world *world, const char *stream, tf_journal **journal,
                           GError **error)
{
    *journal = NULL;
    tf_store *s;
    tf_lookup l = tf_world_store(world, &s, error);
    if (l != TF_LOOKUP_FOUND)
        return l;
    world_journals *wj = world_journals_get(world, s, error);
    if (!wj)
        return TF_LOOKUP_FAILED;
    tf_mutex_lock(&wj->lock);
    char *name = unique_name(wj, stream);
    tf_journal *j = tf_journal_open_execution(s, wj->execution, name, error);
    if (j) {
        g_ptr_array_add(wj->journals, tf_journal_ref(j));
        gboolean no = FALSE;
        g_array_append_val(wj->reported, no);
    }
    tf_mutex_unlock(&wj->lock);
    g_free(name);
    *journal = j;
    return j ? TF_LOOKUP_FOUND : TF_LOOKUP_FAILED;
}

gboolean tf_world_journal_runtime(tf_world *world, tf_runtime *rt, const char *stream,
                                  GError **error)
{
    tf_journal *j;
    switch (tf_world_journal(world, stream, &j, error)) {
    case TF_LOOKUP_ABSENT:
        return TRUE; /* durability is opt-in */
    case TF_LOOKUP_FAILED:
        return FALSE;
    case TF_LOOKUP_FOUND:
        break;
    }
    gboolean ok = tf_runtime_set_journal(rt, j, error);
    tf_journal_unref(j);
    return ok;
}

gboolean tf_world_journals_check(tf_world *world, GError **error)
{
    world_journals *wj = tf_world_get(world, WORLD_JOURNALS_KEY);
    if (!wj)
        return TRUE;
    GString *msg = NULL;
    tf_mutex_lock(&wj->lock);
    for (guint i = 0; i < wj->journals->len; i++) {
        gboolean *reported = &g_array_index(wj->reported, gboolean, i);
        char *why = *reported ? NULL : tf_journal_failure(g_ptr_array_index(wj->journals, i));
        if (!why)
            continue;
        *reported = TRUE;
        char *one = loss_message(wj, g_ptr_array_index(wj->journals, i), why);
        if (!msg)
            msg = g_string_new(NULL);
        g_string_append_printf(msg, "%s%s", msg->len ? "; " : "", one);
        g_free(one);
        g_free(why);
    }
    tf_mutex_unlock(&wj->lock);
    if (!msg)
        return TRUE;
    g_set_error(error, TF_ERROR, TF_ERROR_CORRUPT, "store %s: %s", tf_store_path(wj->store),
                msg->str);
    g_string_free(msg, TRUE);
    return FALSE;
}
