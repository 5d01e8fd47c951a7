/* bench_gherkin.c: parses a generated ~10 MB feature corpus with tf's Gherkin parser and
 * prints MB/s beside the official JavaScript parser (@cucumber/gherkin, pinned in
 * bench/gherkin/package-lock.json and installed into bench/gherkin/node_modules) timed on
 * the same files in the same run, and the ratio. The answer check: both parsers' pickles
 * (names, tags, step types and texts, tables, doc strings) digest to the same SHA-256.
 * Usage: bench_gherkin [--small]  (small: a ~256 KB corpus). Exits 1 on a wrong answer. */
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include "tf/gherkin.h"
#include "bench_npm.h"
#include "bench_util.h"

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

static const char *const step_type_names[] = {"Unknown", "Context", "Action", "Outcome"};

/* The answer, as official.js computes it: one line per pickle, tag and step (with table
 * rows and doc strings) into a SHA-256, over every file in order. */
static char *digest_pickles(GPtrArray *files, GPtrArray *datas, guint *n_pickles, guint *n_steps)
{
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    tf_gherkin_id_gen *ids = tf_gherkin_id_gen_new();
    GString *line = g_string_new(NULL);
    *n_pickles = *n_steps = 0;
    for (guint i = 0; i < datas->len; i++) {
        tf_gherkin_document *doc = tf_gherkin_parse(files->pdata[i], datas->pdata[i], -1, ids, NULL);
        if (!doc)
            bench_die("tf failed to parse %s", (char *)files->pdata[i]);
        tf_gherkin_pickles *pk = tf_gherkin_compile(doc, ids);
        for (guint p = 0; p < tf_gherkin_pickles_count(pk); p++) {
            const tf_gherkin_pickle *pi = tf_gherkin_pickles_get(pk, p);
            (*n_pickles)++;
            g_string_printf(line, "pickle %s\n", pi->name);
            for (guint t = 0; t < pi->n_tags; t++)
                g_string_append_printf(line, "tag %s\n", pi->tags[t].name);
            for (guint k = 0; k < pi->n_steps; k++) {
                const tf_gherkin_pickle_step *st = &pi->steps[k];
                (*n_steps)++;
                g_string_append_printf(line, "step %s %s\n", step_type_names[st->type], st->text);
                for (guint r = 0; r < st->n_rows; r++) {
                    g_string_append(line, "row ");
                    for (guint c = 0; c < st->rows[r].n_cells; c++)
                        g_string_append_printf(line, "%s%s", c ? "\t" : "", st->rows[r].cells[c]);
                    g_string_append_c(line, '\n');
                }
                if (st->doc_string)
                    g_string_append_printf(line, "doc %s\n%s\n",
                                           st->doc_string_media_type ? st->doc_string_media_type : "",
                                           st->doc_string);
            }
            g_checksum_update(sum, (const guchar *)line->str, line->len);
        }
        tf_gherkin_pickles_free(pk);
        tf_gherkin_document_free(doc);
    }
    char *hex = g_strdup(g_checksum_get_string(sum));
    g_string_free(line, TRUE);
    tf_gherkin_id_gen_free(ids);
    g_checksum_free(sum);
    return hex;
}

/* Runs argv in cwd; returns its stdout (NULL on failure, stderr shown); no shell. */
static char *run(char **argv, const char *cwd)
{
    char *out = NULL, *err = NULL;
    int status = 0;
    GError *e = NULL;
    if (!g_spawn_sync(cwd, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &e)) {
        fprintf(stderr, "%s: %s\n", argv[0], e->message);
        g_error_free(e);
        return NULL;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        fprintf(stderr, "%s failed: %s\n", argv[1], err ? err : "");
        g_free(out);
        out = NULL;
    }
    g_free(err);
    return out;
}

int main(int argc, char **argv)
{
    bench_init("bench_gherkin", &argc, argv);
    gsize target = bench_small() ? 256u * 1024 : 10u * 1024 * 1024;
    char *bench_dir = g_build_filename(TF_SOURCE_DIR, "bench", "gherkin", NULL);
    char *node = bench_npm_ready(bench_dir); /* first: a skip costs no corpus */
    char *dir = g_dir_make_tmp("tf-bench-gherkin-XXXXXX", NULL);
    if (!dir)
        bench_die("no temporary directory");
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *datas = g_ptr_array_new_with_free_func(g_free);
    gsize total = 0;
    for (int n = 0; total < target; n++) {
        GString *s = g_string_new(NULL);
        gen_feature(s, n);
        char *path = g_strdup_printf("%s/f%05d.feature", dir, n);
        g_file_set_contents(path, s->str, s->len, NULL);
        total += s->len;
        g_ptr_array_add(files, path);
        g_ptr_array_add(datas, g_string_free(s, FALSE));
    }
    double mb = total / (1024.0 * 1024.0);
    printf("corpus: %u files, %.2f MB in %s\n", files->len, mb, dir);

    /* tf: parse only (the same work the official figure measures), best of 3 */
    double best = 1e9, best_pk = 1e9;
    for (int round = 0; round < 3; round++) {
        tf_gherkin_id_gen *ids = tf_gherkin_id_gen_new();
        double t0 = now(), pk = 0;
        for (guint i = 0; i < datas->len; i++) {
            tf_gherkin_document *doc = tf_gherkin_parse(files->pdata[i], datas->pdata[i], -1, ids, NULL);
            if (!doc)
                bench_die("tf failed to parse %s", (char *)files->pdata[i]);
            double t1 = now();
            tf_gherkin_pickles_free(tf_gherkin_compile(doc, ids));
            pk += now() - t1;
            tf_gherkin_document_free(doc);
        }
        double t = now() - t0 - pk;
        best = MIN(best, t);
        best_pk = MIN(best_pk, t + pk);
        tf_gherkin_id_gen_free(ids);
    }
    double tf_rate = mb / best;
    printf("tf parse:            %8.1f MB/s (%.3f s)\n", tf_rate, best);
    printf("tf parse + pickles:  %8.1f MB/s (%.3f s)\n", mb / best_pk, best_pk);

    /* official: best of 3 node runs; each also reports its pickles' digest */
    char *script = g_build_filename(bench_dir, "official.js", NULL);
    char *js_argv[] = {node, script, dir, NULL};
    double jbest = 1e9;
    json_t *answer = NULL;
    for (int round = 0; round < 3; round++) {
        char *o = run(js_argv, bench_dir);
        json_t *j = o ? json_loads(o, 0, NULL) : NULL;
        g_free(o);
        if (!j)
            bench_die("official.js printed no result");
        jbest = MIN(jbest, json_number_value(json_object_get(j, "seconds")));
        json_decref(answer);
        answer = j;
    }
    double js_rate = mb / jbest;
    printf("official parse:      %8.1f MB/s (%.3f s)\n", js_rate, jbest);
    printf("ratio tf/official:   %8.1fx (goal >= 10x)\n", tf_rate / js_rate);

    guint n_pickles, n_steps;
    char *digest = digest_pickles(files, datas, &n_pickles, &n_steps);
    const char *js_digest = json_string_value(json_object_get(answer, "digest"));
    json_int_t js_pickles = json_integer_value(json_object_get(answer, "pickles"));
    json_int_t js_steps = json_integer_value(json_object_get(answer, "steps"));
    json_int_t js_docs = json_integer_value(json_object_get(answer, "documents"));
    bench_check(js_docs == files->len, "documents parsed", "tf %u, official %" JSON_INTEGER_FORMAT,
                files->len, js_docs);
    bench_check(js_pickles == n_pickles && js_steps == n_steps, "pickle and step counts",
                "tf %u pickles / %u steps, official %" JSON_INTEGER_FORMAT " / %" JSON_INTEGER_FORMAT,
                n_pickles, n_steps, js_pickles, js_steps);
    bench_check(g_strcmp0(digest, js_digest) == 0, "pickles (names, tags, steps, tables, doc strings)",
                "tf digest %s, official %s", digest, js_digest ? js_digest : "(none)");
    printf("answer: %u pickles, %u steps, digest %.16s...\n", n_pickles, n_steps, digest);

    g_free(digest);
    json_decref(answer);
    g_free(script);
    g_free(node);
    g_free(bench_dir);
    bench_rm_rf(dir);
    g_free(dir);
    g_ptr_array_free(files, TRUE);
    g_ptr_array_free(datas, TRUE);
    return bench_finish();
}
