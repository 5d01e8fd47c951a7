/* test_raftkv_model.c: the Raft KV model's rules with exact inputs: elections, leader
 * loss, term changes, quorum, leaderless time, Election Safety (and its tolerance of one
 * torn status read), and the etcd / generic JSON adapters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>
#include "fixture_http.h"
#include "raftkv/raftkv.h"
#include "tf/error.h"
#include "tf/handle.h"
#include "tf/runtime.h"
#include "tf/snapshot.h"
#include "tf/source.h"

typedef struct {
    GPtrArray *events;
} sink;

static void collect(raftkv_event *ev, void *data) { g_ptr_array_add(((sink *)data)->events, ev); }

static sink *sink_new(void)
{
    sink *s = g_new0(sink, 1);
    s->events = g_ptr_array_new_with_free_func((GDestroyNotify)raftkv_event_free);
    return s;
}

static void sink_free(sink *s)
{
    g_ptr_array_unref(s->events);
    g_free(s);
}

/* The events of the last cycle as "kind:detail" joined by spaces. */
static char *drain(sink *s)
{
    GString *out = g_string_new(NULL);
    for (guint i = 0; i < s->events->len; i++) {
        raftkv_event *e = s->events->pdata[i];
        if (out->len)
            g_string_append_c(out, ' ');
        g_string_append(out, raftkv_event_kind_name(e->kind));
        if (e->node)
            g_string_append_printf(out, ":%s", e->node);
        if (e->leader)
            g_string_append_printf(out, ":%s", e->leader);
        if (e->other)
            g_string_append_printf(out, ":%s", e->other);
        if (e->term)
            g_string_append_printf(out, "@%" G_GUINT64_FORMAT, e->term);
    }
    g_ptr_array_set_size(s->events, 0);
    return g_string_free(out, FALSE);
}

/* A cycle: "up" entries are "name id leader term", "-" for no leader; NULL entry = down. */
typedef struct {
    const char *name;
    const char *id, *leader;
    guint64 term;
    gboolean down;
} obs;

static const char *const members[] = {"n1", "n2", "n3"};

static char *cycle(raftkv_model *m, sink *s, gint64 now, const obs *o, guint n)
{
    raftkv_model_begin(m, members, 3);
    for (guint i = 0; i < n; i++) {
        if (o[i].down) {
            raftkv_model_observe(m, o[i].name, NULL, "connection refused", now, collect, s);
        } else {
            raftkv_status st = {(char *)o[i].id, (char *)o[i].leader, o[i].term, 10, 10};
            raftkv_model_observe(m, o[i].name, &st, NULL, now, collect, s);
        }
    }
    raftkv_model_end(m, now, collect, s);
    return drain(s);
}

#define CHECK_CYCLE(want, ...)                                                 \
    do {                                                                       \
        obs o_[] = {__VA_ARGS__};                                              \
        char *got_ = cycle(m, s, now, o_, G_N_ELEMENTS(o_));                   \
        assert_string_equal(got_, want);                                       \
        g_free(got_);                                                          \
        now += 100;                                                            \
    } while (0)

static void test_election_failover_and_quorum(void **unused)
{
    raftkv_model *m = raftkv_model_new();
    sink *s = sink_new();
    gint64 now = 1000;
    CHECK_CYCLE("node_up:n1 node_up:n2 node_up:n3 leader_elected:n1@2",
                {"n1", "1", "1", 2}, {"n2", "2", "1", 2}, {"n3", "3", "1", 2});
    CHECK_CYCLE("", {"n1", "1", "1", 2}, {"n2", "2", "1", 2}, {"n3", "3", "1", 2});
    /* The leader dies; the followers still follow it until their election timeout. */
    CHECK_CYCLE("node_down:n1", {"n1", .down = TRUE}, {"n2", "2", "1", 2}, {"n3", "3", "1", 2});
    raftkv_snapshot *snap = raftkv_model_snapshot(m);
    assert_string_equal(snap->leader, "n1");
    assert_true(snap->quorum);
    assert_int_equal(snap->reachable, 2);
    raftkv_snapshot_free(snap);
    /* Election in progress: no leader known. */
    CHECK_CYCLE("term_changed@3 leader_lost:n1@2",
                {"n1", .down = TRUE}, {"n2", "2", NULL, 3}, {"n3", "3", NULL, 3});
    snap = raftkv_model_snapshot(m);
    assert_null(snap->leader);
    assert_int_equal(snap->leaderless_since, 1300);
    raftkv_snapshot_free(snap);
    CHECK_CYCLE("leader_elected:n2@3", {"n1", .down = TRUE}, {"n2", "2", "2", 3}, {"n3", "3", "2", 3});
    snap = raftkv_model_snapshot(m);
    assert_string_equal(snap->leader, "n2");
    assert_int_equal(snap->leader_term, 3);
    assert_int_equal(snap->max_term, 3);
    assert_int_equal(snap->leaderless_since, 0);
    assert_int_equal(snap->elections, 2);
    assert_true(raftkv_snapshot_node(snap, "n2")->is_leader);
    assert_false(raftkv_snapshot_node(snap, "n1")->reachable);
    assert_string_equal(raftkv_snapshot_node(snap, "n1")->error, "connection refused");
    assert_string_equal(raftkv_snapshot_node(snap, "n3")->leader, "n2");
    raftkv_snapshot_free(snap);
    /* A majority gone: quorum lost; the survivor loses its leader. */
    CHECK_CYCLE("node_down:n2", {"n1", .down = TRUE}, {"n2", .down = TRUE}, {"n3", "3", "2", 3});
    snap = raftkv_model_snapshot(m);
    assert_false(snap->quorum);
    assert_string_equal(snap->leader, "n2"); /* the lone survivor still believes in n2 */
    raftkv_snapshot_free(snap);
    CHECK_CYCLE("term_changed@4 leader_lost:n2@3",
                {"n1", .down = TRUE}, {"n2", .down = TRUE}, {"n3", "3", NULL, 4});
    /* n1 returns and follows a new leader n3 at term 5. */
    CHECK_CYCLE("node_up:n1 term_changed@5 leader_elected:n3@5",
                {"n1", "1", "3", 5}, {"n2", .down = TRUE}, {"n3", "3", "3", 5});
    snap = raftkv_model_snapshot(m);
    assert_int_equal(snap->violations, 0);
    assert_null(snap->violation);
    raftkv_snapshot_free(snap);
    sink_free(s);
    raftkv_model_free(m);
}

static void test_split_views_agree_on_nothing(void **unused)
{
    raftkv_model *m = raftkv_model_new();
    sink *s = sink_new();
    gint64 now = 0;
    /* Three nodes, three opinions: no majority, no leader. */
    CHECK_CYCLE("node_up:n1 node_up:n2 node_up:n3",
                {"n1", "1", "1", 2}, {"n2", "2", "2", 3}, {"n3", "3", NULL, 3});
    raftkv_snapshot *snap = raftkv_model_snapshot(m);
    assert_null(snap->leader);
    assert_int_equal(snap->leaderless_since, 0 + 0);
    raftkv_snapshot_free(snap);
    /* Same leader but different terms is not agreement either. */
    CHECK_CYCLE("", {"n1", "1", "2", 2}, {"n2", "2", "2", 3}, {"n3", "3", NULL, 3});
    CHECK_CYCLE("leader_elected:n2@3", {"n1", "1", "2", 3}, {"n2", "2", "2", 3}, {"n3", "3", NULL, 3});
    sink_free(s);
    raftkv_model_free(m);
}

static void test_election_safety_violation(void **unused)
{
    raftkv_model *m = raftkv_model_new();
    sink *s = sink_new();
    gint64 now = 0;
    /* n1 claims term 5 twice (confirmed); then n2 claims term 5 twice: a second leader. */
    CHECK_CYCLE("node_up:n1 node_up:n2 node_up:n3", {"n1", "1", "1", 5}, {"n2", "2", NULL, 5}, {"n3", "3", NULL, 5});
    CHECK_CYCLE("", {"n1", "1", "1", 5}, {"n2", "2", NULL, 5}, {"n3", "3", NULL, 5});
    CHECK_CYCLE("", {"n1", "1", "1", 5}, {"n2", "2", "2", 5}, {"n3", "3", NULL, 5});
    CHECK_CYCLE("election_safety_violation:n1:n2@5", {"n1", "1", "1", 5}, {"n2", "2", "2", 5}, {"n3", "3", NULL, 5});
    CHECK_CYCLE("", {"n1", "1", "1", 5}, {"n2", "2", "2", 5}, {"n3", "3", NULL, 5}); /* once per term */
    raftkv_snapshot *snap = raftkv_model_snapshot(m);
    assert_int_equal(snap->violations, 1);
    assert_string_equal(snap->violation, "Election Safety violated: term 5 had two leaders, n1 and n2");
    json_t *j = raftkv_snapshot_to_json(snap);
    assert_int_equal(json_integer_value(json_object_get(j, "violations")), 1);
    json_decref(j);
    raftkv_snapshot_free(snap);
    sink_free(s);
    raftkv_model_free(m);
}

static void test_one_torn_read_is_not_a_violation(void **unused)
{
    raftkv_model *m = raftkv_model_new();
    sink *s = sink_new();
    gint64 now = 0;
    CHECK_CYCLE("node_up:n1 node_up:n2 node_up:n3 leader_elected:n1@6",
                {"n1", "1", "1", 6}, {"n2", "2", "1", 6}, {"n3", "3", "1", 6});
    /* n1 steps down as term 7 starts: one answer pairs its old self-leadership with the
     * new term. Then n2 is elected for term 7 and confirmed. */
    CHECK_CYCLE("term_changed@7 leader_lost:n1@6", {"n1", "1", "1", 7}, {"n2", "2", NULL, 7}, {"n3", "3", NULL, 7});
    CHECK_CYCLE("", {"n1", "1", NULL, 7}, {"n2", "2", "2", 7}, {"n3", "3", NULL, 7});
    CHECK_CYCLE("leader_elected:n2@7", {"n1", "1", "2", 7}, {"n2", "2", "2", 7}, {"n3", "3", "2", 7});
    raftkv_snapshot *snap = raftkv_model_snapshot(m);
    assert_int_equal(snap->violations, 0);
    raftkv_snapshot_free(snap);
    sink_free(s);
    raftkv_model_free(m);
}

/* etcd's status reports the term of the last *applied* entry: right after an election the
 * new leader and its followers name the new leader with the previous term until the new
 * leader's first entry is applied. Seen on compose (soak of the isolation scenario): n2
 * led term 70; n3 won term 85 and, for one cycle, a majority reported (n3, term 70). */
static void test_lagging_term_is_not_a_violation(void **unused)
{
    raftkv_model *m = raftkv_model_new();
    sink *s = sink_new();
    gint64 now = 0;
    CHECK_CYCLE("node_up:n1 node_up:n2 node_up:n3 leader_elected:n2@70",
                {"n1", "1", "2", 70}, {"n2", "2", "2", 70}, {"n3", "3", "2", 70});
    CHECK_CYCLE("", {"n1", "1", "2", 70}, {"n2", "2", "2", 70}, {"n3", "3", "2", 70});
    CHECK_CYCLE("leader_lost:n2@70", {"n1", "1", NULL, 70}, {"n2", "2", NULL, 70}, {"n3", "3", NULL, 70});
    CHECK_CYCLE("leader_elected:n3@70", {"n1", "1", "3", 70}, {"n2", "2", NULL, 70}, {"n3", "3", "3", 70});
    CHECK_CYCLE("term_changed@85 leader_elected:n3@85",
                {"n1", "1", "3", 85}, {"n2", "2", "3", 85}, {"n3", "3", "3", 85});
    CHECK_CYCLE("", {"n1", "1", "3", 85}, {"n2", "2", "3", 85}, {"n3", "3", "3", 85});
    raftkv_snapshot *snap = raftkv_model_snapshot(m);
    assert_int_equal(snap->violations, 0);
    raftkv_snapshot_free(snap);
    /* the same pair agreed in two cycles in a row is a claim: a second leader of term 85,
     * held by a majority, is a violation */
    CHECK_CYCLE("leader_elected:n1@85", {"n1", "1", "1", 85}, {"n2", "2", "1", 85}, {"n3", "3", NULL, 85});
    CHECK_CYCLE("election_safety_violation:n3:n1@85",
                {"n1", "1", "1", 85}, {"n2", "2", "1", 85}, {"n3", "3", NULL, 85});
    snap = raftkv_model_snapshot(m);
    assert_int_equal(snap->violations, 1);
    raftkv_snapshot_free(snap);
    sink_free(s);
    raftkv_model_free(m);
}

/* A killed member's port is free; another cluster's member (another test, another tf
 * process) can take it, and then the source's address answers for that member. It leads
 * its own cluster's term 2: attributed to the source, that is a second leader of this
 * cluster's term 2 ("term 2 had two leaders, n1 and n3"). An answer from another member
 * id than the one the source answered as before is not the node's: it stays down, saying
 * so, and nothing it says counts. */
static void test_another_member_on_a_nodes_address_is_not_that_node(void **unused)
{
    raftkv_model *m = raftkv_model_new();
    sink *s = sink_new();
    gint64 now = 0;
    CHECK_CYCLE("node_up:n1 node_up:n2 node_up:n3 leader_elected:n1@2",
                {"n1", "1", "1", 2}, {"n2", "2", "1", 2}, {"n3", "3", "1", 2});
    CHECK_CYCLE("", {"n1", "1", "1", 2}, {"n2", "2", "1", 2}, {"n3", "3", "1", 2});
    CHECK_CYCLE("node_down:n3", {"n1", "1", "1", 2}, {"n2", "2", "1", 2}, {"n3", .down = TRUE});
    /* member 9 leads term 2 of its own cluster, on n3's old address */
    CHECK_CYCLE("", {"n1", "1", "1", 2}, {"n2", "2", "1", 2}, {"n3", "9", "9", 2});
    CHECK_CYCLE("", {"n1", "1", "1", 2}, {"n2", "2", "1", 2}, {"n3", "9", "9", 2});
    CHECK_CYCLE("", {"n1", "1", "1", 2}, {"n2", "2", "1", 2}, {"n3", "9", "9", 2});
    raftkv_snapshot *snap = raftkv_model_snapshot(m);
    assert_int_equal(snap->violations, 0);
    assert_null(snap->violation);
    const raftkv_node *n3 = raftkv_snapshot_node(snap, "n3");
    assert_false(n3->reachable);
    assert_string_equal(n3->error, "n3: answered as member 9, but n3 is member 3: another "
                                   "process holds its address");
    assert_string_equal(raftkv_model_node_error(m, "n3"), n3->error);
    assert_string_equal(snap->leader, "n1");
    raftkv_snapshot_free(snap);
    /* n3 itself back on its address (a restart): its own answers count again */
    CHECK_CYCLE("node_up:n3", {"n1", "1", "1", 2}, {"n2", "2", "1", 2}, {"n3", "3", "1", 2});
    sink_free(s);
    raftkv_model_free(m);
}

static void test_members_come_and_go(void **unused)
{
    raftkv_model *m = raftkv_model_new();
    sink *s = sink_new();
    raftkv_model_begin(m, members, 2);
    raftkv_model_end(m, 0, collect, s);
    raftkv_snapshot *snap = raftkv_model_snapshot(m);
    assert_int_equal(snap->n, 2);
    assert_false(snap->quorum); /* never reached */
    assert_int_equal(snap->leaderless_since, 0);
    raftkv_snapshot_free(snap);
    raftkv_model_begin(m, members + 1, 2);
    snap = raftkv_model_snapshot(m);
    assert_int_equal(snap->n, 2);
    assert_null(raftkv_snapshot_node(snap, "n1"));
    assert_non_null(raftkv_snapshot_node(snap, "n3"));
    raftkv_snapshot_free(snap);
    sink_free(s);
    raftkv_model_free(m);
}

static void test_etcd_adapter(void **unused)
{
    json_error_t je;
    json_t *body = json_loads(
        "{\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":\"10276657743932975437\","
        "\"revision\":\"1\",\"raft_term\":\"2\"},\"version\":\"3.4.23\",\"dbSize\":\"20480\","
        "\"leader\":\"10276657743932975437\",\"raftIndex\":\"8\",\"raftTerm\":\"2\","
        "\"raftAppliedIndex\":\"8\",\"dbSizeInUse\":\"16384\"}", 0, &je);
    raftkv_status st;
    GError *err = NULL;
    assert_true(raftkv_parse_etcd(body, &st, &err));
    assert_string_equal(st.id, "10276657743932975437");
    assert_string_equal(st.leader, "10276657743932975437");
    assert_int_equal(st.term, 2);
    assert_int_equal(st.commit, 8);
    assert_int_equal(st.applied, 8);
    raftkv_status_clear(&st);
    json_object_set_new(body, "leader", json_string("0"));
    assert_true(raftkv_parse_etcd(body, &st, &err));
    assert_null(st.leader);
    raftkv_status_clear(&st);
    json_object_set_new(body, "raftTerm", json_string("x7"));
    assert_false(raftkv_parse_etcd(body, &st, &err));
    assert_string_equal(err->message, "status: field raftTerm (term) is not a non-negative number");
    g_clear_error(&err);
    json_object_del(body, "header");
    assert_false(raftkv_parse_etcd(body, &st, &err));
    assert_string_equal(err->message, "etcd status: header.member_id is missing");
    g_clear_error(&err);
    json_decref(body);
}

/* etcd's /debug/vars as etcd 3.4.23 answers it (memstats cut short). */
static void test_etcd_vars_adapter(void **unused)
{
    json_error_t je;
    json_t *body = json_loads(
        "{\"cmdline\":[\"/usr/bin/etcd\"],\"file_descriptor_limit\":1024,\"memstats\":{\"Alloc\":1},"
        "\"raft.status\":{\"id\":\"bdae9bbc11dd390d\",\"term\":3,\"vote\":\"bdae9bbc11dd390d\","
        "\"commit\":9,\"lead\":\"bdae9bbc11dd390d\",\"raftState\":\"StateLeader\",\"applied\":8,"
        "\"progress\":{},\"leadtransferee\":\"0\"}}", 0, &je);
    assert_non_null(body);
    raftkv_status st;
    GError *err = NULL;
    assert_true(raftkv_parse_etcd_vars(body, &st, &err));
    assert_string_equal(st.id, "13668033151171901709"); /* decimal, as the v3 status says */
    assert_string_equal(st.leader, "13668033151171901709");
    assert_int_equal(st.term, 3);
    assert_int_equal(st.commit, 9);
    assert_int_equal(st.applied, 8);
    raftkv_status_clear(&st);
    json_t *raft = json_object_get(body, "raft.status");
    json_object_set_new(raft, "lead", json_string("0")); /* a candidate knows no leader */
    assert_true(raftkv_parse_etcd_vars(body, &st, &err));
    assert_null(st.leader);
    raftkv_status_clear(&st);
    json_object_set_new(raft, "term", json_string("-1"));
    assert_false(raftkv_parse_etcd_vars(body, &st, &err));
    assert_string_equal(err->message, "status: field term (term) is not a non-negative number");
    g_clear_error(&err);
    json_object_del(raft, "id");
    assert_false(raftkv_parse_etcd_vars(body, &st, &err));
    assert_string_equal(err->message, "etcd raft.status: id is missing or not hex");
    g_clear_error(&err);
    json_object_del(body, "raft.status");
    assert_false(raftkv_parse_etcd_vars(body, &st, &err));
    assert_string_equal(err->message, "etcd /debug/vars: \"raft.status\" is missing");
    g_clear_error(&err);
    json_decref(body);
}

/* etcd's applied index is the store's (the v3 status's raftAppliedIndex): raft.status's
 * runs ahead of it (etcd advances raft before its apply loop has put the entries into the
 * store), and a serializable read on a follower the observer showed as having applied
 * the index of a write then missed that write ("n2: minority reads nothing"). */
static void test_etcd_member_adapter(void **unused)
{
    json_t *vars = json_loads(
        "{\"raft.status\":{\"id\":\"bdae9bbc11dd390d\",\"term\":3,\"vote\":\"0\",\"commit\":9,"
        "\"lead\":\"2\",\"raftState\":\"StateFollower\",\"applied\":9,\"progress\":{},"
        "\"leadtransferee\":\"0\"}}", 0, NULL);
    json_t *status = json_loads(
        "{\"header\":{\"cluster_id\":\"1\",\"member_id\":\"13668033151171901709\",\"raft_term\":\"2\"},"
        "\"leader\":\"2\",\"raftIndex\":\"9\",\"raftTerm\":\"2\",\"raftAppliedIndex\":\"8\"}", 0, NULL);
    assert_non_null(vars);
    assert_non_null(status);
    raftkv_status st;
    GError *err = NULL;
    assert_true(raftkv_parse_etcd_member(vars, status, &st, &err));
    assert_string_equal(st.id, "13668033151171901709");
    assert_string_equal(st.leader, "2");
    assert_int_equal(st.term, 3);    /* raft's current term, not the applied entry's */
    assert_int_equal(st.commit, 9);
    assert_int_equal(st.applied, 8); /* the store's, not raft's 9 */
    raftkv_status_clear(&st);
    /* read later than raft.status, the store may be past raft's applied of then: the
     * lower of the two is what the store surely holds */
    json_object_set_new(json_object_get(vars, "raft.status"), "applied", json_integer(7));
    assert_true(raftkv_parse_etcd_member(vars, status, &st, &err));
    assert_int_equal(st.applied, 7);
    raftkv_status_clear(&st);
    json_object_set_new(status, "raftAppliedIndex", json_string("x"));
    assert_false(raftkv_parse_etcd_member(vars, status, &st, &err));
    assert_string_equal(err->message, "status: field raftAppliedIndex (applied index) is not a "
                                      "non-negative number");
    g_clear_error(&err);
    json_object_set_new(json_object_get(status, "header"), "member_id", json_string("5"));
    assert_false(raftkv_parse_etcd_member(vars, status, &st, &err));
    assert_string_equal(err->message, "etcd status: member 5 answered, but /debug/vars was "
                                      "member 13668033151171901709's");
    assert_null(st.id);
    g_clear_error(&err);
    json_decref(vars);
    json_decref(status);
}

/* The observer asks an etcd member both: raft.status for term, leader and commit, the v3
 * status for the store's applied index; a v3 status from another member than the one
 * /debug/vars came from puts the node down, saying so. */
static void test_observer_reads_the_stores_applied_index(void **unused)
{
    const char *vars = "{\"raft.status\":{\"id\":\"a\",\"term\":3,\"vote\":\"a\",\"commit\":9,"
                       "\"lead\":\"a\",\"raftState\":\"StateLeader\",\"applied\":9,"
                       "\"progress\":{},\"leadtransferee\":\"0\"}}";
    fixture_http *one = fixture_http_start(), *other = fixture_http_start();
    fixture_http_route_json(one, "/debug/vars", vars);
    fixture_http_route_json(one, "/v3/maintenance/status",
                            "{\"header\":{\"member_id\":\"10\"},\"leader\":\"10\",\"raftIndex\":\"9\","
                            "\"raftTerm\":\"2\",\"raftAppliedIndex\":\"8\"}");
    fixture_http_route_json(other, "/debug/vars", vars);
    fixture_http_route_json(other, "/v3/maintenance/status",
                            "{\"header\":{\"member_id\":\"11\"},\"leader\":\"10\",\"raftIndex\":\"9\","
                            "\"raftTerm\":\"2\",\"raftAppliedIndex\":\"8\"}");
    char *u1 = fixture_http_url(one, ""), *u2 = fixture_http_url(other, "");
    tf_source *src[2] = {tf_source_new("n1", u1, NULL, NULL, NULL),
                         tf_source_new("n2", u2, NULL, NULL, NULL)};
    tf_runtime_config cfg;
    tf_runtime_config_init(&cfg);
    GError *err = NULL;
    tf_runtime *rt = tf_runtime_new(&cfg, &raftkv_observer, NULL,
                                    tf_source_provider_new_static(src, 2), &err);
    assert_non_null(rt);
    assert_true(tf_runtime_cycle(rt, &err));
    tf_handle *h = tf_runtime_handle(rt);
    tf_snapshot *snap = tf_handle_latest(h);
    const raftkv_snapshot *s = tf_snapshot_data(snap);
    const raftkv_node *n1 = raftkv_snapshot_node(s, "n1"), *n2 = raftkv_snapshot_node(s, "n2");
    assert_true(n1->reachable);
    assert_int_equal(n1->term, 3);
    assert_int_equal(n1->commit, 9);
    assert_int_equal(n1->applied, 8); /* the store's: raft.status says 9 */
    assert_false(n2->reachable);
    assert_string_equal(n2->error, "n2: etcd status: member 11 answered, but /debug/vars was "
                                   "member 10's");
    assert_int_equal(fixture_http_requests_to(one, "/v3/maintenance/status"), 1);
    char *method = fixture_http_last_method(one, "/v3/maintenance/status");
    assert_string_equal(method, "POST");
    g_free(method);
    tf_snapshot_unref(snap);
    tf_handle_unref(h);
    tf_runtime_free(rt);
    tf_source_unref(src[0]);
    tf_source_unref(src[1]);
    g_free(u1);
    g_free(u2);
    fixture_http_free(one);
    fixture_http_free(other);
}

static void test_generic_adapter(void **unused)
{
    json_t *spec = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", "id", "leader", "current_leader",
                             "term", "current_term", "commit", "last_log_index", "applied",
                             "last_applied.index");
    json_t *body = json_pack("{s:i, s:i, s:n, s:i, s:{s:i}}", "id", 3, "current_term", 4,
                             "current_leader", "last_log_index", 17, "last_applied", "index", 15);
    raftkv_status st;
    GError *err = NULL;
    assert_true(raftkv_parse_json(body, spec, &st, &err));
    assert_string_equal(st.id, "3");
    assert_null(st.leader);
    assert_int_equal(st.term, 4);
    assert_int_equal(st.commit, 17);
    assert_int_equal(st.applied, 15);
    raftkv_status_clear(&st);
    json_object_set_new(body, "current_leader", json_integer(1));
    assert_true(raftkv_parse_json(body, spec, &st, &err));
    assert_string_equal(st.leader, "1");
    raftkv_status_clear(&st);
    json_object_del(body, "last_applied");
    assert_false(raftkv_parse_json(body, spec, &st, &err));
    assert_string_equal(err->message, "status: field last_applied.index (applied index) is missing");
    g_clear_error(&err);
    json_object_del(spec, "term");
    assert_false(raftkv_parse_json(body, spec, &st, &err));
    assert_int_equal(err->code, TF_ERROR_INVALID);
    g_clear_error(&err);
    json_decref(body);
    json_decref(spec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_election_failover_and_quorum),
        cmocka_unit_test(test_split_views_agree_on_nothing),
        cmocka_unit_test(test_election_safety_violation),
        cmocka_unit_test(test_one_torn_read_is_not_a_violation),
        cmocka_unit_test(test_lagging_term_is_not_a_violation),
        cmocka_unit_test(test_another_member_on_a_nodes_address_is_not_that_node),
        cmocka_unit_test(test_members_come_and_go),
        cmocka_unit_test(test_etcd_adapter),
        cmocka_unit_test(test_etcd_vars_adapter),
        cmocka_unit_test(test_etcd_member_adapter),
        cmocka_unit_test(test_observer_reads_the_stores_applied_index),
        cmocka_unit_test(test_generic_adapter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
