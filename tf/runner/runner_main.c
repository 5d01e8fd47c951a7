/* runner_main.c: tf_run_main, the `tf run` front end: options, reporters, SIGINT/SIGTERM
 * handling (a sigwait thread turns a signal into an interrupt of the step in flight) and
 * the exit code. Which features and scenarios run is feature_files.c's. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "option_value.h"
#include "runner_priv.h"
#include "tf/durable.h"

void tf_exec_shutdown(tf_exec *e);

static const char usage_text[] =
    "usage: tf run [OPTIONS] [PATH[:LINE]...]\n"
    "  PATH                 a .feature file or a directory searched for them (default: features)\n"
    "  PATH:LINE            only what LINE lies in: a scenario (any of its lines), an example\n"
    "                       row or table, a rule, a background (its scenarios) or the feature\n"
    "                       header; a line between blocks is an error (several :LINE allowed)\n"
    "  -t, --tags EXPR      only scenarios whose tags match (e.g. '@smoke and not @slow')\n"
    "  -n, --name REGEX     only scenarios whose name matches (repeatable)\n"
    "  -d, --dry-run        match steps without running them (undefined steps still reported)\n"
    "      --fail-fast      stop after the first failing scenario\n"
    "      --retry N        run a failing scenario up to N more times\n"
    "      --order defined|random[:SEED]\n"
    "      --strict         undefined and pending steps fail the run (default)\n"
    "      --no-strict      undefined and pending steps do not fail the run\n"
    "      --step-timeout S seconds a step or hook may take: 30, 2.5, 500ms, up to a year\n"
    "                       (default 60; 0: none)\n"
    "      --store PATH     keep this run, its observers' event journals and effect claims in\n"
    "                       a SQLite store (default: $TF_STORE; none without either;\n"
    "                       created with its missing directories)\n"
    "  -f, --format FMT[:FILE]  pretty|progress|summary|junit|message (repeatable)\n"
    "      --color, --no-color  force or disable colours (default: on a terminal)\n"
    "      --plugin FILE.so load step definitions from a plug-in (tf run only)\n"
    "      --env ENV        local (default), compose or k8s: where Given steps find clusters\n"
    "                       (tf run only; sets TF_ENV)\n"
    "exit: 0 all passed, 1 failures, 2 usage or parse errors, 130 interrupted\n";

const char *tf_run_usage(void) { return usage_text; }

typedef struct {
    GPtrArray *paths; /* tf_feature_arg* */
    GPtrArray *formats;
    GPtrArray *names; /* GRegex* */
    char *tags;
    int color; /* -1 auto */
    char *store; /* --store PATH, or NULL */
    tf_run_options opts;
} cli_opts;

static int parse_args(int argc, char **argv, cli_opts *o, GError **error)
{
    o->opts.strict = TRUE;
    o->opts.step_timeout_us = 60 * G_USEC_PER_SEC;
    o->color = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
#define TAKE(name)                                                                          \
    (!strcmp(a, name) ? (i + 1 < argc ? (val = argv[++i]) != NULL                           \
                                      : (g_set_error(error, TF_ERROR, TF_ERROR_INVALID,     \
                                                     "%s needs a value", name),             \
                                         FALSE))                                            \
                      : (g_str_has_prefix(a, name "=") ? (val = a + strlen(name) + 1) != NULL \
                                                       : FALSE))
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return 1;
        else if (TAKE("--tags") || TAKE("-t")) {
            if (o->tags) {
                char *t = g_strdup_printf("(%s) and (%s)", o->tags, val);
                g_free(o->tags);
                o->tags = t;
            } else {
                o->tags = g_strdup(val);
            }
        } else if (TAKE("--name") || TAKE("-n")) {
            GRegex *re = g_regex_new(val, 0, 0, error);
            if (!re)
                return -1;
            g_ptr_array_add(o->names, re);
        } else if (!strcmp(a, "--dry-run") || !strcmp(a, "-d"))
            o->opts.dry_run = TRUE;
        else if (!strcmp(a, "--fail-fast"))
            o->opts.fail_fast = TRUE;
        else if (!strcmp(a, "--strict"))
            o->opts.strict = TRUE;
        else if (!strcmp(a, "--no-strict"))
            o->opts.strict = FALSE;
        else if (!strcmp(a, "--color"))
            o->color = 1;
        else if (!strcmp(a, "--no-color"))
            o->color = 0;
        else if (TAKE("--retry")) {
            guint64 n = 0;
            if (!tf_opt_parse_uint("--retry", val, 0, G_MAXUINT, &n, error))
                return -1;
            o->opts.retry = (guint)n;
        } else if (TAKE("--order")) {
            if (!strcmp(val, "defined")) {
                o->opts.random = FALSE;
            } else if (g_str_has_prefix(val, "random")) {
                o->opts.random = TRUE;
                if (val[6] == ':') {
                    /* GRand takes a 32-bit seed: a wider one would alias another. */
                    if (!tf_opt_parse_uint("--order: seed", val + 7, 0, G_MAXUINT32,
                                           &o->opts.seed, error))
                        return -1;
                } else if (val[6]) {
                    g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "--order: '%s' is not defined|random[:SEED]", val);
                    return -1;
                } else {
                    o->opts.seed = (guint64)g_random_int_range(1, G_MAXINT32);
                }
            } else {
                g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "--order: '%s' is not defined|random[:SEED]", val);
                return -1;
            }
        } else if (TAKE("--step-timeout")) {
            if (!tf_opt_parse_seconds("--step-timeout", val, &o->opts.step_timeout_us, error))
                return -1;
        } else if (TAKE("--store")) {
            g_free(o->store);
            o->store = g_strdup(val);
        } else if (TAKE("--format") || TAKE("-f")) {
            g_ptr_array_add(o->formats, g_strdup(val));
        } else if (a[0] == '-' && a[1]) {
            if (!*error)
                g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "unknown option '%s'", a);
            return -1;
        } else {
            tf_feature_arg *pa = tf_feature_arg_parse(a, error);
            if (!pa)
                return -1;
            g_ptr_array_add(o->paths, pa);
        }
        if (*error)
            return -1;
#undef TAKE
    }
    return 0;
}

/* ---- signals ---- */

typedef struct {
    pthread_t thread;
    sigset_t set, old;
    tf_exec *exec;
    volatile gint stopping;
} sig_watch;

static void *sig_main(void *data)
{
    sig_watch *s = data;
    for (;;) {
        int sig = 0;
        if (sigwait(&s->set, &sig) != 0)
            continue;
        if (g_atomic_int_get(&s->stopping))
            break;
        fprintf(stderr, "\ntf: %s: interrupting the run (After hooks and cleanups still run; "
                        "send it again to cut those short)\n",
                sig == SIGINT ? "SIGINT" : "SIGTERM");
        tf_exec_interrupt(s->exec);
    }
    return NULL;
}

static void sig_start(sig_watch *s, tf_exec *exec)
{
    s->exec = exec;
    sigemptyset(&s->set);
    sigaddset(&s->set, SIGINT);
    sigaddset(&s->set, SIGTERM);
    /* Blocked here, inherited by every worker: only the sigwait thread sees them. */
    pthread_sigmask(SIG_BLOCK, &s->set, &s->old);
    pthread_create(&s->thread, NULL, sig_main, s);
}

static void sig_stop(sig_watch *s)
{
    g_atomic_int_set(&s->stopping, 1);
    pthread_kill(s->thread, SIGTERM);
    pthread_join(s->thread, NULL);
    pthread_sigmask(SIG_SETMASK, &s->old, NULL);
}

static void on_wait(void *data, const char *what, const char *progress, gint64 elapsed_us,
                    gint64 timeout_us)
{
    GPtrArray *reporters = data;
    for (guint i = 0; i < reporters->len; i++) {
        tf_reporter *r = g_ptr_array_index(reporters, i);
        if (r->waiting)
            r->waiting(r, what, progress, elapsed_us, timeout_us);
    }
}

/* ---- main ---- */

/* Opens the store and begins this run in it: every scenario's world carries both, so
 * its observers journal into one run and its effects take claims there. */
static gboolean open_store(tf_store **store, gint64 *run, const char *path, GError **error)
{
    *store = tf_store_open(path, error);
    if (!*store)
        return FALSE;
    *run = tf_store_run_begin(*store, "tf run", error);
    return *run > 0;
}

/* Ends the run with the exit status and flushes; FALSE (after saying why) on failure. */
static gboolean close_store(tf_store *store, gint64 run, int code)
{
    const char *status = code == TF_RUN_EXIT_INTERRUPTED ? "interrupted"
                         : code == TF_RUN_EXIT_PASSED    ? "passed"
                                                         : "failed";
    GError *err = NULL;
    if (tf_store_run_end(store, run, status, &err) && tf_store_flush(store, &err))
        return TRUE;
    fprintf(stderr, "tf run: %s\n", err->message); /* store errors name the store */
    g_error_free(err);
    return FALSE;
}

int tf_run_main(int argc, char **argv, const tf_plugin_init_fn *modules, guint n_modules)
{
    cli_opts o = {0};
    o.paths = g_ptr_array_new_with_free_func((GDestroyNotify)tf_feature_arg_free);
    o.formats = g_ptr_array_new_with_free_func(g_free);
    o.names = g_ptr_array_new_with_free_func((GDestroyNotify)g_regex_unref);
    GError *error = NULL;
    int code = TF_RUN_EXIT_USAGE;
    tf_registry *reg = NULL;
    tf_tag_matcher *tags = NULL;
    tf_gherkin_id_gen *ids = NULL;
    GPtrArray *features = NULL;
    GPtrArray *reporters = g_ptr_array_new();
    tf_store *store = NULL;
    gint64 store_run = 0;

    int pr = parse_args(argc, argv, &o, &error);
    if (pr == 1) {
        fputs(usage_text, stdout);
        code = TF_RUN_EXIT_PASSED;
        goto out;
    }
    if (pr < 0)
        goto out;
    if (o.tags && !(tags = tf_tag_matcher_new(o.tags, &error)))
        goto out;
    reg = tf_registry_new();
    for (guint i = 0; i < n_modules; i++)
        if (!modules[i](reg, &error))
            goto out;
    ids = tf_gherkin_id_gen_new();
    if (o.paths->len == 0)
        g_ptr_array_add(o.paths, tf_feature_arg_parse("features", NULL));
    tf_feature_filter filter = {.tags = tags, .names = o.names};
    features = tf_features_load(o.paths, ids, &filter, &error);
    if (!features)
        goto out;
    if (o.formats->len == 0)
        g_ptr_array_add(o.formats, g_strdup("pretty"));
    gboolean want_env = FALSE;
    for (guint i = 0; i < o.formats->len; i++) {
        tf_reporter *r = tf_reporter_open(g_ptr_array_index(o.formats, i), o.color, &error);
        if (!r)
            goto out;
        want_env |= r->wants_envelopes;
        g_ptr_array_add(reporters, r);
    }
    if (o.opts.random)
        fprintf(stderr, "tf: random order, seed %" G_GUINT64_FORMAT
                        " (repeat with --order random:%" G_GUINT64_FORMAT ")\n",
                o.opts.seed, o.opts.seed);

    const char *store_path = o.store ? o.store : g_getenv("TF_STORE");
    /* An empty TF_STORE means none; an empty --store is an error (tf_store_open says so). */
    if (store_path && (*store_path || o.store) &&
        !open_store(&store, &store_run, store_path, &error))
        goto out;

    tf_run run = {.reg = reg, .opts = o.opts, .ids = ids, .reporters = reporters,
                  .want_env = want_env, .store = store, .store_run = store_run};
    run.exec = tf_exec_new();
    tf_exec_set_wait_listener(run.exec, on_wait, reporters);
    sig_watch sw = {0};
    sig_start(&sw, run.exec);
    tf_run_execute(&run, features);
    sig_stop(&sw);
    tf_exec_set_wait_listener(run.exec, NULL, NULL);
    tf_exec_shutdown(run.exec);
    tf_exec_unref(run.exec);
    if (run.cases)
        g_ptr_array_unref(run.cases);

    code = run.stats.interrupted ? TF_RUN_EXIT_INTERRUPTED
           : run.stats.success   ? TF_RUN_EXIT_PASSED
                                 : TF_RUN_EXIT_FAILED;
    if (store && !close_store(store, store_run, code))
        code = code == TF_RUN_EXIT_PASSED ? TF_RUN_EXIT_FAILED : code;
out:
    for (guint i = 0; i < reporters->len; i++) {
        tf_reporter *r = g_ptr_array_index(reporters, i);
        GError *e = NULL;
        if (!r->close(r, &e)) {
            fprintf(stderr, "tf run: %s\n", e->message);
            g_error_free(e);
            if (code == TF_RUN_EXIT_PASSED)
                code = TF_RUN_EXIT_FAILED;
        }
        r->free(r);
    }
    g_ptr_array_unref(reporters);
    if (error) {
        fprintf(stderr, "tf run: %s\n", error->message);
        if (pr < 0)
            fprintf(stderr, "%s", usage_text);
        g_error_free(error);
    }
    if (features)
        g_ptr_array_unref(features);
    tf_gherkin_id_gen_free(ids);
    tf_tag_matcher_free(tags);
    tf_registry_free(reg);
    g_ptr_array_unref(o.paths);
    g_ptr_array_unref(o.formats);
    g_free(o.store);
    if (store)
        tf_store_unref(store);
    g_ptr_array_unref(o.names);
    g_free(o.tags);
    return code;
}
