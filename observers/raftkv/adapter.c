/* adapter.c: node status endpoints -> raftkv_status.
 * etcd's term, leader and commit index come from GET /debug/vars, whose "raft.status" is
 * one consistent view of the member's raft state. Not from its v3 status: there "raftTerm"
 * is the term of the last *applied* entry, so a just-elected leader reports the previous
 * leader's term until its first entry is applied, which looks like two leaders in one term.
 * The applied index comes from the v3 status ("raftAppliedIndex", the key-value store's):
 * raft.status's "applied" is raft's, which etcd advances when it hands entries to its
 * apply loop, before the store holds them, so a read right after it can miss a write.
 * etcd's v3 gateway encodes 64-bit numbers as JSON strings; generic endpoints use plain
 * numbers; both are accepted wherever a number or id is. */
#include <stdlib.h>
#include <string.h>
#include <tf/error.h>
#include "httpjson/httpjson.h"
#include "raftkv.h"

void raftkv_status_clear(raftkv_status *st)
{
    g_clear_pointer(&st->id, g_free);
    g_clear_pointer(&st->leader, g_free);
}

/* A JSON number or numeric string as guint64. */
static gboolean to_u64(json_t *v, guint64 *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (guint64)json_integer_value(v);
        return TRUE;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        if (!*s || *s == '-')
            return FALSE;
        *out = g_ascii_strtoull(s, &end, 10);
        return *end == '\0';
    }
    return FALSE;
}

/* A JSON number or string as an id string; NULL for null/absent/"0"/0 (no leader). */
static char *to_id(json_t *v)
{
    guint64 n;
    if (json_is_string(v) && *json_string_value(v) && strcmp(json_string_value(v), "0"))
        return g_strdup(json_string_value(v));
    if (json_is_integer(v) && to_u64(v, &n) && n)
        return g_strdup_printf("%" G_GUINT64_FORMAT, n);
    return NULL;
}

static gboolean need_u64(json_t *body, const char *path, const char *label, guint64 *out,
                         GError **error)
{
    json_t *v = httpjson_path_get(body, path);
    if (!v || !to_u64(v, out)) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "status: field %s (%s) %s", path, label,
                    v ? "is not a non-negative number" : "is missing");
        return FALSE;
    }
    return TRUE;
}

gboolean raftkv_parse_etcd(json_t *body, raftkv_status *st, GError **error)
{
    memset(st, 0, sizeof *st);
    st->id = to_id(httpjson_path_get(body, "header.member_id"));
    if (!st->id) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "etcd status: header.member_id is missing");
        return FALSE;
    }
    st->leader = to_id(json_object_get(body, "leader"));
    /* raftAppliedIndex appeared in etcd 3.4; older members lack it: use raftIndex. */
    if (!need_u64(body, "raftTerm", "term", &st->term, error) ||
        !need_u64(body, "raftIndex", "commit index", &st->commit, error)) {
        raftkv_status_clear(st);
        return FALSE;
    }
    if (!to_u64(json_object_get(body, "raftAppliedIndex"), &st->applied))
        st->applied = st->commit;
    return TRUE;
}

/* raft.status writes member ids in hex; the v3 API (and so snapshots, reports and users'
 * tools) in decimal: a hex id as a decimal string, NULL for "0" (no leader) or garbage. */
static char *hex_id(json_t *v)
{
    const char *s = json_string_value(v);
    char *end;
    guint64 n = s && *s ? g_ascii_strtoull(s, &end, 16) : 0;
    return n && !*end ? g_strdup_printf("%" G_GUINT64_FORMAT, n) : NULL;
}

gboolean raftkv_parse_etcd_vars(json_t *body, raftkv_status *st, GError **error)
{
    memset(st, 0, sizeof *st);
    json_t *raft = json_object_get(body, "raft.status"); /* one key with a dot in it */
    if (!json_is_object(raft)) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "etcd /debug/vars: \"raft.status\" is missing");
        return FALSE;
    }
    st->id = hex_id(json_object_get(raft, "id"));
    if (!st->id) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "etcd raft.status: id is missing or not hex");
        return FALSE;
    }
    st->leader = hex_id(json_object_get(raft, "lead"));
    if (!need_u64(raft, "term", "term", &st->term, error) ||
        !need_u64(raft, "commit", "commit index", &st->commit, error) ||
        !need_u64(raft, "applied", "applied index", &st->applied, error)) {
        raftkv_status_clear(st);
        return FALSE;
    }
    return TRUE;
}

gboolean raftkv_parse_etcd_member(json_t *vars, json_t *status, raftkv_status *st,
                                  GError **error)
{
    if (!raftkv_parse_etcd_vars(vars, st, error))
        return FALSE;
    char *id = to_id(httpjson_path_get(status, "header.member_id"));
    guint64 kv_applied = 0;
    gboolean ok = FALSE;
    if (!id)
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "etcd status: header.member_id is missing");
    else if (strcmp(id, st->id))
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "etcd status: member %s answered, but "
                    "/debug/vars was member %s's", id, st->id);
    else
        ok = need_u64(status, "raftAppliedIndex", "applied index", &kv_applied, error);
    g_free(id);
    if (!ok) {
        raftkv_status_clear(st);
        return FALSE;
    }
    /* Each a lower bound of what the store holds by the time both answered. */
    st->applied = MIN(st->applied, kv_applied);
    return TRUE;
}

gboolean raftkv_parse_json(json_t *body, json_t *spec, raftkv_status *st, GError **error)
{
    memset(st, 0, sizeof *st);
    const char *idp = json_string_value(json_object_get(spec, "id"));
    const char *leaderp = json_string_value(json_object_get(spec, "leader"));
    const char *termp = json_string_value(json_object_get(spec, "term"));
    const char *commitp = json_string_value(json_object_get(spec, "commit"));
    const char *appliedp = json_string_value(json_object_get(spec, "applied"));
    if (!idp || !leaderp || !termp) {
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "status spec: \"id\", \"leader\" and \"term\" field paths are required");
        return FALSE;
    }
    st->id = to_id(httpjson_path_get(body, idp));
    if (!st->id) {
        g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "status: field %s (id) is missing", idp);
        return FALSE;
    }
    st->leader = to_id(httpjson_path_get(body, leaderp));
    if (!need_u64(body, termp, "term", &st->term, error) ||
        (commitp && !need_u64(body, commitp, "commit index", &st->commit, error)) ||
        (appliedp && !need_u64(body, appliedp, "applied index", &st->applied, error))) {
        raftkv_status_clear(st);
        return FALSE;
    }
    return TRUE;
}
