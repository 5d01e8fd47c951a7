/* cmd_history.c: `tf history`: reads the durable store's journal after (or during) a run.
 * `export` prints a run's event batches as NDJSON for other tools; `runs` lists the runs
 * the store remembers (or one run's scenario executions); `prune` applies a retention
 * now; `check` (cmd_check.c) checks client histories. export and runs only read: they
 * open the store read-only, so an archived store in a read-only place works. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_priv.h"
#include "tf/durable.h"

static const char history_usage[] =
    "usage: tf history export [--store PATH] [--run N] [--stream NAME]\n"
    "       tf history runs   [--store PATH] [--run N]\n"
    "       tf history prune  [--store PATH] [--keep-runs N] [--max-batches N] [--max-age SECONDS]\n"
    "       tf history check  --model register|kv FILE...  (see tf history check --help)\n"
    "  --store PATH       the store (default " TF_STORE_DEFAULT_PATH "); export and runs only\n"
    "                     read it (a read-only file or directory is fine)\n"
    "  --run N            export: the run to print (default: the latest);\n"
    "                     runs: list run N's scenario executions instead of the runs\n"
    "  --stream NAME      export only streams of this name: each scenario journals its\n"
    "                     observers as streams named after them (raftkv, chain, wallet)\n"
    "  --keep-runs N      prune: keep the journals of the newest N runs (default 20;\n"
    "                     0 = no limit: every run's journal is kept)\n"
    "  --max-batches N    prune: keep the newest N batches of each stream (default 0 = no limit)\n"
    "  --max-age SECONDS  prune: drop batches older than this (default 0 = no limit)\n"
    "export prints one batch a line: {\"run\",\"execution\",\"scenario\",\"pickle\",\"attempt\",\n"
    "\"stream\",\"seq\",\"cycle\",\"events\",\"wall_time\"} (execution..attempt: a scenario's "
    "streams)\n"
    "runs prints one run a line: {\"run\",\"label\",\"started\",\"ended\",\"status\",\"batches\",\n"
    "\"executions\",\"journal_errors\"}; with --run N one execution a line: {\"execution\",\n"
    "\"pickle\",\"attempt\",\"uri\",\"line\",\"scenario\",\"status\",\"journal_error\",\"streams\"}\n";

static gboolean parse_uint(const char *arg, gint64 *out)
{
    char *end = NULL;
    errno = 0;
    long long v = arg ? strtoll(arg, &end, 10) : -1;
    if (!arg || !*arg || *end || v < 0 || errno == ERANGE)
        return FALSE;
    *out = v;
    return TRUE;
}

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

static gboolean prune(tf_store *s, gint64 keep_runs, gint64 max_batches, gint64 max_age,
                      GError **error)
{
    tf_retention r = {.keep_runs = keep_runs >= 0 ? (guint)MIN(keep_runs, G_MAXUINT) : 20,
                      .max_batches = max_batches > 0 ? (guint64)max_batches : 0,
                      .max_age_us = max_age > 0 ? MIN(max_age, G_MAXINT64 / G_USEC_PER_SEC) *
                                                      G_USEC_PER_SEC
                                                : 0};
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

int tf_cmd_history(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "check"))
        return tf_cmd_history_check(argc - 1, argv + 1);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(history_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    const char *path = NULL, *stream = NULL;
    gint64 run = 0, keep_runs = -1, max_batches = -1, max_age = -1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        gboolean ok = TRUE;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(history_usage, stdout);
            return 0;
        } else if (!strcmp(a, "--store"))
            ok = (path = v) != NULL;
        else if (!strcmp(a, "--stream"))
            ok = (stream = v) != NULL;
        else if (!strcmp(a, "--run"))
            ok = parse_uint(v, &run);
        else if (!strcmp(a, "--keep-runs"))
            ok = parse_uint(v, &keep_runs);
        else if (!strcmp(a, "--max-batches"))
            ok = parse_uint(v, &max_batches);
        else if (!strcmp(a, "--max-age"))
            ok = parse_uint(v, &max_age);
        else
            ok = FALSE;
        if (!ok) {
            fprintf(stderr, "tf history: bad option '%s'%s\n%s", a,
                    v ? "" : " (missing value)", history_usage);
            return 2;
        }
        i++;
    }
    gboolean export = !strcmp(sub, "export"), runs = !strcmp(sub, "runs");
    if (!export && !runs && strcmp(sub, "prune")) {
        fprintf(stderr, "tf history: unknown subcommand '%s'\n%s", sub, history_usage);
        return 2;
    }
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
    gboolean ok = export  ? tf_store_export_journal(s, run, stream, stdout, &err) >= 0
                  : runs ? list_runs(s, run, &err)
                         : prune(s, keep_runs, max_batches, max_age, &err);
    if (!ok) {
        fprintf(stderr, "tf history %s: %s\n", sub, err->message);
        g_error_free(err);
    }
    tf_store_unref(s);
    return ok ? 0 : 1;
}
