/* cmd_history.c: `tf history`: reads the durable store's journal after (or during) a run.
 * `export` prints a run's event batches as NDJSON for other tools; `runs` lists the runs
 * the store remembers; `prune` applies a retention now. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "tf/durable.h"

static const char history_usage[] =
    "usage: tf history export [--store PATH] [--run N] [--stream NAME]\n"
    "       tf history runs   [--store PATH]\n"
    "       tf history prune  [--store PATH] [--keep-runs N] [--max-batches N]\n"
    "       tf history check  --model register|kv FILE...  (see tf history check --help)\n"
    "  --store PATH     the store (default " TF_STORE_DEFAULT_PATH ")\n"
    "  --run N          the run to export (default: the latest)\n"
    "  --stream NAME    only this journal stream (an observer's name)\n"
    "export prints one batch a line: {\"run\",\"stream\",\"seq\",\"cycle\",\"events\","
    "\"wall_time\"}\n";

static gboolean parse_uint(const char *arg, gint64 *out)
{
    char *end = NULL;
    long long v = arg ? strtoll(arg, &end, 10) : -1;
    if (!arg || !*arg || *end || v < 0)
        return FALSE;
    *out = v;
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
    gint64 run = 0, keep_runs = -1, max_batches = -1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        gboolean ok = TRUE;
        if (!strcmp(a, "--store"))
            ok = (path = v) != NULL;
        else if (!strcmp(a, "--stream"))
            ok = (stream = v) != NULL;
        else if (!strcmp(a, "--run"))
            ok = parse_uint(v, &run);
        else if (!strcmp(a, "--keep-runs"))
            ok = parse_uint(v, &keep_runs);
        else if (!strcmp(a, "--max-batches"))
            ok = parse_uint(v, &max_batches);
        else
            ok = FALSE;
        if (!ok) {
            fprintf(stderr, "tf history: bad option '%s'%s\n%s", a, v ? "" : " (missing value)",
                    history_usage);
            return 2;
        }
        i++;
    }
    if (strcmp(sub, "export") && strcmp(sub, "runs") && strcmp(sub, "prune")) {
        fprintf(stderr, "tf history: unknown subcommand '%s'\n%s", sub, history_usage);
        return 2;
    }
    if (!path && !g_file_test(TF_STORE_DEFAULT_PATH, G_FILE_TEST_EXISTS)) {
        fprintf(stderr, "tf history: no store at %s (give --store PATH)\n", TF_STORE_DEFAULT_PATH);
        return 1;
    }
    if (path && !g_file_test(path, G_FILE_TEST_EXISTS)) {
        fprintf(stderr, "tf history: no store at %s\n", path);
        return 1;
    }
    GError *err = NULL;
    tf_store *s = tf_store_open(path, &err);
    if (!s) {
        fprintf(stderr, "tf history: %s\n", err->message);
        g_error_free(err);
        return 1;
    }
    int code = 0;
    if (!strcmp(sub, "export")) {
        if (tf_store_export_journal(s, run, stream, stdout, &err) < 0)
            code = 1;
    } else if (!strcmp(sub, "runs")) {
        json_t *runs = tf_store_runs(s, &err);
        if (!runs)
            code = 1;
        for (size_t i = 0; runs && i < json_array_size(runs); i++) {
            char *line = json_dumps(json_array_get(runs, i), JSON_COMPACT | JSON_PRESERVE_ORDER);
            printf("%s\n", line);
            free(line);
        }
        json_decref(runs);
    } else {
        tf_retention r = {.keep_runs = keep_runs >= 0 ? (guint)keep_runs : 20,
                          .max_batches = max_batches > 0 ? (guint64)max_batches : 0};
        tf_store_set_retention(s, &r);
        gint64 n = tf_store_prune(s, &err);
        if (n < 0)
            code = 1;
        else
            printf("removed %" G_GINT64_FORMAT " batches\n", n);
    }
    if (err) {
        fprintf(stderr, "tf history %s: %s\n", sub, err->message);
        g_error_free(err);
    }
    tf_store_unref(s);
    return code;
}
