/* test_cluster_backend.c: the backend table behind tf_cluster (tf/cluster/backend_priv.h).
 * A backend written here, in this one file, as a fourth backend would be: a fixed member
 * table with the required hooks only. The public tf_cluster_* calls must reach its hooks,
 * answer for the hooks it leaves out as cluster.h says for an environment without them,
 * and keep the lifetime rules every backend relies on (release once at tf_cluster_free,
 * with freed already set; destroy at the last reference, which a provider may hold). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>
#include "tf/cluster.h"
#include "tf/error.h"
#include "../../tf/cluster/backend_priv.h"
#include "../../tf/cluster/cluster_priv.h"

#define N 3

typedef struct {
    tf_node_state state[N];
    GString *calls;      /* "hook(i) " per call, in order */
    guint released;
    gboolean freed_at_release;
    guint *destroyed;    /* the test's counter: the table is gone when it is read */
} table;

static table *T(const tf_cluster *c)
{
    return c->backend_data;
}

static void note(tf_cluster *c, const char *hook, gint i)
{
    if (i < 0)
        g_string_append_printf(T(c)->calls, "%s ", hook);
    else
        g_string_append_printf(T(c)->calls, "%s(%d) ", hook, i);
}

static const char *tb_kind(const tf_cluster *c)
{
    (void)c;
    return "table";
}

static gboolean tb_start(tf_cluster *c, GError **error)
{
    (void)error;
    note(c, "start", -1);
    for (guint i = 0; i < N; i++)
        T(c)->state[i] = TF_NODE_RUNNING;
    return TRUE;
}

static void tb_stop(tf_cluster *c)
{
    note(c, "stop", -1);
}

static void tb_release(tf_cluster *c)
{
    pthread_mutex_lock(&c->lock);
    T(c)->freed_at_release = c->freed;
    pthread_mutex_unlock(&c->lock);
    T(c)->released++;
}

static void tb_destroy(tf_cluster *c)
{
    table *t = T(c);
    (*t->destroyed)++;
    g_string_free(t->calls, TRUE);
    g_free(t);
}

static const char *tb_name(const tf_cluster *c)
{
    (void)c;
    return "tbl";
}

static const char *tb_where(const tf_cluster *c)
{
    (void)c;
    return "a table in memory";
}

static guint tb_size(tf_cluster *c)
{
    (void)c;
    return N;
}

static const char *const names[N] = {"a", "b", "c"};
static const char *const urls[N] = {"http://127.0.0.1:1", "http://127.0.0.1:2",
                                    "http://127.0.0.1:3"};

static gint tb_node_index(tf_cluster *c, const char *name)
{
    (void)c;
    for (gint i = 0; i < N; i++)
        if (!strcmp(names[i], name))
            return i;
    return -1;
}

static const char *tb_node_name(tf_cluster *c, guint i)
{
    (void)c;
    return i < N ? names[i] : NULL;
}

static guint tb_node_port(tf_cluster *c, guint i, const char *port_name)
{
    (void)c;
    return i < N && port_name && !strcmp(port_name, "client") ? i + 1 : 0;
}

static const char *tb_node_url(tf_cluster *c, guint i)
{
    (void)c;
    return i < N ? urls[i] : NULL;
}

static gchar *tb_node_log_tail(tf_cluster *c, guint i, tf_cluster_log which, gsize max_bytes)
{
    (void)max_bytes;
    note(c, which == TF_CLUSTER_LOG_STDERR ? "tail-err" : "tail-out", (gint)i);
    return g_strdup("");
}

static tf_source *tb_node_source(tf_cluster *c, guint i)
{
    if (i >= N)
        return NULL;
    json_t *attrs = json_pack("{s:s}", "state", tf_node_state_name(T(c)->state[i]));
    return tf_source_new(names[i], urls[i], attrs, NULL, NULL);
}

static gboolean tb_list_sources(tf_cluster *c, GPtrArray *out, GError **error)
{
    (void)error;
    pthread_mutex_lock(&c->lock);
    gboolean freed = c->freed;
    pthread_mutex_unlock(&c->lock);
    for (guint i = 0; !freed && i < N; i++)
        g_ptr_array_add(out, tb_node_source(c, i));
    return TRUE;
}

/* Every process fault sets the state it leaves, so the dispatch is visible in the state. */
static gboolean set(tf_cluster *c, const char *hook, guint i, tf_node_state st, GError **error)
{
    note(c, hook, (gint)i);
    if (i >= N) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "tbl: no node %u", i);
        return FALSE;
    }
    T(c)->state[i] = st;
    return TRUE;
}

#define TB_FAULT(fn, hook, st) \
    static gboolean fn(tf_cluster *c, guint i, GError **error) \
    { \
        return set(c, hook, i, st, error); \
    }
TB_FAULT(tb_start_node, "start", TF_NODE_RUNNING)
TB_FAULT(tb_stop_node, "stop", TF_NODE_STOPPED)
TB_FAULT(tb_kill, "kill", TF_NODE_EXITED)
TB_FAULT(tb_pause, "pause", TF_NODE_PAUSED)
TB_FAULT(tb_resume, "resume", TF_NODE_RUNNING)
TB_FAULT(tb_restart, "restart", TF_NODE_RUNNING)

static gboolean tb_wait_ready(tf_cluster *c, guint i, gint64 timeout_us, GError **error)
{
    (void)error;
    note(c, timeout_us == 7 ? "ready7" : "ready", (gint)i);
    return i < N;
}

static tf_node_state tb_state(tf_cluster *c, guint i, int *wait_status)
{
    if (wait_status)
        *wait_status = 42;
    return i < N ? T(c)->state[i] : TF_NODE_STOPPED;
}

/* Only what is required: every optional hook is left NULL. */
static const tf_cluster_backend table_backend = {
    .kind = tb_kind,
    .start = tb_start,
    .stop = tb_stop,
    .release = tb_release,
    .destroy = tb_destroy,
    .name = tb_name,
    .where = tb_where,
    .size = tb_size,
    .node_index = tb_node_index,
    .node_name = tb_node_name,
    .node_port = tb_node_port,
    .node_url = tb_node_url,
    .node_log_tail = tb_node_log_tail,
    .node_source = tb_node_source,
    .list_sources = tb_list_sources,
    .node_start = tb_start_node,
    .node_stop = tb_stop_node,
    .node_kill = tb_kill,
    .node_pause = tb_pause,
    .node_resume = tb_resume,
    .node_restart = tb_restart,
    .node_wait_ready = tb_wait_ready,
    .node_state = tb_state,
};

static tf_cluster *table_new(guint *destroyed)
{
    table *t = g_new0(table, 1);
    t->calls = g_string_new(NULL);
    t->destroyed = destroyed;
    return tf_cluster_alloc(&table_backend, t);
}

static void assert_calls(tf_cluster *c, const char *want)
{
    assert_string_equal(T(c)->calls->str, want);
    g_string_truncate(T(c)->calls, 0);
}

static void test_dispatch(void **state)
{
    (void)state;
    guint destroyed = 0;
    tf_cluster *c = table_new(&destroyed);
    GError *e = NULL;
    assert_true(tf_cluster_start(c, &e));
    assert_string_equal(tf_cluster_name(c), "tbl");
    assert_string_equal(tf_cluster_dir(c), "a table in memory");
    assert_int_equal(tf_cluster_size(c), N);
    assert_int_equal(tf_cluster_node_index(c, "c"), 2);
    assert_int_equal(tf_cluster_node_index(c, "z"), -1);
    assert_string_equal(tf_cluster_node_name(c, 1), "b");
    assert_int_equal(tf_cluster_node_port(c, 1, "client"), 2);
    assert_string_equal(tf_cluster_node_url(c, 2), "http://127.0.0.1:3");

    /* each process fault reaches its own hook, with its node */
    assert_true(tf_cluster_node_stop(c, 0, &e));
    assert_int_equal(tf_cluster_node_state(c, 0, NULL), TF_NODE_STOPPED);
    assert_true(tf_cluster_node_kill(c, 1, &e));
    int status = 0;
    assert_int_equal(tf_cluster_node_state(c, 1, &status), TF_NODE_EXITED);
    assert_int_equal(status, 42);
    assert_true(tf_cluster_node_start(c, 0, &e));
    assert_true(tf_cluster_node_pause(c, 2, &e));
    assert_int_equal(tf_cluster_node_state(c, 2, NULL), TF_NODE_PAUSED);
    assert_true(tf_cluster_node_resume(c, 2, &e));
    assert_true(tf_cluster_node_restart(c, 1, &e));
    assert_true(tf_cluster_node_wait_ready(c, 1, 7, &e));
    assert_false(tf_cluster_node_stop(c, 9, &e));
    assert_string_equal(e->message, "tbl: no node 9");
    g_clear_error(&e);
    g_free(tf_cluster_node_log_tail(c, 2, TF_CLUSTER_LOG_STDOUT, 10));
    tf_cluster_stop(c);
    assert_calls(c, "start stop(0) kill(1) start(0) pause(2) resume(2) restart(1) ready7(1) "
                    "stop(9) tail-out(2) stop ");

    tf_source *src = tf_cluster_node_source(c, 1);
    assert_string_equal(tf_source_name(src), "b");
    assert_string_equal(tf_source_attr_str(src, "state"), "running");
    tf_source_unref(src);
    tf_cluster_free(c);
    assert_int_equal(destroyed, 1);
}

/* A hook left out: the answer cluster.h gives for an environment without it. */
static void test_missing_hooks(void **state)
{
    (void)state;
    guint destroyed = 0;
    tf_cluster *c = table_new(&destroyed);
    GError *e = NULL;
    assert_null(tf_cluster_node_dir(c, 0));
    assert_null(tf_cluster_node_argv(c, 0));
    assert_null(tf_cluster_node_address(c, 0));
    assert_null(tf_cluster_node_log_path(c, 0, TF_CLUSTER_LOG_STDOUT));
    assert_null(tf_cluster_keep_logs(c));
    assert_int_equal(tf_cluster_node_pid(c, 0), 0);
    assert_false(tf_cluster_node_isolated(c, 0));
    assert_true(tf_cluster_heal(c, &e)); /* nothing it can break */
    assert_null(e);
    assert_int_equal(tf_cluster_faults_active(c), 0);

    static const char *const want[] = {
        "adding a member", "template expansion", "isolating a member", "rejoining a member",
        "partitioning the network", "a one-way cut", "packet loss", "delaying packets",
        "cutting the observer off"};
    guint groups[N] = {0, 0, 1};
    for (guint k = 0; k < G_N_ELEMENTS(want); k++) {
        gboolean ok;
        switch (k) {
        case 0: ok = tf_cluster_node_add(c, &e) >= 0; break;
        case 1: ok = tf_cluster_expand(c, 0, "{dir}", &e) != NULL; break;
        case 2: ok = tf_cluster_node_isolate(c, 0, &e); break;
        case 3: ok = tf_cluster_node_rejoin(c, 0, &e); break;
        case 4: ok = tf_cluster_partition(c, groups, N, &e); break;
        case 5: ok = tf_cluster_cut(c, 0, 1, &e); break;
        case 6: ok = tf_cluster_node_lose(c, 0, 0.5, &e); break;
        case 7: ok = tf_cluster_node_delay(c, 0, 1000, &e); break;
        default: ok = tf_cluster_node_unobserve(c, 0, &e); break;
        }
        assert_false(ok);
        assert_non_null(e);
        gchar *msg = g_strdup_printf("table/tbl: %s is not supported by this environment",
                                     want[k]);
        assert_string_equal(e->message, msg);
        assert_true(g_error_matches(e, TF_ERROR, TF_ERROR_INVALID));
        g_free(msg);
        g_clear_error(&e);
    }
    assert_calls(c, ""); /* no hook was reached */
    tf_cluster_free(c);
    assert_int_equal(destroyed, 1);
}

/* tf_cluster_free releases once, with freed set (providers list nothing from then on);
 * the backend's state lives until the provider lets go. */
static void test_lifetime(void **state)
{
    (void)state;
    guint destroyed = 0;
    tf_cluster *c = table_new(&destroyed);
    table *t = T(c);
    tf_source_provider *p = tf_cluster_provider(c);
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)tf_source_unref);
    GError *e = NULL;
    assert_true(tf_source_provider_list(p, out, &e));
    assert_int_equal(out->len, N);
    g_ptr_array_set_size(out, 0);
    tf_cluster_free(c);
    assert_int_equal(t->released, 1);
    assert_true(t->freed_at_release);
    assert_int_equal(destroyed, 0); /* the provider holds it */
    assert_true(tf_source_provider_list(p, out, &e));
    assert_int_equal(out->len, 0);
    tf_source_provider_free(p);
    assert_int_equal(destroyed, 1);
    g_ptr_array_unref(out);
    tf_cluster_free(NULL); /* a no-op, as documented */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dispatch),
        cmocka_unit_test(test_missing_hooks),
        cmocka_unit_test(test_lifetime),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
