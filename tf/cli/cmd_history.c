/* cmd_history.c: `tf history`: reads the durable store's journal after (or during) a run.
 * `export` prints a run's event batches as NDJSON for other tools; `runs` lists the runs
 * the store remembers (or one run's scenario executions); `prune` applies a retention
 * now; `check` (cmd_check.c) checks client histories. export and runs only read: they
 * open the store read-only, so an archived store in a read-only place works. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_priv.h"
#include "runner/options.h"
#include "tf/durable.h"

typedef struct {
    const char *store; /* NULL: TF_STORE_DEFAULT_PATH */
    const char *stream;
    guint64 run, keep_runs, max_batches, max_age;
} history_args;

#define OPT(f) offsetof(history_args, f)
static const tf_opt history_opts[] = {
    {"store", 0, TF_OPT_TEXT, "PATH", "the store (default " TF_STORE_DEFAULT_PATH "); export and\n"
     "runs only read it (a read-only file or directory is fine)", OPT(store)},
    {"run", 0, TF_OPT_UINT, "N", "export: the run to print (default: the latest);\n"
     "runs: list run N's scenario executions instead of the runs", OPT(run), .max = G_MAXINT64},
    {"stream", 0, TF_OPT_TEXT, "NAME", "export only streams of this name: each scenario journals\n"
     "its observers as streams named after them (raftkv, chain, wallet)", OPT(stream)},
    {"keep-runs", 0, TF_OPT_UINT, "N", "prune: keep the journals of the newest N runs (default 20;\n"
     "0 = no limit: every run's journal is kept)", OPT(keep_runs), .max = G_MAXUINT},
    {"max-batches", 0, TF_OPT_UINT, "N", "prune: keep the newest N batches of each stream\n"
     "(default 0 = no limit)", OPT(max_batches), .max = G_MAXINT64},
    {"max-age", 0, TF_OPT_UINT, "SECONDS", "prune: drop batches older than this (default 0 = no\n"
     "limit)", OPT(max_age), .max = G_MAXINT64 / G_USEC_PER_SEC},
    {NULL},
};
#undef OPT

static const tf_opt_cmd history_cmd_template = {
    .prog = "tf history",
    .synopsis = "export [--store PATH] [--run N] [--stream NAME]\n"
                "       tf history runs   [--store PATH] [--run N]\n"
                "       tf history prune  [--store PATH] [--keep-runs N] [--max-batches N] "
                "[--max-age SECONDS]\n"
                "       tf history check  --model register|registers|kv FILE...  (see tf history check --help)",
    .epilogue =
        "export prints one batch a line: {\"run\",\"execution\",\"scenario\",\"pickle\",\"attempt\",\n"
        "\"stream\",\"seq\",\"cycle\",\"events\",\"wall_time\"} (execution..attempt: a scenario's "
        "streams)\n"
        "runs prints one run a line: {\"run\",\"label\",\"started\",\"ended\",\"status\",\"batches\",\n"
        "\"executions\",\"journal_errors\"}; with --run N one execution a line: {\"execution\",\n"
        "\"pickle\",\"attempt\",\"uri\",\"line\",\"scenario\",\"status\",\"journal_error\",\"streams\"}\n",
    .positional = TRUE,
};

static void print_lines(json_t *arr)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        char *line = json_dumps(json_array_get(arr, i), JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", line);
        free(line);
    }
}

/* TRUE when runs (tf_store_runs) holds run. */
static gboolean has_run(json_t *runs, gint64 run)
{
    for (size_t i = 0; i < json_array_size(runs); i++)
        if (json_integer_value(json_object_get(json_array_get(runs, i), "run")) == run)
            return TRUE;
    return FALSE;
}

static gboolean list_runs(tf_store *s, gint64 run, GError **error)
{
    json_t *runs = tf_store_runs(s, error);
    if (!runs)
        return FALSE;
    gboolean ok = TRUE;
    if (!run) {
        print_lines(runs);
    } else if (!has_run(runs, run)) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "store %s: no run %" G_GINT64_FORMAT,
                    tf_store_path(s), run);
        ok = FALSE;
    } else {
        json_t *execs = tf_store_executions(s, run, error);
        ok = execs != NULL;
        print_lines(execs);
        json_decref(execs);
    }
    json_decref(runs);
    return ok;
}

static gboolean prune(tf_store *s, const history_args *a, GError **error)
{
    tf_retention r = {.keep_runs = (guint)a->keep_runs, .max_batches = a->max_batches,
                      .max_age_us = (gint64)a->max_age * G_USEC_PER_SEC}; /* ranges: no overflow */
    tf_store_set_retention(s, &r);
    gint64 n = tf_store_prune(s, error);
    if (n < 0)
        return FALSE;
    GString *kept = g_string_new(NULL);
    if (r.keep_runs)
        g_string_append_printf(kept, "journals of the newest %u runs", r.keep_runs);
    else
        g_string_append(kept, "the journals of every run");
    if (r.max_batches)
        g_string_append_printf(kept, ", the newest %" G_GUINT64_FORMAT " batches of each stream",
                               r.max_batches);
    if (r.max_age_us)
        g_string_append_printf(kept, ", batches younger than %" G_GINT64_FORMAT " s",
                               r.max_age_us / G_USEC_PER_SEC);
    printf("removed %" G_GINT64_FORMAT " batches (kept: %s)\n", n, kept->str);
    g_string_free(kept, TRUE);
    return TRUE;
}

/* Parses argv into a and *sub; returns -1 to go on, else the exit code (usage printed). */
static int history_parse(int argc, char **argv, history_args *a, const char **sub)
{
    tf_opt_cmd cmd = history_cmd_template;
    cmd.groups[0] = (tf_opt_group){history_opts, a};
    GPtrArray *words = g_ptr_array_new();
    int code = tf_opt_parse_or_exit(&cmd, argc, argv, words);
    *sub = words->len ? g_ptr_array_index(words, 0) : NULL;
    if (code < 0 && words->len > 1)
        code = tf_opt_fail(&cmd, "one subcommand, not '%s' after '%s'",
                           (char *)g_ptr_array_index(words, 1), *sub);
    else if (code < 0 && !*sub)
        code = tf_opt_fail(&cmd, "no subcommand given");
    else if (code < 0 && strcmp(*sub, "export") && strcmp(*sub, "runs") && strcmp(*sub, "prune"))
        code = tf_opt_fail(&cmd, "unknown subcommand '%s'", *sub);
    g_ptr_array_unref(words);
    return code;
}

int tf_cmd_history(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "check"))
        return tf_cmd_history_check(argc - 1, argv + 1);
    history_args a = {.keep_runs = 20};
    const char *sub = NULL;
    int code = history_parse(argc, argv, &a, &sub);
    if (code >= 0)
        return code;
    const char *path = a.store, *stream = a.stream;
    gboolean export = !strcmp(sub, "export"), runs = !strcmp(sub, "runs");
    if (!path && !g_file_test(TF_STORE_DEFAULT_PATH, G_FILE_TEST_EXISTS)) {
        fprintf(stderr, "tf history: no store at %s (give --store PATH)\n", TF_STORE_DEFAULT_PATH);
        return 1;
    }
    if (path && *path && !g_file_test(path, G_FILE_TEST_EXISTS)) {
        fprintf(stderr, "tf history: no store at %s\n", path);
        return 1;
    }
    GError *err = NULL;
    tf_store *s = export || runs ? tf_store_open_readonly(path, &err) : tf_store_open(path, &err);
    if (!s) {
        fprintf(stderr, "tf history: %s\n", err->message);
        g_error_free(err);
        return 1;
    }
    gboolean ok = export  ? tf_store_export_journal(s, (gint64)a.run, stream, stdout, &err) >= 0
                  : runs ? list_runs(s, (gint64)a.run, &err)
                         : prune(s, &a, &err);
    if (!ok) {
        fprintf(stderr, "tf history %s: %s\n", sub, err->message);
        g_error_free(err);
    }
    tf_store_unref(s);
    return ok ? 0 : 1;
}
