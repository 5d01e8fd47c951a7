/* test_wire_protocol.c: the wire server in process, spoken to over real loopback sockets:
 * malformed JSON and unknown messages (a fail reply, the connection stays usable), step
 * matches with character positions, invoke (success, pending, fail, ambiguous, tables, doc
 * strings), snippets, scenario hooks and cleanups, two connections at once, a client gone
 * mid-step, a step timeout, a server stop with a step in flight, and 200 clients that
 * connect at once before any is accepted (the listen backlog). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <jansson.h>
#include "../../tf/runner/plugin.h"
#include "../../tf/runner/wire.h"
#include "tf/durable.h"
#include "tf/world_store.h"

/* ---- what steps, hooks and cleanups did (they run on worker threads) ---- */

/* pthreads, not GMutex: glib's futexes are invisible to ThreadSanitizer */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed;
static GString *trail;
static gboolean released, a_waiting, b_released;

/* Waits on changed (lock held) until the monotonic deadline (µs); FALSE on timeout. */
static gboolean wait_until(gint64 deadline)
{
    struct timespec ts = {deadline / G_USEC_PER_SEC, (deadline % G_USEC_PER_SEC) * 1000};
    return pthread_cond_timedwait(&changed, &lock, &ts) == 0;
}

static void note(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&lock);
    g_string_append_vprintf(trail, fmt, ap);
    g_string_append_c(trail, ';');
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    va_end(ap);
}

/* Waits until the trail contains what (10 s at most); TRUE when it does. */
static gboolean await_trail(const char *what)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    pthread_mutex_lock(&lock);
    gboolean found;
    while (!(found = strstr(trail->str, what) != NULL))
        if (!wait_until(deadline))
            break;
    found = strstr(trail->str, what) != NULL;
    pthread_mutex_unlock(&lock);
    return found;
}

static void reset_trail(void)
{
    pthread_mutex_lock(&lock);
    g_string_truncate(trail, 0);
    released = a_waiting = b_released = FALSE;
    pthread_mutex_unlock(&lock);
}

static gboolean trail_has(const char *what)
{
    pthread_mutex_lock(&lock);
    gboolean r = strstr(trail->str, what) != NULL;
    pthread_mutex_unlock(&lock);
    return r;
}

/* ---- steps and hooks ---- */

static tf_step_status st_put(tf_step *s, GError **e)
{
    note("put:%s=%" G_GINT64_FORMAT, tf_step_arg_str(s, 0), tf_step_arg_int(s, 1));
    return TF_STEP_PASSED;
}
static tf_step_status st_pass(tf_step *s, GError **e)
{
    note("pass");
    return TF_STEP_PASSED;
}
static tf_step_status st_pending(tf_step *s, GError **e) { return TF_STEP_PENDING; }
static tf_step_status st_logs(tf_step *s, GError **e)
{
    tf_world_log(tf_step_world(s), "cluster %s up after %d tries", "etcd-3", 2);
    return TF_STEP_PASSED;
}
static tf_step_status st_fail(tf_step *s, GError **e)
{
    return TF_FAIL(e, "boom: the answer was %d, not 42", 41);
}
static tf_step_status st_amb(tf_step *s, GError **e) { return TF_STEP_PASSED; }
static tf_step_status st_table(tf_step *s, GError **e)
{
    guint n = 0;
    const tf_gherkin_pickle_row *rows = tf_step_table(s, &n);
    GString *t = g_string_new("table:");
    for (guint r = 0; r < n; r++) {
        for (guint c = 0; c < rows[r].n_cells; c++)
            g_string_append_printf(t, "%s%s", c ? "," : "", rows[r].cells[c]);
        g_string_append_c(t, '/');
    }
    note("%s", t->str);
    g_string_free(t, TRUE);
    return TF_STEP_PASSED;
}
static tf_step_status st_doc(tf_step *s, GError **e)
{
    note("doc:%s", tf_step_doc_string(s, NULL));
    return TF_STEP_PASSED;
}
static void cleanup_note(void *what) { note("cleanup:%s", (const char *)what); }

/* Starts "a cluster" (a cleanup) and blocks until the test releases it. */
static tf_step_status st_block(tf_step *s, GError **e)
{
    tf_world_defer(tf_step_world(s), cleanup_note, "cluster");
    note("entered");
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    pthread_mutex_lock(&lock);
    while (!released && wait_until(deadline))
        ;
    gboolean ok = released;
    pthread_mutex_unlock(&lock);
    note("left");
    return ok ? TF_STEP_PASSED : TF_FAIL(e, "never released");
}

/* Never returns: a timed-out or interrupted step stays stuck, as a real one may. */
static GMutex never_lock;
static GCond never_cond;
static tf_step_status st_hang(tf_step *s, GError **e)
{
    tf_world_defer(tf_step_world(s), cleanup_note, "hung-cluster");
    note("hanging");
    g_mutex_lock(&never_lock);
    for (;;)
        g_cond_wait(&never_cond, &never_lock);
    return TF_STEP_PASSED;
}

/* A rendezvous across two connections: A waits until B released it. */
static tf_step_status st_wait_other(tf_step *s, GError **e)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    pthread_mutex_lock(&lock);
    a_waiting = TRUE;
    g_string_append(trail, "a-waiting;");
    pthread_cond_broadcast(&changed);
    while (!b_released && wait_until(deadline))
        ;
    gboolean ok = b_released;
    pthread_mutex_unlock(&lock);
    return ok ? TF_STEP_PASSED : TF_FAIL(e, "the other connection never came");
}
static tf_step_status st_release_other(tf_step *s, GError **e)
{
    pthread_mutex_lock(&lock);
    gboolean ok = a_waiting;
    b_released = TRUE;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    return ok ? TF_STEP_PASSED : TF_FAIL(e, "A was not waiting");
}

static tf_step_status hook_before_tagged(tf_world *w, GError **e)
{
    note("before:@wire");
    return TF_STEP_PASSED;
}
static tf_step_status hook_after(tf_world *w, GError **e)
{
    note("after:%s", tf_world_status(w) == TF_STEP_PASSED ? "passed" : "not-passed");
    return TF_STEP_PASSED;
}

static tf_step_status hook_before_broken(tf_world *w, GError **e)
{
    return TF_FAIL(e, "fixture: the test database is unreachable");
}
static tf_step_status hook_before_step(tf_world *w, GError **e)
{
    note("before-step");
    return TF_STEP_PASSED;
}
static tf_step_status hook_after_step(tf_world *w, GError **e)
{
    note("after-step");
    return TF_STEP_PASSED;
}

/* Notes the store and run its world carries ("store:none" without one). */
static tf_step_status st_store(tf_step *s, GError **e)
{
    tf_world *w = tf_step_world(s);
    tf_store *st;
    gint64 run = 0;
    if (tf_world_store(w, &st, e) == TF_LOOKUP_FOUND &&
        tf_world_run(w, &run, e) == TF_LOOKUP_FOUND) {
        char *base = g_path_get_basename(tf_store_path(st));
        note("store:%s:run%" G_GINT64_FORMAT, base, run);
        g_free(base);
    } else
        note("store:none");
    return TF_STEP_PASSED;
}

static gboolean register_steps(tf_registry *reg, GError **error)
{
    TF_GIVEN("I put {string} = {int}", st_put);
    TF_STEP("a step that passes", st_pass);
    TF_STEP("the world's store is noted", st_store);
    TF_STEP("a pending step", st_pending);
    TF_STEP("a step that logs", st_logs);
    TF_STEP("a failing step", st_fail);
    TF_STEP("ambiguous {word}", st_amb);
    TF_GIVEN_RE("^ambiguous (.*)$", st_amb);
    TF_STEP("a table:", st_table);
    TF_STEP("a doc string", st_doc);
    TF_STEP("a step that blocks until released", st_block);
    TF_STEP("a step that hangs", st_hang);
    TF_STEP("A waits for B", st_wait_other);
    TF_STEP("B releases A", st_release_other);
    TF_BEFORE("@wire", hook_before_tagged);
    TF_AFTER(NULL, hook_after);
    TF_BEFORE("@broken", hook_before_broken);
    const tf_hook_options stephooks = {.tags = "@stephooks"};
    if (!tf_registry_add_hook(reg, TF_HOOK_BEFORE_STEP, &stephooks, hook_before_step, __FILE__,
                              __LINE__, error) ||
        !tf_registry_add_hook(reg, TF_HOOK_AFTER_STEP, &stephooks, hook_after_step, __FILE__,
                              __LINE__, error))
        return FALSE;
    return TRUE;
}

/* A second module, a step library: its hooks run only where its steps do. */
static tf_step_status lib_step(tf_step *s, GError **e) { note("lib-step"); return TF_STEP_PASSED; }
static tf_step_status lib_before(tf_world *w, GError **e) { note("lib-before"); return TF_STEP_PASSED; }
static tf_step_status lib_after(tf_world *w, GError **e) { note("lib-after"); return TF_STEP_PASSED; }

static gboolean register_library(tf_registry *reg, GError **error)
{
    TF_STEP("a library step", lib_step);
    TF_BEFORE_OWN(NULL, lib_before);
    TF_AFTER_OWN(NULL, lib_after);
    return TRUE;
}

/* ---- a client ---- */

typedef struct {
    int fd;
    GString *buf;
} client;

static client *client_new(guint16 port)
{
    client *c = g_new0(client, 1);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&a, sizeof a), 0);
    c->buf = g_string_new(NULL);
    return c;
}

static void client_free(client *c)
{
    close(c->fd);
    g_string_free(c->buf, TRUE);
    g_free(c);
}

static void send_line(client *c, const char *line)
{
    char *l = g_strdup_printf("%s\n", line);
    assert_int_equal(send(c->fd, l, strlen(l), MSG_NOSIGNAL), (ssize_t)strlen(l));
    g_free(l);
}

/* The next reply line (parsed), waiting 10 s at most. */
static json_t *read_reply(client *c)
{
    for (;;) {
        char *nl = memchr(c->buf->str, '\n', c->buf->len);
        if (nl) {
            json_error_t je;
            json_t *j = json_loadb(c->buf->str, (size_t)(nl - c->buf->str), 0, &je);
            if (!j)
                fail_msg("reply is not JSON: %.*s", (int)(nl - c->buf->str), c->buf->str);
            g_string_erase(c->buf, 0, nl - c->buf->str + 1);
            return j;
        }
        struct pollfd p = {c->fd, POLLIN, 0};
        if (poll(&p, 1, 10000) != 1)
            fail_msg("no reply within 10 s");
        char chunk[4096];
        ssize_t n = recv(c->fd, chunk, sizeof chunk, 0);
        if (n <= 0)
            fail_msg("connection closed while waiting for a reply");
        g_string_append_len(c->buf, chunk, n);
    }
}

static json_t *rpc(client *c, const char *line)
{
    send_line(c, line);
    return read_reply(c);
}

static const char *reply_kind(json_t *r) { return json_string_value(json_array_get(r, 0)); }
static const char *fail_message(json_t *r)
{
    return json_string_value(json_object_get(json_array_get(r, 1), "message"));
}
static const char *fail_exception(json_t *r)
{
    return json_string_value(json_object_get(json_array_get(r, 1), "exception"));
}

/* The id cucumber would invoke for a step text (exactly one match expected). */
static char *match_id(client *c, const char *text)
{
    json_t *req = json_pack("[s,{s:s}]", "step_matches", "name_to_match", text);
    char *line = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    json_t *r = rpc(c, line);
    free(line);
    assert_string_equal(reply_kind(r), "success");
    assert_int_equal(json_array_size(json_array_get(r, 1)), 1);
    char *id = g_strdup(json_string_value(json_object_get(json_array_get(json_array_get(r, 1), 0), "id")));
    json_decref(r);
    return id;
}

/* Invokes the step matching text with args (a JSON array text, NULL = []). */
static json_t *invoke(client *c, const char *text, const char *args)
{
    char *id = match_id(c, text);
    char *line = g_strdup_printf("[\"invoke\",{\"id\":\"%s\",\"args\":%s}]", id, args ? args : "[]");
    json_t *r = rpc(c, line);
    g_free(line);
    g_free(id);
    return r;
}

/* Invokes and checks the reply's kind and (for a fail) part of its message. */
static void expect_invoke(client *c, const char *text, const char *args, const char *kind,
                          const char *message_part)
{
    json_t *r = invoke(c, text, args);
    assert_string_equal(reply_kind(r), kind);
    if (message_part)
        assert_non_null(strstr(fail_message(r), message_part));
    json_decref(r);
}

static void expect_success(client *c, const char *line)
{
    json_t *r = rpc(c, line);
    assert_string_equal(reply_kind(r), "success");
    json_decref(r);
}

/* ---- fixture ---- */

static tf_registry *reg;
static tf_wire_server *srv;
static guint16 port;

static int setup(void **unused)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&changed, &attr);
    pthread_condattr_destroy(&attr);
    trail = g_string_new(NULL);
    reg = tf_registry_new();
    GError *err = NULL;
    if (!tf_registry_add_module(reg, register_steps, &err) ||
        !tf_registry_add_module(reg, register_library, &err))
        fail_msg("%s", err->message);
    tf_wire_options o = {.step_timeout_us = 10 * G_USEC_PER_SEC};
    srv = tf_wire_server_new(reg, &o, &err);
    if (!srv || !tf_wire_server_start(srv, &err))
        fail_msg("%s", err->message);
    port = tf_wire_server_port(srv);
    return 0;
}

static int teardown(void **unused)
{
    tf_wire_server_free(srv);
    tf_registry_free(reg);
    g_string_free(trail, TRUE);
    return 0;
}

static int reset(void **unused)
{
    reset_trail();
    return 0;
}

/* ---- tests ---- */

static void test_malformed_json_keeps_connection(void **unused)
{
    client *c = client_new(port);
    json_t *r = rpc(c, "[\"step_matches\", {\"name_to_match\": ");
    assert_string_equal(reply_kind(r), "fail");
    assert_string_equal(fail_exception(r), "WireProtocolError");
    assert_non_null(strstr(fail_message(r), "malformed JSON request"));
    json_decref(r);
    r = rpc(c, "{\"not\": \"an array\"}");
    assert_string_equal(reply_kind(r), "fail");
    assert_non_null(strstr(fail_message(r), "a request is [\"message\"]"));
    json_decref(r);
    r = rpc(c, "[\"invoke\", 42]");
    assert_string_equal(reply_kind(r), "fail");
    assert_non_null(strstr(fail_message(r), "params must be an object"));
    json_decref(r);
    r = rpc(c, "[\"step_matches\", {\"name\": \"x\"}]");
    assert_non_null(strstr(fail_message(r), "name_to_match"));
    json_decref(r);
    /* still usable */
    char *id = match_id(c, "a step that passes");
    assert_string_equal(id, "0");
    g_free(id);
    client_free(c);
}

/* A line that never ends is not a client: told why, then closed (not buffered forever).
 * A server of its own with a 64 KiB limit (the default, 16 MiB, is the same code). */
static void test_endless_line_closes(void **unused)
{
    tf_wire_options o = {.max_request = 64 << 10};
    GError *err = NULL;
    tf_wire_server *s2 = tf_wire_server_new(reg, &o, &err);
    assert_non_null(s2);
    assert_true(tf_wire_server_start(s2, &err));
    client *c = client_new(tf_wire_server_port(s2));
    gsize n = (64 << 10) + 1; /* one byte over: all of it read, so a FIN, not a RST */
    char *junk = g_malloc(n);
    memset(junk, 'x', n);
    gsize sent = 0;
    while (sent < n) {
        ssize_t w = send(c->fd, junk + sent, n - sent, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        sent += (gsize)w;
    }
    g_free(junk);
    json_t *r = read_reply(c);
    assert_string_equal(reply_kind(r), "fail");
    assert_non_null(strstr(fail_message(r), "longer than 65536 bytes without a newline: closing"));
    json_decref(r);
    char b;
    struct pollfd p = {c->fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 10000), 1);
    assert_true(recv(c->fd, &b, 1, 0) <= 0); /* closed */
    client_free(c);
    tf_wire_server_free(s2);
}

static void test_unknown_message(void **unused)
{
    client *c = client_new(port);
    json_t *r = rpc(c, "[\"diff_ok\"]");
    assert_string_equal(reply_kind(r), "fail");
    assert_non_null(strstr(fail_message(r), "unknown message 'diff_ok'"));
    json_decref(r);
    r = rpc(c, "[\"invoke\",{\"id\":\"99\",\"args\":[]}]");
    assert_string_equal(reply_kind(r), "fail");
    assert_non_null(strstr(fail_message(r), "no step definition with id '99'"));
    json_decref(r);
    client_free(c);
}

static void test_step_matches_positions_in_characters(void **unused)
{
    client *c = client_new(port);
    /* "é" is two bytes: Ruby counts characters, so the second argument is at 16, not 17 */
    json_t *r = rpc(c, "[\"step_matches\",{\"name_to_match\":\"I put \\\"h\u00e9llo\\\" = 42\"}]");
    assert_string_equal(reply_kind(r), "success");
    json_t *ms = json_array_get(r, 1);
    assert_int_equal(json_array_size(ms), 1);
    json_t *m = json_array_get(ms, 0);
    json_t *args = json_object_get(m, "args");
    assert_int_equal(json_array_size(args), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(args, 0), "pos")), 6);
    assert_string_equal(json_string_value(json_object_get(json_array_get(args, 0), "val")),
                        "\"h\u00e9llo\"");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(args, 1), "pos")), 16);
    assert_string_equal(json_string_value(json_object_get(json_array_get(args, 1), "val")), "42");
    assert_string_equal(json_string_value(json_object_get(m, "regexp")), "I put {string} = {int}");
    assert_non_null(strstr(json_string_value(json_object_get(m, "source")), "test_wire_protocol.c:"));
    char *id = g_strdup(json_string_value(json_object_get(m, "id")));
    json_decref(r);
    /* the same text again: the same id (cucumber caches matches by step text) */
    r = rpc(c, "[\"step_matches\",{\"name_to_match\":\"I put \\\"h\u00e9llo\\\" = 42\"}]");
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_array_get(r, 1), 0), "id")),
                        id);
    g_free(id);
    json_decref(r);
    /* no match: an empty list (cucumber reports the step undefined) */
    r = rpc(c, "[\"step_matches\",{\"name_to_match\":\"nothing matches this\"}]");
    assert_string_equal(reply_kind(r), "success");
    assert_int_equal(json_array_size(json_array_get(r, 1)), 0);
    json_decref(r);
    /* two definitions: both come back and cucumber reports the step ambiguous */
    r = rpc(c, "[\"step_matches\",{\"name_to_match\":\"ambiguous thing\"}]");
    assert_int_equal(json_array_size(json_array_get(r, 1)), 2);
    json_decref(r);
    client_free(c);
}

static void test_invoke_results(void **unused)
{
    client *c = client_new(port);
    expect_success(c, "[\"begin_scenario\"]");
    expect_invoke(c, "I put \"h\u00e9llo\" = 42", "[\"\\\"h\u00e9llo\\\"\",\"42\"]", "success",
                  NULL);
    assert_true(trail_has("put:h\u00e9llo=42;"));
    expect_invoke(c, "a pending step", NULL, "pending", NULL);
    json_t *r = invoke(c, "a failing step", NULL);
    assert_string_equal(reply_kind(r), "fail");
    assert_string_equal(fail_message(r), "boom: the answer was 41, not 42");
    assert_string_equal(fail_exception(r), "GError");
    json_t *bt = json_object_get(json_array_get(r, 1), "backtrace");
    assert_non_null(strstr(json_string_value(json_array_get(bt, 0)), "test_wire_protocol.c:"));
    json_decref(r);
    /* a wrong argument count is the client's mistake and says so */
    expect_invoke(c, "a step that passes", "[\"x\",\"y\"]", "fail", "takes 0 arguments");
    expect_invoke(c, "I put \"h\u00e9llo\" = 42", "[\"\\\"h\u00e9llo\\\"\",\"43\"]", "fail",
                  "argument 2 of 'I put {string} = {int}' was matched as '42'");
    expect_success(c, "[\"end_scenario\"]");
    assert_true(trail_has("after:not-passed;")); /* the After hook saw the failure */
    client_free(c);
}

static void test_table_and_doc_string(void **unused)
{
    client *c = client_new(port);
    expect_success(c, "[\"begin_scenario\"]");
    expect_invoke(c, "a table:", "[[[\"name\",\"value\"],[\"k\u00e9y\",\"1\"]]]", "success",
                  NULL);
    assert_true(trail_has("table:name,value/k\u00e9y,1/;"));
    expect_invoke(c, "a doc string", "[\"line one\\nline two\"]", "success", NULL);
    assert_true(trail_has("doc:line one\nline two;"));
    expect_invoke(c, "a table:", "[[[\"ok\"],\"not a row\"]]", "fail",
                  "row 2 is not a list of cells");
    expect_success(c, "[\"end_scenario\"]");
    client_free(c);
}

static void test_snippet_text(void **unused)
{
    client *c = client_new(port);
    json_t *r = rpc(c, "[\"snippet_text\",{\"step_keyword\":\"Given\",\"step_name\":\"I have 3 cukes\","
                       "\"multiline_arg_class\":\"Cucumber::MultilineArgument::DataTable\"}]");
    assert_string_equal(reply_kind(r), "success");
    const char *s = json_string_value(json_array_get(r, 1));
    assert_non_null(strstr(s, "TF_GIVEN(\"I have {int} cukes\""));
    assert_non_null(strstr(s, "tf_step_arg_int(step, 0)"));
    assert_non_null(strstr(s, "tf_step_table(step, &n_rows)"));
    json_decref(r);
    r = rpc(c, "[\"snippet_text\",{\"step_keyword\":\"Then \",\"step_name\":\"it works\","
               "\"multiline_arg_class\":\"\"}]");
    assert_non_null(strstr(json_string_value(json_array_get(r, 1)), "TF_THEN(\"it works\""));
    json_decref(r);
    client_free(c);
}

static void test_scenario_hooks_by_tag_and_cleanup(void **unused)
{
    client *c = client_new(port);
    expect_success(c, "[\"begin_scenario\",{\"tags\":[\"other\"]}]");
    expect_success(c, "[\"end_scenario\",{\"tags\":[\"other\"]}]");
    assert_false(trail_has("before:@wire"));
    assert_true(trail_has("after:passed;"));
    expect_success(c, "[\"begin_scenario\",{\"tags\":[\"slow\",\"wire\"]}]");
    assert_true(trail_has("before:@wire;"));
    expect_invoke(c, "a step that passes", NULL, "success", NULL);
    /* a new scenario without end_scenario: the old one is finished first */
    reset_trail();
    expect_success(c, "[\"begin_scenario\"]");
    assert_true(trail_has("after:passed;"));
    expect_success(c, "[\"end_scenario\"]");
    /* end_scenario with none open is harmless */
    expect_success(c, "[\"end_scenario\"]");
    client_free(c);
}

static void test_failing_before_hook_and_step_hooks(void **unused)
{
    client *c = client_new(port);
    json_t *r = rpc(c, "[\"begin_scenario\",{\"tags\":[\"broken\"]}]");
    assert_string_equal(reply_kind(r), "fail");
    assert_string_equal(fail_message(r), "fixture: the test database is unreachable");
    assert_non_null(strstr(json_string_value(json_array_get(json_object_get(json_array_get(r, 1),
                                                                            "backtrace"), 0)),
                           "test_wire_protocol.c:"));
    json_decref(r);
    expect_success(c, "[\"end_scenario\"]"); /* cucumber still ends it: After hooks run */
    assert_true(trail_has("after:not-passed;"));
    reset_trail();
    expect_success(c, "[\"begin_scenario\",{\"tags\":[\"stephooks\"]}]");
    expect_invoke(c, "a step that passes", NULL, "success", NULL);
    assert_true(trail_has("before-step;pass;after-step;"));
    expect_success(c, "[\"end_scenario\"]");
    client_free(c);
}

/* Over the wire the steps are known as they are invoked: a TF_HOOK_OWN_STEPS After hook
 * runs once a step of its module ran, never otherwise; such a Before hook never runs. */
static void test_own_steps_hooks(void **unused)
{
    client *c = client_new(port);
    expect_success(c, "[\"begin_scenario\"]");
    expect_invoke(c, "a step that passes", NULL, "success", NULL);
    expect_success(c, "[\"end_scenario\"]");
    assert_false(trail_has("lib-"));
    expect_success(c, "[\"begin_scenario\"]");
    expect_invoke(c, "a step that passes", NULL, "success", NULL);
    expect_invoke(c, "a library step", NULL, "success", NULL);
    expect_success(c, "[\"end_scenario\"]");
    assert_true(trail_has("lib-step;"));
    assert_true(trail_has("lib-after;"));
    assert_false(trail_has("lib-before"));
    client_free(c);
}

static void test_two_connections_at_once(void **unused)
{
    client *a = client_new(port), *b = client_new(port);
    expect_success(a, "[\"begin_scenario\"]");
    expect_success(b, "[\"begin_scenario\"]");
    char *id = match_id(a, "A waits for B");
    char *line = g_strdup_printf("[\"invoke\",{\"id\":\"%s\",\"args\":[]}]", id);
    send_line(a, line); /* A's step now blocks until B's step runs */
    assert_true(await_trail("a-waiting;"));
    json_t *rb = invoke(b, "B releases A", NULL);
    assert_string_equal(reply_kind(rb), "success");
    json_t *ra = read_reply(a);
    assert_string_equal(reply_kind(ra), "success");
    json_decref(ra);
    json_decref(rb);
    g_free(line);
    g_free(id);
    expect_success(a, "[\"end_scenario\"]");
    expect_success(b, "[\"end_scenario\"]");
    client_free(a);
    client_free(b);
}

static void test_disconnect_mid_step_cleans_up(void **unused)
{
    client *c = client_new(port);
    expect_success(c, "[\"begin_scenario\"]");
    char *id = match_id(c, "a step that blocks until released");
    char *line = g_strdup_printf("[\"invoke\",{\"id\":\"%s\",\"args\":[]}]", id);
    send_line(c, line);
    assert_true(await_trail("entered;"));
    client_free(c); /* gone mid-step, without end_scenario */
    pthread_mutex_lock(&lock);
    released = TRUE;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    /* the step finishes, then the After hooks and the world's cleanups run */
    assert_true(await_trail("cleanup:cluster;"));
    assert_true(trail_has("left;after:passed;cleanup:cluster;"));
    g_free(line);
    g_free(id);
}

static void test_disconnect_between_steps_cleans_up(void **unused)
{
    client *c = client_new(port);
    expect_success(c, "[\"begin_scenario\"]");
    pthread_mutex_lock(&lock);
    released = TRUE;
    pthread_mutex_unlock(&lock);
    expect_invoke(c, "a step that blocks until released", NULL, "success", NULL);
    assert_false(trail_has("cleanup:cluster"));
    client_free(c);
    assert_true(await_trail("after:passed;cleanup:cluster;"));
}

/* A second server whose steps may take 0.2 s: a hung step fails with the same text as
 * under tf run, and the scenario is still cleaned up. */
static void test_step_timeout(void **unused)
{
    tf_wire_options o = {.step_timeout_us = 200 * 1000};
    GError *err = NULL;
    tf_wire_server *s2 = tf_wire_server_new(reg, &o, &err);
    assert_non_null(s2);
    assert_true(tf_wire_server_start(s2, &err));
    client *c = client_new(tf_wire_server_port(s2));
    expect_success(c, "[\"begin_scenario\"]");
    json_t *r = invoke(c, "a step that hangs", NULL);
    assert_string_equal(reply_kind(r), "fail");
    assert_string_equal(fail_message(r), "timed out after 0.2 s (--step-timeout)");
    assert_string_equal(fail_exception(r), "Timeout");
    json_decref(r);
    expect_success(c, "[\"end_scenario\"]");
    assert_true(trail_has("after:not-passed;cleanup:hung-cluster;"));
    client_free(c);
    tf_wire_server_free(s2);
}

/* Stopping the server (tf wire's SIGINT) interrupts a step in flight; the scenario's
 * After hooks and cleanups still run before the stop returns. */
static void test_stop_interrupts_step(void **unused)
{
    tf_wire_options o = {.step_timeout_us = 0};
    GError *err = NULL;
    tf_wire_server *s2 = tf_wire_server_new(reg, &o, &err);
    assert_non_null(s2);
    assert_true(tf_wire_server_start(s2, &err));
    client *c = client_new(tf_wire_server_port(s2));
    expect_success(c, "[\"begin_scenario\"]");
    char *id = match_id(c, "a step that hangs");
    char *line = g_strdup_printf("[\"invoke\",{\"id\":\"%s\",\"args\":[]}]", id);
    send_line(c, line);
    assert_true(await_trail("hanging;"));
    tf_wire_server_free(s2);
    assert_true(trail_has("hanging;after:not-passed;cleanup:hung-cluster;"));
    json_t *r = read_reply(c); /* the client was told, if it still listens */
    assert_string_equal(reply_kind(r), "fail");
    assert_string_equal(fail_message(r), "interrupted (SIGINT/SIGTERM)");
    json_decref(r);
    client_free(c);
    g_free(line);
    g_free(id);
}

/* With a store (tf wire --store), every scenario's world carries it and the server's run. */
static void test_worlds_carry_the_store(void **unused)
{
    char *dir = g_dir_make_tmp("tf-wire-store-XXXXXX", NULL);
    char *path = g_build_filename(dir, "wire.db", NULL);
    GError *err = NULL;
    tf_store *st = tf_store_open(path, &err);
    assert_non_null(st);
    gint64 run = tf_store_run_begin(st, "tf wire", &err);
    assert_true(run > 0);
    tf_wire_options o = {.step_timeout_us = G_USEC_PER_SEC, .store = st, .store_run = run};
    tf_wire_server *s2 = tf_wire_server_new(reg, &o, &err);
    assert_non_null(s2);
    assert_true(tf_wire_server_start(s2, &err));
    client *c = client_new(tf_wire_server_port(s2));
    char *want = g_strdup_printf("store:wire.db:run%" G_GINT64_FORMAT ";", run);
    for (int k = 0; k < 2; k++) { /* the same run in every scenario */
        reset_trail();
        expect_success(c, "[\"begin_scenario\"]");
        expect_invoke(c, "the world's store is noted", NULL, "success", NULL);
        expect_success(c, "[\"end_scenario\"]");
        assert_true(trail_has(want));
    }
    client_free(c);
    tf_wire_server_free(s2);
    /* without one, worlds have none (TF_STORE unset) */
    g_unsetenv("TF_STORE");
    reset_trail();
    client *d = client_new(port);
    expect_success(d, "[\"begin_scenario\"]");
    expect_invoke(d, "the world's store is noted", NULL, "success", NULL);
    expect_success(d, "[\"end_scenario\"]");
    assert_true(trail_has("store:none;"));
    client_free(d);
    tf_store_unref(st);
    g_free(want);
    char *rm[] = {"rm", "-rf", dir, NULL};
    g_spawn_sync(NULL, rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free(path);
    g_free(dir);
}

/* What steps log has no place in the protocol: the server's log shows it. */
static void test_step_log_goes_to_server_log(void **unused)
{
    FILE *log = tmpfile();
    assert_non_null(log);
    tf_wire_options o = {.step_timeout_us = 10 * G_USEC_PER_SEC, .log = log};
    GError *err = NULL;
    tf_wire_server *s2 = tf_wire_server_new(reg, &o, &err);
    assert_non_null(s2);
    assert_true(tf_wire_server_start(s2, &err));
    client *c = client_new(tf_wire_server_port(s2));
    expect_success(c, "[\"begin_scenario\"]");
    expect_invoke(c, "a step that logs", NULL, "success", NULL);
    expect_invoke(c, "a failing step", NULL, "fail", "boom");
    expect_success(c, "[\"end_scenario\"]");
    client_free(c);
    tf_wire_server_free(s2); /* waits for the connection thread: the log is complete */
    char text[4096] = "";
    rewind(log);
    size_t n = fread(text, 1, sizeof text - 1, log);
    text[n] = 0;
    fclose(log);
    assert_non_null(strstr(text, ": connected\n"));
    assert_non_null(strstr(text, "tf wire: log: cluster etcd-3 up after 2 tries\n"));
    assert_non_null(strstr(text, "tf wire: step 'a failing step' failed: boom: the answer was 41, not 42\n"));
    assert_non_null(strstr(text, ": connection closed\n"));
}

static void test_bind_error_names_address(void **unused)
{
    tf_wire_options o = {.host = "127.0.0.1", .port = port};
    GError *err = NULL;
    assert_null(tf_wire_server_new(reg, &o, &err));
    assert_non_null(strstr(err->message, "listen on 127.0.0.1:"));
    g_clear_error(&err);
    o.host = "localhost.invalid";
    assert_null(tf_wire_server_new(reg, &o, &err));
    assert_non_null(strstr(err->message, "--host localhost.invalid"));
    g_clear_error(&err);
}

/* The listening socket of this process bound to port (found through /proc/self/fd). */
static int listener_fd(guint16 port)
{
    GDir *d = g_dir_open("/proc/self/fd", 0, NULL);
    assert_non_null(d);
    const char *n;
    int found = -1;
    while (found < 0 && (n = g_dir_read_name(d))) {
        int fd = atoi(n);
        int listening = 0;
        socklen_t len = sizeof listening;
        struct sockaddr_in a;
        socklen_t alen = sizeof a;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening &&
            getsockname(fd, (struct sockaddr *)&a, &alen) == 0 && a.sin_family == AF_INET &&
            ntohs(a.sin_port) == port)
            found = fd;
    }
    g_dir_close(d);
    assert_true(found >= 0);
    return found;
}

/* Many clients connecting at once (a parallel Cucumber, a retry storm) must all be
 * queued by the kernel until the server accepts them: with listen(fd, 16) the 18th SYN is
 * dropped and its connect stalls for a 1 s SYN retry (about 1 connect in 20 with 200
 * clients). Checked without timing: before the server accepts anything, (1) the listener's
 * backlog (TCP_INFO of a listening socket: tcpi_sacked = its maximum, tcpi_unacked = the
 * queue) is SOMAXCONN as the kernel caps it, and (2) every one of N non-blocking connects
 * completes and sits in the accept queue. Then each client is served. */
static void test_many_connects_at_once(void **unused)
{
    char *text = NULL;
    guint64 somaxconn = SOMAXCONN;
    if (g_file_get_contents("/proc/sys/net/core/somaxconn", &text, NULL, NULL))
        somaxconn = MIN(somaxconn, g_ascii_strtoull(text, NULL, 10));
    g_free(text);
    guint n = (guint)MIN(200, somaxconn);
    if (n < 64)
        fail_msg("net.core.somaxconn is %" G_GUINT64_FORMAT ": this machine cannot queue 64 "
                 "connects, so the test cannot tell a small backlog from the kernel's cap",
                 somaxconn);
    tf_wire_options o = {0};
    GError *err = NULL;
    tf_wire_server *s2 = tf_wire_server_new(reg, &o, &err); /* listening, not accepting */
    assert_non_null(s2);
    guint16 p = tf_wire_server_port(s2);
    int lfd = listener_fd(p);
    struct tcp_info ti;
    socklen_t tlen = sizeof ti;
    assert_int_equal(getsockopt(lfd, IPPROTO_TCP, TCP_INFO, &ti, &tlen), 0);
    assert_int_equal(ti.tcpi_sacked, (guint32)somaxconn); /* the backlog asked for */

    int *fds = g_new(int, n);
    struct pollfd *pf = g_new0(struct pollfd, n);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (guint i = 0; i < n; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        assert_true(fds[i] >= 0);
        int r = connect(fds[i], (struct sockaddr *)&a, sizeof a);
        assert_true(r == 0 || errno == EINPROGRESS);
        pf[i] = (struct pollfd){fds[i], POLLOUT, 0};
    }
    /* Completed handshakes are writable at once; a dropped SYN would not be before its
     * retry (1 s) and, the queue staying full, not even then: 5 s is only a safety net. */
    guint connected = 0;
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (connected < n && g_get_monotonic_time() < deadline) {
        int left = (int)((deadline - g_get_monotonic_time()) / 1000);
        if (poll(pf, n, MAX(left, 1)) < 0 && errno != EINTR)
            break;
        connected = 0;
        for (guint i = 0; i < n; i++) {
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (pf[i].revents & POLLOUT) {
                getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &soerr, &sl);
                assert_int_equal(soerr, 0);
                pf[i].events = 0; /* done: poll no more */
            }
            connected += pf[i].events == 0;
        }
    }
    tlen = sizeof ti;
    assert_int_equal(getsockopt(lfd, IPPROTO_TCP, TCP_INFO, &ti, &tlen), 0);
    if (connected != n || ti.tcpi_unacked != n)
        fail_msg("%u of %u connects completed, %u queued (backlog %u): the rest wait for a "
                 "SYN retry", connected, n, ti.tcpi_unacked, ti.tcpi_sacked);
    assert_true(tf_wire_server_start(s2, &err));
    for (guint i = 0; i < n; i++) { /* every queued client is served */
        fcntl(fds[i], F_SETFL, 0);
        client c = {.fd = fds[i], .buf = g_string_new(NULL)};
        json_t *r = rpc(&c, "[\"step_matches\",{\"name_to_match\":\"a step that passes\"}]");
        assert_string_equal(reply_kind(r), "success");
        json_decref(r);
        g_string_free(c.buf, TRUE);
        close(fds[i]);
    }
    tf_wire_server_free(s2);
    g_free(pf);
    g_free(fds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_malformed_json_keeps_connection, reset),
        cmocka_unit_test_setup(test_endless_line_closes, reset),
        cmocka_unit_test_setup(test_unknown_message, reset),
        cmocka_unit_test_setup(test_step_matches_positions_in_characters, reset),
        cmocka_unit_test_setup(test_invoke_results, reset),
        cmocka_unit_test_setup(test_table_and_doc_string, reset),
        cmocka_unit_test_setup(test_snippet_text, reset),
        cmocka_unit_test_setup(test_scenario_hooks_by_tag_and_cleanup, reset),
        cmocka_unit_test_setup(test_failing_before_hook_and_step_hooks, reset),
        cmocka_unit_test_setup(test_own_steps_hooks, reset),
        cmocka_unit_test_setup(test_two_connections_at_once, reset),
        cmocka_unit_test_setup(test_disconnect_mid_step_cleans_up, reset),
        cmocka_unit_test_setup(test_disconnect_between_steps_cleans_up, reset),
        cmocka_unit_test_setup(test_step_timeout, reset),
        cmocka_unit_test_setup(test_stop_interrupts_step, reset),
        cmocka_unit_test_setup(test_step_log_goes_to_server_log, reset),
        cmocka_unit_test_setup(test_worlds_carry_the_store, reset),
        cmocka_unit_test_setup(test_bind_error_names_address, reset),
        cmocka_unit_test_setup(test_many_connects_at_once, reset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
