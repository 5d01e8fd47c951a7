/* runner_main.c: tf_run_main, the `tf run` front end: its option table (options.c parses
 * it and writes --help from it; --plugin loads plug-ins here, so a user's runner takes it
 * too), reporters, SIGINT/SIGTERM handling (a sigwait thread turns a signal into an
 * interrupt of the step in flight) and the exit code. Which features and scenarios run is
 * feature_files.c's. */
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "option_value.h"
#include "plugin.h"
#include "runner_main.h"
#include "runner_priv.h"
#include "tf/durable.h"
#include "tf/handle.h"

void tf_exec_shutdown(tf_exec *e);

typedef struct {
    GPtrArray *paths;   /* tf_feature_arg*: PATH[:LINE] */
    GPtrArray *formats; /* const char *, borrowed */
    GPtrArray *names;   /* GRegex* */
    GPtrArray *modules; /* tf_plugin_init_fn: the caller's */
    tf_plugin_args plugins;
    char *tags;         /* every --tags, and-ed */
    int color;          /* -1 auto */
    const char *store;  /* --store PATH, or NULL */
    guint64 retry;
    guint64 parallel;   /* --parallel N */
    tf_shard shard;     /* --shard I/N; count 0: the whole suite */
    tf_run_options opts;
} cli_opts;

static gboolean opt_tags(const char *option, const char *value, void *field, GError **error)
{
    char **tags = field;
    char *t = *tags ? g_strdup_printf("(%s) and (%s)", *tags, value) : g_strdup(value);
    g_free(*tags);
    *tags = t;
    return TRUE;
}

static gboolean opt_name(const char *option, const char *value, void *field, GError **error)
{
    GRegex *re = g_regex_new(value, 0, 0, error);
    if (re)
        g_ptr_array_add(*(GPtrArray **)field, re);
    return re != NULL;
}

/* --order random shuffles by the run's seed (--seed, $TF_SEED, else drawn at start);
 * random:SEED sets that seed. seed_set marks a seed given on the command line. */
static gboolean opt_order(const char *option, const char *value, void *field, GError **error)
{
    tf_run_options *o = field;
    o->random = g_str_has_prefix(value, "random");
    if (!strcmp(value, "defined") || !strcmp(value, "random"))
        return TRUE;
    if (o->random && value[6] == ':') /* GRand takes a 32-bit seed: a wider one would alias */
        return (o->seed_set = tf_opt_parse_uint("--order: seed", value + 7, 0, G_MAXUINT32,
                                                &o->seed, error));
    g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "%s: '%s' is not defined|random[:SEED]",
                option, value);
    return FALSE;
}

static gboolean opt_seed(const char *option, const char *value, void *field, GError **error)
{
    tf_run_options *o = field;
    return (o->seed_set = tf_opt_parse_uint(option, value, 0, G_MAXUINT32, &o->seed, error));
}

static gboolean opt_shard(const char *option, const char *value, void *field, GError **error)
{
    return tf_shard_parse(value, field, error);
}

/* Sets TF_TIMEOUT_SCALE, which tf_timeout_scale() reads (waits, cluster readiness) and
 * workers inherit; the step timeout is scaled once the options are read. */
static gboolean scale_valid(const char *value)
{
    char *end = NULL;
    double f = g_ascii_strtod(value, &end);
    return *value && *end == '\0' && f >= TF_TIMEOUT_SCALE_MIN && f <= TF_TIMEOUT_SCALE_MAX;
}

static gboolean opt_timeout_scale(const char *option, const char *value, void *field,
                                  GError **error)
{
    if (!scale_valid(value)) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "%s: '%s' is not a number from %g to %g", option, value,
                    TF_TIMEOUT_SCALE_MIN, TF_TIMEOUT_SCALE_MAX);
        return FALSE;
    }
    g_setenv("TF_TIMEOUT_SCALE", value, TRUE); /* before any thread reads it */
    return TRUE;
}

#define OPT(field) offsetof(cli_opts, field)
static const tf_opt run_opts[] = {
    {"tags", 't', TF_OPT_CALL, "EXPR", "only scenarios whose tags match ('@smoke and not @slow');\n"
     "several are and-ed", OPT(tags), .call = opt_tags, .repeatable = TRUE},
    {"name", 'n', TF_OPT_CALL, "REGEX", "only scenarios whose name matches; one match of several\n"
     "suffices", OPT(names), .call = opt_name, .repeatable = TRUE},
    {"dry-run", 'd', TF_OPT_FLAG, NULL, "match steps without running them (undefined steps still\n"
     "reported)", OPT(opts.dry_run), 1},
    {"fail-fast", 0, TF_OPT_FLAG, NULL, "stop after the first failing scenario", OPT(opts.fail_fast), 1},
    {"retry", 0, TF_OPT_UINT, "N", "run a failing scenario up to N more times (0 to 4294967295)",
     OPT(retry), .max = G_MAXUINT},
    {"order", 0, TF_OPT_CALL, "defined|random[:SEED]", "the scenarios' order (default: defined;\n"
     "random: shuffled by the run's seed)", OPT(opts), .call = opt_order},
    {"seed", 0, TF_OPT_CALL, "N", "the run's seed (0 to 4294967295; default $TF_SEED, else\n"
     "random; printed on stderr when the run is random or first\nuses it): it drives scenario "
     "order, workloads and nemeses,\nso a run replays", OPT(opts), .call = opt_seed},
    {"strict", 0, TF_OPT_FLAG, NULL, "undefined and pending steps fail the run (default)",
     OPT(opts.strict), 1},
    {"no-strict", 0, TF_OPT_FLAG, NULL, "undefined and pending steps do not fail the run",
     OPT(opts.strict), 0},
    {"step-timeout", 0, TF_OPT_SECONDS, "S", "seconds a step or hook may take: 30, 2.5, 500ms, up\n"
     "to a year (default 60; 0: none)", OPT(opts.step_timeout_us)},
    {"timeout-scale", 0, TF_OPT_CALL, "F", "multiply every step timeout and wait timeout by F\n"
     "(0.01 to 1000; default $TF_TIMEOUT_SCALE, else 1): for\nloaded machines and many workers",
     .call = opt_timeout_scale},
    {"parallel", 'j', TF_OPT_UINT, "N", "run scenarios in N worker processes side by side (1 to\n"
     "64; default 1); @serial scenarios run alone", OPT(parallel), .min = 1, .max = 64},
    {"shard", 0, TF_OPT_CALL, "I/N", "only shard I of N (0 <= I < N): a stable split of the\n"
     "scenarios by file, line and name, for N CI jobs", OPT(shard), .call = opt_shard},
    {"store", 0, TF_OPT_TEXT, "PATH", "keep this run, its observers' event journals and effect\n"
     "claims in a SQLite store (default: $TF_STORE; none without\neither; created with its "
     "missing directories)", OPT(store)},
    {"format", 'f', TF_OPT_TEXTS, "FMT[:FILE]", "pretty|progress|summary|junit|message, to stdout or\n"
     "FILE (default: pretty)", OPT(formats)},
    {"color", 0, TF_OPT_FLAG, NULL, "colours even off a terminal", OPT(color), 1},
    {"no-color", 0, TF_OPT_FLAG, NULL, "no colours (also: NO_COLOR in the environment)", OPT(color), 0},
    {NULL},
};
#undef OPT

static const char run_preamble[] =
    "  PATH                     a .feature file or a directory searched for them (default:\n"
    "                           features)\n"
    "  PATH:LINE                only what LINE lies in: a scenario (any of its lines), an\n"
    "                           example row or table, a rule, a background (its scenarios)\n"
    "                           or the feature header; a line between blocks is an error\n"
    "                           (several :LINE allowed)\n";

static const char run_epilogue[] =
    "exit: 0 all passed, 1 failures, 2 usage or parse errors, 130 interrupted\n";

/* The command tf_run_main parses for: its options, then ext's. */
static tf_opt_cmd run_command(const char *argv0, const tf_run_ext *ext, cli_opts *o)
{
    tf_opt_cmd cmd = {.synopsis = "[OPTIONS] [PATH[:LINE]...]", .preamble = run_preamble,
                      .epilogue = run_epilogue, .positional = TRUE};
    cmd.groups[0] = (tf_opt_group){run_opts, o};
    cmd.groups[1] = (tf_opt_group){ext && ext->bundled ? tf_plugin_bundled_opts : tf_plugin_opts,
                                   &o->plugins};
    cmd.prog = ext && ext->prog ? ext->prog : argv0;
    if (ext)
        cmd.groups[2] = ext->extra;
    return cmd;
}

static void cli_opts_init(cli_opts *o, const tf_plugin_init_fn *modules, guint n_modules)
{
    o->paths = g_ptr_array_new_with_free_func((GDestroyNotify)tf_feature_arg_free);
    o->formats = g_ptr_array_new();
    o->names = g_ptr_array_new_with_free_func((GDestroyNotify)g_regex_unref);
    o->modules = g_ptr_array_new();
    for (guint i = 0; i < n_modules; i++)
        g_ptr_array_add(o->modules, (gpointer)modules[i]);
    tf_plugin_args_init(&o->plugins);
    o->opts.strict = TRUE;
    o->opts.step_timeout_us = 60 * G_USEC_PER_SEC;
    o->color = -1;
    o->parallel = 1;
}

static void cli_opts_clear(cli_opts *o)
{
    g_ptr_array_unref(o->paths);
    g_ptr_array_unref(o->formats);
    g_ptr_array_unref(o->names);
    g_ptr_array_unref(o->modules);
    tf_plugin_args_clear(&o->plugins);
    g_free(o->tags);
}

/* ---- signals ---- */

typedef struct {
    pthread_t thread;
    sigset_t set, old;
    tf_exec *exec;
    volatile gint stopping;
    volatile gint signals; /* how many arrived (a parallel run forwards each) */
    gboolean quiet;        /* a worker: its parent has said it */
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
        if (!s->quiet)
            fprintf(stderr, "\ntf: %s: interrupting the run (After hooks and cleanups still "
                            "run; send it again to cut those short)\n",
                    sig == SIGINT ? "SIGINT" : "SIGTERM");
        g_atomic_int_inc(&s->signals);
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
static gboolean close_store(const char *prog, tf_store *store, gint64 run, int code)
{
    const char *status = code == TF_RUN_EXIT_INTERRUPTED ? "interrupted"
                         : code == TF_RUN_EXIT_PASSED    ? "passed"
                                                         : "failed";
    GError *err = NULL;
    if (tf_store_run_end(store, run, status, &err) && tf_store_flush(store, &err))
        return TRUE;
    fprintf(stderr, "%s: %s\n", prog, err->message); /* store errors name the store */
    g_error_free(err);
    return FALSE;
}

/* One tf_run_main call: its options and everything it opened. */
typedef struct {
    cli_opts o;
    tf_opt_cmd cmd;
    const tf_run_ext *ext; /* borrowed, or NULL */
    char *argv0;
    tf_registry *reg;
    tf_tag_matcher *tags;
    tf_gherkin_id_gen *ids;
    GPtrArray *features;  /* tf_run_feature* */
    tf_report_bus *reports;
    tf_store *store;
    gint64 store_run;
    gboolean tell_seed; /* print the seed at the start (given, or the order is random) */
    char **argv;             /* the arguments parsed: worker_argv */
    char **worker_argv;      /* a copy of them, or a worker's: the parent's (owned) */
    gboolean worker;         /* a worker process of a parallel run (TF_WORKER_ENV) */
    tf_worker_config worker_cfg;
} run_main;

/* Parses argv; returns -1 to go on, else the exit code (usage printed). */
static int run_main_parse(run_main *m, int argc, char **argv, const tf_run_ext *ext)
{
    m->argv0 = g_path_get_basename(argc > 0 ? argv[0] : "tf-run");
    m->cmd = run_command(m->argv0, ext, &m->o);
    GPtrArray *paths = g_ptr_array_new();
    int code = tf_opt_parse_or_exit(&m->cmd, argc, argv, paths);
    const char *scale = g_getenv("TF_TIMEOUT_SCALE");
    if (code < 0 && scale && !scale_valid(scale))
        code = tf_opt_fail(&m->cmd, "TF_TIMEOUT_SCALE: '%s' is not a number from %g to %g",
                           scale, TF_TIMEOUT_SCALE_MIN, TF_TIMEOUT_SCALE_MAX);
    m->o.opts.retry = (guint)m->o.retry;
    m->o.opts.parallel = (guint)m->o.parallel;
    if (m->o.opts.step_timeout_us > 0) /* TF_TIMEOUT_SCALE, set by now if ever */
        m->o.opts.step_timeout_us = tf_timeout_scaled(m->o.opts.step_timeout_us);
    if (code < 0 && paths->len == 0)
        g_ptr_array_add(paths, "features");
    for (guint i = 0; code < 0 && i < paths->len; i++) {
        GError *error = NULL;
        tf_feature_arg *a = tf_feature_arg_parse(g_ptr_array_index(paths, i), &error);
        if (!a) {
            code = tf_opt_fail(&m->cmd, "%s", error->message);
            g_error_free(error);
        } else {
            g_ptr_array_add(m->o.paths, a);
        }
    }
    g_ptr_array_unref(paths);
    return code;
}

/* Registers the modules, loads the features, opens the reporters and the store. */
static gboolean run_main_open(run_main *m, GError **error)
{
    cli_opts *o = &m->o;
    if (o->tags && !(m->tags = tf_tag_matcher_new(o->tags, error)))
        return FALSE;
    m->reg = tf_registry_new();
    for (guint i = 0; i < o->modules->len; i++)
        if (!tf_registry_add_module(m->reg, g_ptr_array_index(o->modules, i), error))
            return FALSE;
    if (!tf_plugins_register(m->reg, m->ext ? m->ext->bundled : NULL, &o->plugins, error))
        return FALSE;
    m->ids = tf_gherkin_id_gen_new();
    tf_feature_filter filter = {.tags = m->tags, .names = o->names};
    if (!(m->features = tf_features_load(o->paths, m->ids, &filter, error)))
        return FALSE;
    if (o->shard.count)
        tf_shard_select(m->features, &o->shard);
    if (m->worker) { /* the parent reports, and has begun the store's run */
        o->opts.seed = m->worker_cfg.seed;
        const char *store_path = o->store ? o->store : g_getenv("TF_STORE");
        m->store_run = m->worker_cfg.store_run;
        return !m->store_run || (m->store = tf_store_open(store_path, error)) != NULL;
    }
    if (o->formats->len == 0)
        g_ptr_array_add(o->formats, "pretty");
    for (guint i = 0; i < o->formats->len; i++) {
        if (!tf_report_bus_open(m->reports, g_ptr_array_index(o->formats, i), o->color, error))
            return FALSE;
    }
    /* One seed for the run: order, workloads and nemeses derive from it. It is told at
     * the start when it was given or orders the run, else when a scenario first asks for
     * it (tf_world_seed): a run without randomness prints nothing. */
    gboolean from_env = FALSE;
    if (!o->opts.seed_set && !tf_run_seed_from_env(&o->opts.seed, &from_env, error))
        return FALSE;
    m->tell_seed = o->opts.seed_set || from_env || o->opts.random;
    o->opts.seed_set = TRUE;
    /* An empty TF_STORE means none; an empty --store is an error (tf_store_open says so). */
    const char *store_path = o->store ? o->store : g_getenv("TF_STORE");
    return !store_path || (!*store_path && !o->store) ||
           open_store(&m->store, &m->store_run, store_path, error);
}

/* The run's sink: the reporters, then the tap. */
static void run_main_sink(void *data, const tf_event *ev)
{
    run_main *m = data;
    tf_report_bus_emit(m->reports, ev);
    if (m->ext && m->ext->tap)
        m->ext->tap(m->ext->tap_data, ev);
}

/* Runs the features with SIGINT/SIGTERM turned into interrupts; the exit code. */
static int run_main_execute(run_main *m)
{
    tf_run run = {.reg = m->reg, .opts = m->o.opts, .ids = m->ids, .sink = run_main_sink,
                  .sink_data = m, .store = m->store, .store_run = m->store_run,
                  .on_waiting = tf_report_bus_waiting, .on_waiting_data = m->reports,
                  .main_argv = m->argv};
    if (m->tell_seed)
        tf_run_tell_seed(&run);
    run.exec = tf_exec_new();
    sig_watch sw = {.quiet = m->worker};
    run.signals = &sw.signals;
    sig_start(&sw, run.exec);
    int worker_code = 0;
    if (m->worker) {
        worker_code = tf_worker_serve(&run, m->features, &m->worker_cfg);
    } else if (run.opts.parallel > 1 && !run.opts.dry_run) {
        tf_parallel_execute(&run, m->features);
    } else {
        tf_exec_set_wait_listener(run.exec, tf_report_bus_waiting, m->reports);
        tf_run_execute(&run, m->features);
    }
    sig_stop(&sw);
    tf_exec_set_wait_listener(run.exec, NULL, NULL);
    tf_exec_shutdown(run.exec);
    tf_exec_unref(run.exec);
    if (run.cases)
        g_ptr_array_unref(run.cases);
    if (m->worker) { /* its journals must be on disk before the parent ends the run */
        GError *err = NULL;
        if (m->store && !tf_store_flush(m->store, &err)) {
            fprintf(stderr, "%s: %s\n", m->cmd.prog, err->message);
            g_error_free(err);
            worker_code = TF_RUN_EXIT_FAILED;
        }
        return worker_code;
    }
    int code = run.interrupted ? TF_RUN_EXIT_INTERRUPTED
               : run.success   ? TF_RUN_EXIT_PASSED
                               : TF_RUN_EXIT_FAILED;
    if (m->store && !close_store(m->cmd.prog, m->store, m->store_run, code))
        code = code == TF_RUN_EXIT_PASSED ? TF_RUN_EXIT_FAILED : code;
    return code;
}

/* Closes the reporters (a failed write fails a passed run) and frees everything. */
static int run_main_close(run_main *m, int code)
{
    if (!tf_report_bus_close(m->reports, m->cmd.prog) && code == TF_RUN_EXIT_PASSED)
        code = TF_RUN_EXIT_FAILED;
    tf_report_bus_free(m->reports);
    if (m->features)
        g_ptr_array_unref(m->features);
    tf_gherkin_id_gen_free(m->ids);
    tf_tag_matcher_free(m->tags);
    tf_registry_free(m->reg);
    if (m->store)
        tf_store_unref(m->store);
    cli_opts_clear(&m->o);
    g_free(m->argv0);
    g_strfreev(m->worker_argv);
    return code;
}

int tf_run_main_ext(int argc, char **argv, const tf_plugin_init_fn *modules, guint n_modules,
                    const tf_run_ext *ext)
{
    run_main m = {.reports = tf_report_bus_new(), .ext = ext};
    cli_opts_init(&m.o, modules, n_modules);
    const char *worker = g_getenv(TF_WORKER_ENV);
    if (worker) {
        tf_worker_config *c = &m.worker_cfg;
        m.worker = sscanf(worker, "%d %u %" G_GINT64_FORMAT " %" G_GUINT64_FORMAT, &c->fd,
                          &c->serial, &c->store_run, &c->seed) == 4;
        GError *e = NULL;
        if (!m.worker) {
            fprintf(stderr, "tf: %s='%s' is not 'FD SERIAL STORE_RUN SEED'\n", TF_WORKER_ENV,
                    worker);
            return TF_RUN_EXIT_USAGE;
        }
        g_unsetenv(TF_WORKER_ENV); /* nothing a step starts is a worker */
        if (!(m.worker_argv = tf_worker_read_argv(c->fd, &e))) {
            fprintf(stderr, "tf: %s\n", e->message);
            g_error_free(e);
            return TF_RUN_EXIT_USAGE;
        }
        argv = m.worker_argv; /* the parent's arguments, whatever this call was given */
        argc = (int)g_strv_length(argv);
    } else { /* kept NULL-terminated for the workers of a parallel run */
        m.worker_argv = g_new0(char *, argc + 1);
        for (int i = 0; i < argc; i++)
            m.worker_argv[i] = g_strdup(argv[i]);
    }
    m.argv = m.worker_argv;
    int code = run_main_parse(&m, argc, argv, ext);
    if (code < 0) {
        GError *error = NULL;
        if (run_main_open(&m, &error)) {
            code = run_main_execute(&m);
        } else {
            fprintf(stderr, "%s: %s\n", m.cmd.prog, error->message);
            g_error_free(error);
            code = TF_RUN_EXIT_USAGE;
        }
    }
    return run_main_close(&m, code);
}

int tf_run_main(int argc, char **argv, const tf_plugin_init_fn *modules, guint n_modules)
{
    return tf_run_main_ext(argc, argv, modules, n_modules, NULL);
}
