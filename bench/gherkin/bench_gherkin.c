/* bench_gherkin.c: parses a generated ~10 MB feature corpus with tf's Gherkin parser and
 * prints MB/s; when node/npm exist it installs @cucumber/gherkin into bench/gherkin
 * (node_modules, gitignored) and times the official parser on the same files in the
 * same run, printing its MB/s and the ratio. Figures only, never pass/fail. */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include "tf/gherkin.h"

#define TARGET_BYTES (10u * 1024 * 1024)

/* One generated feature exercising the whole grammar (tags, rule, background,
 * outlines, tables, doc strings, comments, descriptions). */
static void gen_feature(GString *s, int n)
{
    g_string_append_printf(s, "@bench @file_%d\nFeature: generated feature %d\n"
                              "  As a benchmark I describe\n  the feature over two lines.\n\n"
                              "  Background:\n    Given a cluster of %d nodes\n    And the leader is elected\n\n",
                           n, n, 3 + n % 5);
    for (int r = 0; r < 3; r++) {
        g_string_append_printf(s, "  @rule_%d\n  Rule: rule %d of %d\n\n", r, r, n);
        for (int k = 0; k < 6; k++) {
            g_string_append_printf(s, "    # scenario %d\n    @smoke @id_%d_%d\n    Scenario: writes %d-%d survive\n"
                                      "      Given the key \"k%d\" is set to \"%d\"\n"
                                      "      When node %d is killed\n      And 2 seconds pass\n"
                                      "      Then every node reports:\n"
                                      "        | node | key  | value |\n        | n1   | k%d  | %d    |\n"
                                      "        | n2   | k%d  | %d    |\n        | n3   | k\\|x | %d    |\n\n",
                                   n, r, k, r, k, k, n, k % 3, k, n, k, n, n);
        }
        g_string_append_printf(s, "    Scenario Outline: outline <a> in rule %d\n      Given a value <a>\n"
                                  "      When it is doubled\n      Then the log says:\n        \"\"\"json\n"
                                  "        {\"a\": <a>, \"b\": \"<b>\"}\n        \"\"\"\n\n"
                                  "      @fast\n      Examples: small\n        | a | b   |\n        | 1 | one |\n"
                                  "        | 2 | two |\n\n      Examples: big\n        | a    | b    |\n"
                                  "        | 1000 | many |\n\n", r);
    }
}

static double now(void)
{
    return g_get_monotonic_time() / 1e6;
}

/* Runs argv, returns its stdout (NULL on failure); no shell involved. */
static char *run(char **argv, const char *cwd)
{
    char *out = NULL, *err = NULL;
    int status = 0;
    if (!g_spawn_sync(cwd, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, NULL)) {
        g_free(out);
        g_free(err);
        return NULL;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        fprintf(stderr, "%s failed: %s\n", argv[0], err ? err : "");
        g_free(out);
        out = NULL;
    }
    g_free(err);
    return out;
}

int main(void)
{
    char *dir = g_dir_make_tmp("tf-bench-gherkin-XXXXXX", NULL);
    if (!dir)
        return 1;
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *datas = g_ptr_array_new_with_free_func(g_free);
    gsize total = 0;
    for (int n = 0; total < TARGET_BYTES; n++) {
        GString *s = g_string_new(NULL);
        gen_feature(s, n);
        char *path = g_strdup_printf("%s/f%05d.feature", dir, n);
        g_file_set_contents(path, s->str, s->len, NULL);
        total += s->len;
        g_ptr_array_add(files, path);
        g_ptr_array_add(datas, g_string_free(s, FALSE));
    }
    double mb = total / (1024.0 * 1024.0);
    printf("corpus: %u files, %.1f MB in %s\n", files->len, mb, dir);

    /* tf: parse only (the same work the official figure measures), best of 3 */
    double best = 1e9, best_pk = 1e9;
    for (int round = 0; round < 3; round++) {
        tf_gherkin_id_gen *ids = tf_gherkin_id_gen_new();
        double t0 = now(), pk = 0;
        for (guint i = 0; i < datas->len; i++) {
            tf_gherkin_document *doc = tf_gherkin_parse(files->pdata[i], datas->pdata[i], -1, ids, NULL);
            if (!doc) {
                fprintf(stderr, "tf failed to parse %s\n", (char *)files->pdata[i]);
                return 1;
            }
            double t1 = now();
            tf_gherkin_pickles_free(tf_gherkin_compile(doc, ids));
            pk += now() - t1;
            tf_gherkin_document_free(doc);
        }
        double t = now() - t0 - pk;
        if (t < best)
            best = t;
        if (t + pk < best_pk)
            best_pk = t + pk;
        tf_gherkin_id_gen_free(ids);
    }
    double tf_rate = mb / best;
    printf("tf parse:            %8.1f MB/s (%.3f s)\n", tf_rate, best);
    printf("tf parse + pickles:  %8.1f MB/s (%.3f s)\n", mb / best_pk, best_pk);

    char *bench_dir = g_build_filename(TF_SOURCE_DIR, "bench", "gherkin", NULL);
    char *node = g_find_program_in_path("node"), *npm = g_find_program_in_path("npm");
    if (!node || !npm) {
        printf("official (@cucumber/gherkin): skipped: %s not found in PATH\n", node ? "npm" : "node");
    } else {
        char *mod = g_build_filename(bench_dir, "node_modules", "@cucumber", "gherkin", NULL);
        gboolean have = g_file_test(mod, G_FILE_TEST_IS_DIR);
        if (!have) {
            printf("installing @cucumber/gherkin into %s/node_modules ...\n", bench_dir);
            fflush(stdout);
            char *argv[] = {npm, "install", "--no-audit", "--no-fund", "--no-package-lock", "--silent", NULL};
            char *o = run(argv, bench_dir);
            have = o && g_file_test(mod, G_FILE_TEST_IS_DIR);
            g_free(o);
        }
        if (!have) {
            printf("official (@cucumber/gherkin): skipped: npm install failed\n");
        } else {
            char *script = g_build_filename(bench_dir, "official.js", NULL);
            char *argv[] = {node, script, dir, NULL};
            double jbest = 1e9;
            for (int round = 0; round < 3; round++) {
                char *o = run(argv, bench_dir);
                double secs = 0;
                const char *p = o ? strstr(o, "\"seconds\":") : NULL;
                if (p)
                    secs = g_ascii_strtod(p + 10, NULL);
                if (secs > 0 && secs < jbest)
                    jbest = secs;
                g_free(o);
            }
            if (jbest < 1e9) {
                double js_rate = mb / jbest;
                printf("official parse:      %8.1f MB/s (%.3f s, node %s)\n", js_rate, jbest, node);
                printf("ratio tf/official:   %8.1fx (goal >= 10x)\n", tf_rate / js_rate);
            } else {
                printf("official (@cucumber/gherkin): skipped: official.js failed\n");
            }
            g_free(script);
        }
        g_free(mod);
    }
    g_free(node);
    g_free(npm);
    g_free(bench_dir);
    for (guint i = 0; i < files->len; i++)
        g_remove(files->pdata[i]);
    g_rmdir(dir);
    g_free(dir);
    g_ptr_array_free(files, TRUE);
    g_ptr_array_free(datas, TRUE);
    return 0;
}
