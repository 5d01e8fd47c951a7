/* test_ophistory.c: the client operation history: recording (ids, completions, misuse),
 * many threads recording at once (run under TSan by `make test`), the NDJSON export read
 * back unchanged, the listener, and the three readers' results and their name:line
 * errors for each kind of malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <tf/tf.h>

static tf_ophistory *parse(const char *text)
{
    GError *err = NULL;
    tf_ophistory *h = tf_ophistory_parse("h.txt", text, strlen(text), &err);
    if (!h)
        fail_msg("unexpected error: %s", err->message);
    return h;
}

/* Parsing `text` fails with exactly `message`. */
static void parse_fails(const char *text, const char *message)
{
    GError *err = NULL;
    tf_ophistory *h = tf_ophistory_parse("h.txt", text, strlen(text), &err);
    if (h)
        fail_msg("parsed, expected: %s", message);
    assert_true(g_error_matches(err, TF_ERROR, TF_ERROR_PARSE));
    if (strcmp(err->message, message))
        fail_msg("expected\n  %s\ngot\n  %s", message, err->message);
    g_error_free(err);
}

/* Parsing `text` fails with a message that starts with `prefix`. */
static void parse_fails_prefix(const char *text, const char *prefix)
{
    GError *err = NULL;
    assert_null(tf_ophistory_parse("h.txt", text, strlen(text), &err));
    if (!g_str_has_prefix(err->message, prefix))
        fail_msg("expected a message starting '%s', got '%s'", prefix, err->message);
    g_error_free(err);
}

static char *json_text(const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    char *t = g_strdup(s);
    free(s);
    return t;
}

static void assert_json(const json_t *v, const char *want)
{
    char *got = json_text(v);
    assert_string_equal(got, want);
    g_free(got);
}

static void test_record_and_complete(void **unused)
{
    tf_ophistory *h = tf_ophistory_new();
    json_t *in = json_integer(3);
    guint64 a = tf_ophistory_invoke_at(h, 10, 1, "write", in);
    json_decref(in); /* the history keeps its own copy */
    guint64 b = tf_ophistory_invoke_at(h, 11, 2, "read", NULL);
    guint64 c = tf_ophistory_invoke_at(h, 12, 3, "cas", NULL);
    guint64 d = tf_ophistory_invoke_at(h, 13, 4, "read", NULL);
    assert_int_equal(a, 1);
    assert_int_equal(d, 4);
    assert_int_equal(tf_ophistory_len(h), 4);
    GError *err = NULL;
    assert_true(tf_ophistory_complete_at(h, 20, a, TF_OP_OK, NULL, NULL, &err));
    json_t *out = json_integer(3);
    assert_true(tf_ophistory_complete_at(h, 21, b, TF_OP_OK, out, NULL, &err));
    json_decref(out);
    assert_true(tf_ophistory_complete_at(h, 22, c, TF_OP_UNKNOWN, NULL, "timed out", &err));
    /* misuse is refused, and the op keeps its first completion */
    assert_false(tf_ophistory_complete_at(h, 23, a, TF_OP_FAIL, NULL, NULL, &err));
    assert_string_equal(err->message, "op 1: already completed");
    g_clear_error(&err);
    assert_false(tf_ophistory_complete_at(h, 23, 99, TF_OP_OK, NULL, NULL, &err));
    assert_string_equal(err->message, "op 99: no such operation");
    g_clear_error(&err);
    assert_false(tf_ophistory_complete_at(h, 5, d, TF_OP_OK, NULL, NULL, &err));
    assert_string_equal(err->message, "op 4: completes before its invocation");
    g_clear_error(&err);
    assert_false(tf_ophistory_complete_at(h, 30, d, TF_OP_PENDING, NULL, NULL, &err));
    assert_string_equal(err->message, "op 4: a completion is ok, fail or unknown, not pending");
    g_clear_error(&err);

    GPtrArray *ops = tf_ophistory_ops(h);
    assert_int_equal(ops->len, 4);
    tf_op *w = ops->pdata[0], *r = ops->pdata[1], *x = ops->pdata[2], *p = ops->pdata[3];
    assert_int_equal(w->status, TF_OP_OK);
    assert_true(json_is_null(w->output));
    assert_int_equal(w->invoke_time, 10);
    assert_int_equal(w->complete_time, 20);
    assert_json(w->input, "3");
    assert_json(r->output, "3");
    assert_int_equal(x->status, TF_OP_UNKNOWN);
    assert_null(x->output);
    assert_string_equal(x->error, "timed out");
    assert_int_equal(p->status, TF_OP_PENDING);
    assert_int_equal(p->complete_time, 0);
    char *dw = tf_op_describe(w), *dx = tf_op_describe(x), *dp = tf_op_describe(p);
    assert_string_equal(dw, "write(3) -> null");
    assert_string_equal(dx, "cas() -> unknown");
    assert_string_equal(dp, "read() -> ?");
    g_free(dw);
    g_free(dx);
    g_free(dp);
    g_ptr_array_unref(ops);
    tf_ophistory_free(h);
}

static void test_live_clock(void **unused)
{
    tf_ophistory *h = tf_ophistory_new();
    gint64 before = g_get_monotonic_time();
    guint64 id = tf_ophistory_invoke(h, 0, "read", NULL);
    assert_true(tf_ophistory_complete(h, id, TF_OP_FAIL, NULL, "refused", NULL));
    GPtrArray *ops = tf_ophistory_ops(h);
    tf_op *op = ops->pdata[0];
    assert_true(op->invoke_time >= before);
    assert_true(op->complete_time >= op->invoke_time);
    assert_true(op->complete_time <= g_get_monotonic_time());
    assert_int_equal(op->line, 0);
    g_ptr_array_unref(ops);
    tf_ophistory_free(h);
}

/* ---- many threads ------------------------------------------------------------------------ */

#define THREADS 8
#define PER_THREAD 500

typedef struct {
    tf_ophistory *h;
    gint64 process;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *a = p;
    for (int i = 0; i < PER_THREAD; i++) {
        json_t *in = json_pack("{s:I, s:i}", "p", (json_int_t)a->process, "i", i);
        guint64 id = tf_ophistory_invoke(a->h, a->process, "put", in);
        json_decref(in);
        json_t *out = json_integer(i);
        tf_op_status st = i % 7 == 0 ? TF_OP_UNKNOWN : i % 5 == 0 ? TF_OP_FAIL : TF_OP_OK;
        if (!tf_ophistory_complete(a->h, id, st, out, NULL, NULL))
            abort();
        json_decref(out);
        if (i % 50 == 0) { /* readers run alongside the writers */
            GPtrArray *snap = tf_ophistory_ops(a->h);
            g_ptr_array_unref(snap);
        }
    }
    return NULL;
}

typedef struct {
    guint events;
    guint64 last_op;
    gboolean ordered;
} listen_count;

static void count_events(const json_t *event, void *data)
{
    listen_count *c = data;
    c->events++;
    /* invocations reach the listener in id order: ids are handed out under the same lock */
    if (!strcmp(json_string_value(json_object_get(event, "event")), "invoke")) {
        guint64 op = json_integer_value(json_object_get(event, "op"));
        c->ordered &= op == c->last_op + 1;
        c->last_op = op;
    }
}

static void test_threads_record_at_once(void **unused)
{
    tf_ophistory *h = tf_ophistory_new();
    listen_count count = {0, 0, TRUE};
    tf_ophistory_set_listener(h, count_events, &count);
    GThread *t[THREADS];
    worker_arg args[THREADS];
    for (int i = 0; i < THREADS; i++) {
        args[i] = (worker_arg){h, i};
        t[i] = g_thread_new("recorder", worker, &args[i]);
    }
    for (int i = 0; i < THREADS; i++)
        g_thread_join(t[i]);
    tf_ophistory_set_listener(h, NULL, NULL);
    assert_int_equal(tf_ophistory_len(h), THREADS * PER_THREAD);
    assert_int_equal(count.events, 2 * THREADS * PER_THREAD);
    assert_true(count.ordered);
    GPtrArray *ops = tf_ophistory_ops(h);
    guint per_process[THREADS] = {0};
    for (guint i = 0; i < ops->len; i++) {
        tf_op *op = ops->pdata[i];
        assert_int_equal(op->id, i + 1);
        assert_int_not_equal(op->status, TF_OP_PENDING);
        /* each op kept its own input: the process that recorded it and its own counter */
        assert_int_equal(json_integer_value(json_object_get(op->input, "p")), op->process);
        if (op->status == TF_OP_OK)
            assert_int_equal(json_integer_value(op->output),
                             json_integer_value(json_object_get(op->input, "i")));
        per_process[op->process]++;
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(per_process[i], PER_THREAD);
    g_ptr_array_unref(ops);
    tf_ophistory_free(h);
}

/* ---- export and import ------------------------------------------------------------------ */

static char *export_text(tf_ophistory *h)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_true(tf_ophistory_write(h, f, NULL));
    fclose(f);
    char *s = g_strndup(buf, len);
    free(buf);
    return s;
}

static void test_export_reads_back(void **unused)
{
    tf_ophistory *h = tf_ophistory_new();
    json_t *v = json_pack("[i, {s:s}]", 1, "k", "a\"b\n");
    guint64 a = tf_ophistory_invoke_at(h, 100, 7, "cas", v);
    guint64 b = tf_ophistory_invoke_at(h, 100, 8, "read", NULL); /* same tick */
    guint64 c = tf_ophistory_invoke_at(h, 105, 9, "write", v);
    tf_ophistory_invoke_at(h, 106, 10, "write", NULL); /* stays pending */
    tf_ophistory_complete_at(h, 110, b, TF_OP_OK, v, NULL, NULL);
    tf_ophistory_complete_at(h, 120, a, TF_OP_FAIL, NULL, "compare failed", NULL);
    tf_ophistory_complete_at(h, 130, c, TF_OP_UNKNOWN, NULL, NULL, NULL);
    json_decref(v);
    char *text = export_text(h);
    assert_string_equal(
        text,
        "{\"event\":\"invoke\",\"op\":1,\"process\":7,\"name\":\"cas\",\"input\":[1,{\"k\":\"a\\\"b\\n\"}],\"time\":100}\n"
        "{\"event\":\"invoke\",\"op\":2,\"process\":8,\"name\":\"read\",\"input\":null,\"time\":100}\n"
        "{\"event\":\"invoke\",\"op\":3,\"process\":9,\"name\":\"write\",\"input\":[1,{\"k\":\"a\\\"b\\n\"}],\"time\":105}\n"
        "{\"event\":\"invoke\",\"op\":4,\"process\":10,\"name\":\"write\",\"input\":null,\"time\":106}\n"
        "{\"event\":\"ok\",\"op\":2,\"output\":[1,{\"k\":\"a\\\"b\\n\"}],\"time\":110}\n"
        "{\"event\":\"fail\",\"op\":1,\"error\":\"compare failed\",\"time\":120}\n"
        "{\"event\":\"unknown\",\"op\":3,\"time\":130}\n");
    tf_ophistory *back = parse(text);
    char *again = export_text(back);
    assert_string_equal(again, text); /* a fixed point: nothing lost or reordered */
    GPtrArray *ops = tf_ophistory_ops(back);
    assert_int_equal(((tf_op *)ops->pdata[0])->line, 1);
    assert_int_equal(((tf_op *)ops->pdata[3])->line, 4);
    assert_int_equal(((tf_op *)ops->pdata[3])->status, TF_OP_PENDING);
    g_ptr_array_unref(ops);
    g_free(again);
    g_free(text);
    tf_ophistory_free(back);
    tf_ophistory_free(h);
}

static void test_reads_journal_batches(void **unused)
{
    /* `tf history export` prints batches whose events are the export's events; the
     * observers' streams beside them are not client histories and are passed over */
    tf_ophistory *h = parse(
        "{\"run\":1,\"stream\":\"raftkv/s\",\"seq\":1,\"events\":[{\"kind\":\"leader\"}]}\n"
        "{\"run\":1,\"stream\":\"ophistory/s\",\"seq\":1,\"events\":["
        "{\"event\":\"invoke\",\"op\":1,\"process\":0,\"name\":\"read\",\"input\":null,\"time\":5},"
        "{\"event\":\"invoke\",\"op\":2,\"process\":1,\"name\":\"write\",\"input\":2,\"time\":6}]}\n"
        "{\"run\":1,\"stream\":\"ophistory/s\",\"seq\":2,\"events\":["
        "{\"event\":\"ok\",\"op\":2,\"output\":null,\"time\":9}]}\n");
    assert_int_equal(tf_ophistory_len(h), 2);
    GPtrArray *ops = tf_ophistory_ops(h);
    assert_int_equal(((tf_op *)ops->pdata[1])->status, TF_OP_OK);
    assert_int_equal(((tf_op *)ops->pdata[1])->complete_time, 9);
    assert_int_equal(((tf_op *)ops->pdata[0])->status, TF_OP_PENDING);
    g_ptr_array_unref(ops);
    tf_ophistory_free(h);

    /* an export with no client history says which streams it has */
    parse_fails("{\"run\":1,\"stream\":\"raftkv\",\"seq\":1,\"events\":[]}\n"
                "{\"run\":1,\"stream\":\"chain\",\"seq\":1,\"events\":[]}\n",
                "h.txt: no operations in it: an export holds client histories in streams "
                "named 'ophistory', and this one has only raftkv, chain");
}

/* An export of a run holds one history per scenario execution (and "#2" for a second
 * stream of one execution): each is read apart, labelled, in order of appearance. */
static void test_export_of_several_histories(void **unused)
{
    static const char text[] =
        "{\"run\":3,\"execution\":7,\"scenario\":\"kill\",\"pickle\":\"p1\",\"attempt\":0,"
        "\"stream\":\"ophistory\",\"seq\":1,\"events\":["
        "{\"event\":\"invoke\",\"op\":1,\"process\":0,\"name\":\"write\",\"input\":1,\"time\":5},"
        "{\"event\":\"fault\",\"fault\":\"n1\",\"what\":\"killed\",\"time\":6}]}\n"
        "{\"run\":3,\"execution\":7,\"scenario\":\"kill\",\"pickle\":\"p1\",\"attempt\":0,"
        "\"stream\":\"raftkv\",\"seq\":1,\"events\":[{}]}\n"
        "{\"run\":3,\"execution\":8,\"scenario\":\"pause\",\"pickle\":\"p2\",\"attempt\":1,"
        "\"stream\":\"ophistory\",\"seq\":1,\"events\":["
        "{\"event\":\"invoke\",\"op\":1,\"process\":4,\"name\":\"read\",\"input\":null,\"time\":2}]}\n"
        "{\"run\":3,\"execution\":7,\"scenario\":\"kill\",\"pickle\":\"p1\",\"attempt\":0,"
        "\"stream\":\"ophistory\",\"seq\":2,\"events\":["
        "{\"event\":\"ok\",\"op\":1,\"output\":null,\"time\":8},"
        "{\"event\":\"healed\",\"fault\":\"n1\",\"time\":9}]}\n"
        "{\"run\":3,\"execution\":7,\"scenario\":\"kill\",\"pickle\":\"p1\",\"attempt\":0,"
        "\"stream\":\"ophistory#2\",\"seq\":1,\"events\":["
        "{\"event\":\"invoke\",\"op\":1,\"process\":1,\"name\":\"read\",\"input\":null,\"time\":3}]}\n"
        "{\"run\":3,\"execution\":9,\"scenario\":\"faults only\",\"pickle\":\"p3\",\"attempt\":0,"
        "\"stream\":\"ophistory\",\"seq\":1,\"events\":["
        "{\"event\":\"fault\",\"fault\":\"n2\",\"time\":3}]}\n";
    GError *err = NULL;
    GPtrArray *all = tf_ophistory_parse_all("x.ndjson", text, strlen(text), &err);
    assert_non_null(all);
    assert_int_equal(all->len, 3); /* execution 9 has faults only: nothing to check */
    tf_ophistory_part *a = all->pdata[0], *b = all->pdata[1], *c = all->pdata[2];
    assert_string_equal(a->label, "run 3, execution 7 (scenario 'kill', attempt 0)");
    assert_string_equal(b->label, "run 3, execution 8 (scenario 'pause', attempt 1)");
    assert_string_equal(c->label, "run 3, execution 7 (scenario 'kill', attempt 0), stream ophistory#2");
    assert_int_equal(tf_ophistory_len(a->history), 1);
    GPtrArray *ops = tf_ophistory_ops(a->history);
    assert_int_equal(((tf_op *)ops->pdata[0])->status, TF_OP_OK);
    g_ptr_array_unref(ops);
    GPtrArray *faults = tf_ophistory_faults(a->history);
    assert_int_equal(faults->len, 1);
    tf_fault *f = faults->pdata[0];
    assert_string_equal(f->name, "n1");
    assert_string_equal(f->what, "killed");
    assert_int_equal(f->begin, 6);
    assert_int_equal(f->end, 9);
    g_ptr_array_unref(faults);
    g_ptr_array_unref(all);

    /* one history is asked for: the text holds three, and the error names them */
    assert_null(tf_ophistory_parse("x.ndjson", text, strlen(text), &err));
    assert_string_equal(err->message,
                        "x.ndjson: 3 histories in it (run 3, execution 7 (scenario 'kill', "
                        "attempt 0); run 3, execution 8 (scenario 'pause', attempt 1); run 3, "
                        "execution 7 (scenario 'kill', attempt 0), stream ophistory#2): read "
                        "them one by one (tf_ophistory_parse_all)");
    g_clear_error(&err);
}

/* Fault windows: one window a name at a time, healing one or all, the listener and the
 * export see them in order, and they read back. */
static void collect_kinds(const json_t *event, void *data)
{
    g_string_append_printf(data, "%s ", json_string_value(json_object_get(event, "event")));
}

static void test_faults(void **unused)
{
    tf_ophistory *h = tf_ophistory_new();
    GString *kinds = g_string_new(NULL);
    tf_ophistory_set_listener(h, collect_kinds, kinds);
    tf_ophistory_fault_begin_at(h, 10, "n1", "paused");
    tf_ophistory_invoke_at(h, 11, 0, "read", NULL);
    tf_ophistory_fault_begin_at(h, 12, "n1", "killed"); /* ends the pause */
    tf_ophistory_fault_begin_at(h, 13, "partition", "n1 | n2 n3");
    assert_int_equal(tf_ophistory_fault_end_at(h, 14, "n2"), 0); /* nothing to heal */
    assert_int_equal(tf_ophistory_fault_end_at(h, 15, NULL), 2);
    assert_int_equal(tf_ophistory_fault_end_at(h, 16, NULL), 0);
    tf_ophistory_set_listener(h, NULL, NULL);
    assert_string_equal(kinds->str, "fault invoke healed fault fault healed healed ");
    g_string_free(kinds, TRUE);
    GPtrArray *faults = tf_ophistory_faults(h);
    assert_int_equal(faults->len, 3);
    tf_fault *p = faults->pdata[0], *k = faults->pdata[1], *x = faults->pdata[2];
    assert_int_equal(p->end, 12);
    assert_string_equal(k->what, "killed");
    assert_int_equal(k->begin, 12);
    assert_int_equal(k->end, 15);
    assert_int_equal(x->end, 15);
    assert_true(tf_faults_cover(faults, 10));
    assert_true(tf_faults_cover(faults, 15));
    assert_false(tf_faults_cover(faults, 9));
    assert_false(tf_faults_cover(faults, 16));
    g_ptr_array_unref(faults);
    char *text = export_text(h);
    assert_string_equal(
        text,
        "{\"event\":\"fault\",\"fault\":\"n1\",\"what\":\"paused\",\"time\":10}\n"
        "{\"event\":\"invoke\",\"op\":1,\"process\":0,\"name\":\"read\",\"input\":null,\"time\":11}\n"
        "{\"event\":\"healed\",\"fault\":\"n1\",\"time\":12}\n"
        "{\"event\":\"fault\",\"fault\":\"n1\",\"what\":\"killed\",\"time\":12}\n"
        "{\"event\":\"fault\",\"fault\":\"partition\",\"what\":\"n1 | n2 n3\",\"time\":13}\n"
        "{\"event\":\"healed\",\"fault\":\"n1\",\"time\":15}\n"
        "{\"event\":\"healed\",\"fault\":\"partition\",\"time\":15}\n");
    tf_ophistory *back = parse(text);
    char *again = export_text(back);
    assert_string_equal(again, text);
    g_free(again);
    g_free(text);
    tf_ophistory_free(back);
    /* an active fault stays active in the export and back */
    tf_ophistory_fault_begin_at(h, 20, "n3", NULL);
    faults = tf_ophistory_faults(h);
    assert_true(tf_faults_cover(faults, G_MAXINT64));
    g_ptr_array_unref(faults);
    tf_ophistory_free(h);

    parse_fails("{\"event\":\"healed\",\"fault\":\"n1\",\"time\":3}\n",
                "h.txt:1: fault n1 heals but is not active");
    parse_fails("{\"event\":\"fault\",\"time\":3}\n", "h.txt:1: fault event needs \"fault\" (a string)");
    parse_fails("{\"event\":\"fault\",\"fault\":\"n1\"}\n",
                "h.txt:1: fault event of fault n1 needs \"time\" (an integer)");
    parse_fails("{\"event\":\"fault\",\"fault\":\"n1\",\"what\":3,\"time\":1}\n",
                "h.txt:1: \"what\" of fault n1 must be a string");
}

static void test_tf_form_errors(void **unused)
{
    char *t;
    static const char inv[] = "{\"event\":\"invoke\",\"op\":1,\"process\":0,\"name\":\"read\",\"time\":1}\n";
    parse_fails("\n\n{\"event\":\"invoke\",\"op\":0,\"process\":0,\"name\":\"r\",\"time\":1}",
                "h.txt:3: invoke event needs \"op\" (a positive integer)");
    parse_fails("{\"event\":\"invoke\",\"op\":1,\"process\":0,\"name\":\"r\"}",
                "h.txt:1: invoke event of op 1 needs \"time\" (an integer)");
    parse_fails("{\"event\":\"invoke\",\"op\":1,\"name\":\"r\",\"time\":1}",
                "h.txt:1: invoke event of op 1 needs \"process\" (an integer) and \"name\" (a string)");
    parse_fails("{\"op\":1}", "h.txt:1: expected an operation event {\"event\": \"invoke\", ...}");
    t = g_strconcat(inv, inv, NULL);
    parse_fails(t, "h.txt:2: op 1 is invoked twice (first on line 1)");
    g_free(t);
    parse_fails("{\"event\":\"ok\",\"op\":4,\"time\":1}", "h.txt:1: op 4 completes but was never invoked");
    /* after an invocation on line 1 */
    static const struct {
        const char *then, *error;
    } after[] = {
        {"{\"event\":\"ok\",\"op\":1,\"time\":0}\n",
         "h.txt:2: op 1 (invoked on line 1) completes before its invocation"},
        {"{\"event\":\"ok\",\"op\":1,\"time\":2}\n{\"event\":\"fail\",\"op\":1,\"time\":3}\n",
         "h.txt:3: op 1 (invoked on line 1) already completed"},
        {"{\"event\":\"done\",\"op\":1,\"time\":2}\n",
         "h.txt:2: event \"done\" is not invoke, ok, fail, unknown, fault or healed"},
        {"{\"event\":\"fail\",\"op\":1,\"time\":2,\"error\":7}\n",
         "h.txt:2: \"error\" of op 1 must be a string"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(after); i++) {
        t = g_strconcat(inv, after[i].then, NULL);
        parse_fails(t, after[i].error);
        g_free(t);
    }
    parse_fails("", "h.txt: no operations in it (expected tf's NDJSON {\"event\":...}, a Jepsen "
                    "log \"INFO jepsen.util - PROC :TYPE :F VALUE\" or Jepsen EDN maps {:process ...})");
    parse_fails_prefix("{\"event\":\"invoke\"", "h.txt:1: not JSON: ");
    static const char nul[] = "{\"event\":\"invoke\",\"op\":1,\"process\":0,\"name\":\"r\",\"time\":1}\n\0\n";
    GError *err = NULL;
    assert_null(tf_ophistory_parse("h.txt", nul, sizeof nul - 1, &err));
    assert_string_equal(err->message, "h.txt:2: a NUL byte: not a text history");
    g_error_free(err);
}

/* ---- Jepsen's forms ---------------------------------------------------------------------- */

static void test_jepsen_log(void **unused)
{
    tf_ophistory *h = parse("INFO  jepsen.core - Running test\n"
                            "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
                            "INFO  jepsen.util - 1   :invoke :cas    [3 0]\n" /* spaces, too */
                            "INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n"
                            "INFO  jepsen.util - 2\t:invoke\t:write\t4\n"
                            "INFO  jepsen.util - 0\t:ok\t:read\t4\n"
                            "INFO  jepsen.util - 1\t:fail\t:cas\t[3 0]\n"
                            "INFO  jepsen.util - 2\t:info\t:write\t:timed-out\n"
                            "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n"
                            "INFO  jepsen.util - 0\t:fail\t:read\t:timed-out\n"
                            "INFO  jepsen.util - 3\t:invoke\t:write\t\"s\"\n");
    GPtrArray *ops = tf_ophistory_ops(h);
    assert_int_equal(ops->len, 5);
    tf_op *r = ops->pdata[0], *c = ops->pdata[1], *w = ops->pdata[2], *r2 = ops->pdata[3];
    tf_op *p = ops->pdata[4];
    assert_string_equal(r->name, "read");
    assert_true(json_is_null(r->input));
    assert_int_equal(r->status, TF_OP_OK);
    assert_json(r->output, "4");
    assert_int_equal(r->invoke_time, 2); /* times are line numbers */
    assert_int_equal(r->complete_time, 6);
    assert_int_equal(r->line, 2);
    assert_json(c->input, "[3,0]");
    assert_int_equal(c->process, 1);
    assert_int_equal(c->status, TF_OP_FAIL);
    assert_string_equal(c->error, "[3,0]");
    assert_int_equal(w->status, TF_OP_UNKNOWN);
    assert_string_equal(w->error, "timed-out");
    assert_int_equal(r2->status, TF_OP_FAIL);
    assert_json(p->input, "\"s\"");
    assert_int_equal(p->status, TF_OP_PENDING);
    g_ptr_array_unref(ops);
    tf_ophistory_free(h);
}

static void test_jepsen_log_errors(void **unused)
{
    parse_fails("INFO  jepsen.util - 3\t:invoke\t:read\tnil\n"
                "INFO  jepsen.util - 3\t:invoke\t:write\t1\n",
                "h.txt:2: process 3 invokes :write while its :read from line 1 is pending");
    parse_fails("INFO  jepsen.util - 3\t:invoke\t:read\tnil\n"
                "INFO  jepsen.util - 4\t:ok\t:read\t1\n",
                "h.txt:2: process 4 completes :read (:ok) but has no operation pending");
    parse_fails("INFO  jepsen.util - 3\t:invoke\t:read\tnil\n"
                "INFO  jepsen.util - 3\t:ok\t:write\t1\n",
                "h.txt:2: process 3 completes :write but its pending operation is :read (line 1)");
    parse_fails("INFO  jepsen.util - 3\t:invoke\t:read\tnil\n"
                "INFO  jepsen.util - 3\t:done\t:read\t1\n",
                "h.txt:2: unknown type :done (expected :invoke, :ok, :fail or :info)");
    parse_fails("INFO  jepsen.util - 3\t:invoke\n",
                "h.txt:1: expected ':TYPE :F VALUE' after process 3");
    parse_fails("INFO  jepsen.util - 3\tinvoke\t:read\tnil\n",
                "h.txt:1: expected ':TYPE :F VALUE' after process 3");
    parse_fails("\nINFO  jepsen.util - 3\t:invoke\t:cas\t[3 0\n",
                "h.txt:2: bad value '[3 0': unclosed collection");
    parse_fails("INFO  jepsen.util - 3\t:invoke\t:write\t1 2\n",
                "h.txt:1: bad value '1 2': text after the value");
    parse_fails("INFO  jepsen.util - 3\t:invoke\t:write\t\"abc\n",
                "h.txt:1: bad value '\"abc': unterminated string");
    parse_fails("INFO  jepsen.core - nothing here\n",
                "h.txt: no operations in it (expected tf's NDJSON {\"event\":...}, a Jepsen log "
                "\"INFO jepsen.util - PROC :TYPE :F VALUE\" or Jepsen EDN maps {:process ...})");
}

static void test_edn_maps(void **unused)
{
    tf_ophistory *h = parse("{:process 0, :type :invoke, :f :get, :key \"5\", :value nil}\n"
                            "{:process :nemesis, :type :info, :f :start, :value nil}\n"
                            "; a comment\n"
                            "{:process 1, :type :invoke, :f :append, :key \"5\", :value \"x 1 y\"}\n"
                            "{:process 0, :type :ok, :f :get, :key \"5\", :value \"\", :time 123}\n"
                            "{:process 1, :type :fail, :f :append, :key \"5\", :value \"x 1 y\", "
                            ":error [:no-leader 2]}\n"
                            "{:process 2 :type :invoke :f :put :value {:a [1 2.5 true]} :key 7}\n"
                            "{:process 2, :type :info, :f :put, :value nil}\n");
    GPtrArray *ops = tf_ophistory_ops(h);
    assert_int_equal(ops->len, 3);
    tf_op *g = ops->pdata[0], *a = ops->pdata[1], *p = ops->pdata[2];
    assert_string_equal(g->name, "get");
    assert_json(g->input, "{\"key\":\"5\",\"value\":null}");
    assert_json(g->output, "\"\"");
    assert_int_equal(g->complete_time, 5);
    assert_json(a->input, "{\"key\":\"5\",\"value\":\"x 1 y\"}");
    assert_int_equal(a->status, TF_OP_FAIL);
    assert_string_equal(a->error, "[\"no-leader\",2]");
    assert_json(p->input, "{\"key\":7,\"value\":{\"a\":[1,2.5,true]}}");
    assert_int_equal(p->status, TF_OP_UNKNOWN);
    g_ptr_array_unref(ops);
    tf_ophistory_free(h);
}

static void test_edn_errors(void **unused)
{
    parse_fails("{:process 0, :type :invoke, :f :get, :key \"5\"\n",
                "h.txt:1: bad EDN: unclosed collection");
    parse_fails("{:process 0, :type :invoke, :f :get, :key}\n",
                "h.txt:1: bad EDN: a map needs an even number of forms");
    parse_fails("{:process 0, :type :invoke, :f :get}\n[1 2]\n",
                "h.txt:2: expected a map {:process P, :type T, :f F, :value V}");
    parse_fails("{:process 0, :type :invoke}\n",
                "h.txt:1: an operation needs :process (an integer), :type and :f");
    parse_fails("{:process 0, :type :invoke, :f :get, :value #inst \"2020\"}\n",
                "h.txt:1: bad EDN: unsupported tagged value");
    parse_fails("{:process 0, :type :invoke, :f :get, :value :}\n",
                "h.txt:1: bad EDN: empty keyword");
    parse_fails("{:process 0, :type :invoke, :f :get, :value 12x}\n",
                "h.txt:1: bad EDN: bad number");
    parse_fails("{:process 0, :type :invoke, :f :get, :value \"\xff\"}\n",
                "h.txt:1: bad EDN: a string is not valid UTF-8");
    parse_fails("{:process 0, :type :invoke, :f :get}\n{:process 0, :type :ok, :f :put}\n",
                "h.txt:2: process 0 completes :put but its pending operation is :get (line 1)");
}

static void test_load_names_the_file(void **unused)
{
    GError *err = NULL;
    assert_null(tf_ophistory_load("/nonexistent/h.log", &err));
    assert_true(g_error_matches(err, TF_ERROR, TF_ERROR_IO));
    assert_true(g_str_has_prefix(err->message, "/nonexistent/h.log: "));
    g_clear_error(&err);
    char *path = NULL;
    int fd = g_file_open_tmp("ophistory-XXXXXX.log", &path, NULL);
    assert_true(fd >= 0);
    close(fd);
    assert_true(g_file_set_contents(path, "INFO  jepsen.util - 1\t:ok\t:read\t1\n", -1, NULL));
    assert_null(tf_ophistory_load(path, &err));
    char *want = g_strdup_printf("%s:1: process 1 completes :read (:ok) but has no operation pending", path);
    assert_string_equal(err->message, want);
    g_free(want);
    g_error_free(err);
    g_unlink(path);
    g_free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_and_complete),
        cmocka_unit_test(test_live_clock),
        cmocka_unit_test(test_threads_record_at_once),
        cmocka_unit_test(test_export_reads_back),
        cmocka_unit_test(test_reads_journal_batches),
        cmocka_unit_test(test_export_of_several_histories),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_tf_form_errors),
        cmocka_unit_test(test_jepsen_log),
        cmocka_unit_test(test_jepsen_log_errors),
        cmocka_unit_test(test_edn_maps),
        cmocka_unit_test(test_edn_errors),
        cmocka_unit_test(test_load_names_the_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
