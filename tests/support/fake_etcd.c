/* fake_etcd.c: see fake_etcd.h. The answers have the shape of etcd 3.4's v3 gateway
 * (64-bit numbers as strings, the error body of a refused request). */
#include "fake_etcd.h"
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "fixture_http.h"

typedef struct {
    int id, term, leader; /* who this member says leads */
    int applied_term;     /* what the v3 status calls raftTerm: the last applied entry's */
    gboolean put_ok;
    pthread_mutex_t kv_lock; /* pthreads: glib's futex locks are invisible to TSan */
    GHashTable *kv;       /* this member's own keys (base64 key -> base64 value): members
                             share nothing, so reads through two of them disagree */
} member;

static void on_status(const fixture_http_request *req, fixture_http_response *resp, void *user)
{
    member *m = user;
    g_string_printf(resp->body,
                    "{\"header\":{\"cluster_id\":\"1\",\"member_id\":\"%d\",\"revision\":\"1\","
                    "\"raft_term\":\"%d\"},\"version\":\"3.4.23\",\"dbSize\":\"20480\","
                    "\"leader\":\"%d\",\"raftIndex\":\"8\",\"raftTerm\":\"%d\","
                    "\"raftAppliedIndex\":\"8\",\"dbSizeInUse\":\"20480\"}",
                    m->id, m->applied_term, m->leader, m->applied_term);
}

/* GET /debug/vars: etcd's expvars, of which the observer reads "raft.status" (hex ids). */
static void on_vars(const fixture_http_request *req, fixture_http_response *resp, void *user)
{
    member *m = user;
    g_string_printf(resp->body,
                    "{\"cmdline\":[\"fake-etcd\"],\"file_descriptor_limit\":1024,"
                    "\"memstats\":{\"Alloc\":4892256,\"BySize\":[{\"Size\":0,\"Mallocs\":0}]},"
                    "\"raft.status\":{\"id\":\"%x\",\"term\":%d,\"vote\":\"%x\",\"commit\":8,"
                    "\"lead\":\"%x\",\"raftState\":\"%s\",\"applied\":8,\"progress\":{},"
                    "\"leadtransferee\":\"0\"}}",
                    m->id, m->term, m->leader, m->leader, m->leader == m->id ? "StateLeader" : "StateFollower");
}

static void header(GString *out, const member *m)
{
    g_string_append_printf(out, "\"header\":{\"cluster_id\":\"1\",\"member_id\":\"%d\","
                           "\"revision\":\"2\",\"raft_term\":\"%d\"}", m->id, m->term);
}

/* Answers as etcd does when a write may or may not commit (the refused mode). */
static gboolean refuse(const member *m, fixture_http_response *resp)
{
    if (m->put_ok)
        return FALSE;
    resp->status = 503;
    g_string_assign(resp->body, "{\"error\":\"etcdserver: request timed out\",\"code\":14,"
                                "\"message\":\"etcdserver: request timed out\"}");
    return TRUE;
}

/* The string field `name` of a JSON body (new string) or NULL. */
static char *body_field(const fixture_http_request *req, const char *name)
{
    json_t *b = json_loads(req->body, 0, NULL);
    char *v = g_strdup(json_string_value(json_object_get(b, name)));
    json_decref(b);
    return v;
}

static void on_put(const fixture_http_request *req, fixture_http_response *resp, void *user)
{
    member *m = user;
    if (refuse(m, resp))
        return;
    char *k = body_field(req, "key"), *v = body_field(req, "value");
    if (k) {
        pthread_mutex_lock(&m->kv_lock);
        g_hash_table_insert(m->kv, k, v ? v : g_strdup(""));
        pthread_mutex_unlock(&m->kv_lock);
    } else {
        g_free(v);
    }
    g_string_append_c(resp->body, '{');
    header(resp->body, m);
    g_string_append_c(resp->body, '}');
}

/* kvs of a range of key (lock held): what etcd's range answer holds, "" when none. */
static void append_kvs(GString *out, member *m, const char *key)
{
    const char *v = key ? g_hash_table_lookup(m->kv, key) : NULL;
    if (v)
        g_string_append_printf(out, ",\"kvs\":[{\"key\":\"%s\",\"value\":\"%s\"}],\"count\":\"1\"",
                               key, v);
}

static void on_range(const fixture_http_request *req, fixture_http_response *resp, void *user)
{
    member *m = user;
    char *k = body_field(req, "key");
    g_string_append_c(resp->body, '{');
    header(resp->body, m);
    pthread_mutex_lock(&m->kv_lock);
    append_kvs(resp->body, m, k);
    pthread_mutex_unlock(&m->kv_lock);
    g_string_append_c(resp->body, '}');
    g_free(k);
}

/* A txn of the client workload's shape: compare the value of one key, put on success,
 * range on failure. */
static void on_txn(const fixture_http_request *req, fixture_http_response *resp, void *user)
{
    member *m = user;
    if (refuse(m, resp))
        return;
    json_t *b = json_loads(req->body, 0, NULL);
    json_t *cmp = json_array_get(json_object_get(b, "compare"), 0);
    json_t *put = json_object_get(json_array_get(json_object_get(b, "success"), 0), "request_put");
    const char *key = json_string_value(json_object_get(cmp, "key"));
    const char *want = json_string_value(json_object_get(cmp, "value"));
    const char *to = json_string_value(json_object_get(put, "value"));
    g_string_append_c(resp->body, '{');
    header(resp->body, m);
    pthread_mutex_lock(&m->kv_lock);
    const char *cur = key ? g_hash_table_lookup(m->kv, key) : NULL;
    if (cur && want && to && !strcmp(cur, want)) {
        g_hash_table_insert(m->kv, g_strdup(key), g_strdup(to));
        g_string_append(resp->body, ",\"succeeded\":true,\"responses\":[{\"response_put\":{}}]");
    } else { /* etcd leaves "succeeded": false out */
        g_string_append(resp->body, ",\"responses\":[{\"response_range\":{\"header\":{}");
        append_kvs(resp->body, m, key);
        g_string_append(resp->body, "}}]");
    }
    pthread_mutex_unlock(&m->kv_lock);
    g_string_append_c(resp->body, '}');
    json_decref(b);
}

int fake_etcd_main(int argc, char **argv)
{
    member m = {.term = 2, .put_ok = TRUE};
    pthread_mutex_init(&m.kv_lock, NULL);
    m.kv = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    const char *leaders = "1", *die = NULL;
    int port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--id")) m.id = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--term")) m.term = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--applied-term")) m.applied_term = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--leaders")) leaders = argv[i + 1];
        else if (!strcmp(argv[i], "--put")) m.put_ok = !strcmp(argv[i + 1], "ok");
        else if (!strcmp(argv[i], "--die")) die = argv[i + 1];
        else {
            fprintf(stderr, "fake etcd: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (!m.applied_term)
        m.applied_term = m.term;
    if (die) {
        fprintf(stderr, "fake etcd member %d: %s\n", m.id, die);
        return 3;
    }
    gchar **claims = g_strsplit(leaders, ",", -1);
    m.leader = atoi(claims[0]);
    for (gchar **c = claims; *c; c++)
        if (atoi(*c) == m.id)
            m.leader = m.id; /* it claims leadership itself */
    g_strfreev(claims);
    /* Block the stop signals before any thread starts, then wait for one of them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    fixture_http *f = fixture_http_start_on((guint16)port);
    fixture_http_route_handler(f, "/v3/maintenance/status", on_status, &m);
    fixture_http_route_handler(f, "/debug/vars", on_vars, &m);
    fixture_http_route_handler(f, "/v3/kv/put", on_put, &m);
    fixture_http_route_handler(f, "/v3/kv/range", on_range, &m);
    fixture_http_route_handler(f, "/v3/kv/txn", on_txn, &m);
    fixture_http_route_json(f, "/health", "{\"health\":\"true\"}");
    fprintf(stderr, "fake etcd member %d on 127.0.0.1:%d: term %d, leader %d, puts %s\n", m.id,
            port, m.term, m.leader, m.put_ok ? "acknowledged" : "refused");
    int sig = 0;
    sigwait(&stop, &sig);
    fixture_http_free(f);
    g_hash_table_unref(m.kv);
    pthread_mutex_destroy(&m.kv_lock);
    return 0;
}

char *fake_etcd_write_spec(const char *dir, const char *extra, gboolean with_source)
{
    char *self = g_file_read_link("/proc/self/exe", NULL);
    g_assert(self);
    char *spec = g_strdup_printf(
        "{\"name\": \"etcd-3\", \"binary\": \"%s\", \"nodes\": 3, \"ports\": [\"client\"],\n"
        " \"argv\": [\"fake-etcd\", \"--id\", \"{ordinal}\", \"--port\", \"{port.client}\"%s%s],\n"
        " \"ready\": {\"http\": \"http://127.0.0.1:{port.client}/health\", \"timeout_ms\": 10000,"
        " \"interval_ms\": 20},\n"
        " %s\"stop_grace_ms\": 2000}\n",
        self, *extra ? ", " : "", extra,
        with_source ? "\"source\": {\"url\": \"http://127.0.0.1:{port.client}\", "
                      "\"attrs\": {\"kind\": \"etcd\"}},\n " : "");
    char *path = g_build_filename(dir, "etcd-3.json", NULL);
    g_assert(g_file_set_contents(path, spec, -1, NULL));
    g_free(spec);
    g_free(self);
    return path;
}
