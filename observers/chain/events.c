/* events.c: construction, freeing and JSON of chain observer events.
 * JSON keys mirror the struct fields so a journal line reads like the C value. */
#include "chain/events.h"

chain_event *chain_event_new(chain_event_kind kind, guint64 cycle, const char *node)
{
    chain_event *e = g_new0(chain_event, 1);
    e->kind = kind;
    e->cycle = cycle;
    e->node = g_strdup(node);
    return e;
}

void chain_event_free(void *event)
{
    chain_event *e = event;
    if (!e)
        return;
    if (e->kind == CHAIN_EVENT_FORK_DETECTED || e->kind == CHAIN_EVENT_FORK_RESOLVED)
        g_strfreev(e->u.fork.nodes);
    g_free(e->node);
    g_free(e);
}

const char *chain_event_kind_name(chain_event_kind kind)
{
    switch (kind) {
    case CHAIN_EVENT_BLOCK_DISCOVERED: return "block_discovered";
    case CHAIN_EVENT_HEAD_CHANGED: return "head_changed";
    case CHAIN_EVENT_REORG: return "reorg";
    case CHAIN_EVENT_FORK_DETECTED: return "fork_detected";
    case CHAIN_EVENT_FORK_RESOLVED: return "fork_resolved";
    }
    return "unknown";
}

/* "" hashes become JSON null: absent, not an empty hash. */
static json_t *hash_or_null(const char *h)
{
    return h[0] ? json_string(h) : json_null();
}

json_t *chain_event_to_json(const chain_event *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(chain_event_kind_name(e->kind)));
    json_object_set_new(o, "cycle", json_integer((json_int_t)e->cycle));
    if (e->node)
        json_object_set_new(o, "node", json_string(e->node));
    switch (e->kind) {
    case CHAIN_EVENT_BLOCK_DISCOVERED: {
        const chain_event_block *b = &e->u.block;
        json_object_set_new(o, "hash", json_string(b->hash));
        json_object_set_new(o, "height", json_integer(b->height));
        json_object_set_new(o, "previousblockhash", hash_or_null(b->parent_hash));
        json_object_set_new(o, "time", json_integer(b->time));
        json_object_set_new(o, "chainwork", json_string(b->chainwork));
        break;
    }
    case CHAIN_EVENT_HEAD_CHANGED:
    case CHAIN_EVENT_REORG: {
        const chain_event_head *h = &e->u.head;
        json_object_set_new(o, "old_tip", hash_or_null(h->old_tip));
        json_object_set_new(o, "old_height",
                            h->old_tip[0] ? json_integer(h->old_height) : json_null());
        json_object_set_new(o, "new_tip", json_string(h->new_tip));
        json_object_set_new(o, "new_height", json_integer(h->new_height));
        if (e->kind == CHAIN_EVENT_REORG) {
            json_object_set_new(o, "common_ancestor", hash_or_null(h->common_ancestor));
            json_object_set_new(o, "ancestor_height", h->common_ancestor[0]
                                    ? json_integer(h->ancestor_height) : json_null());
            json_object_set_new(o, "depth", h->depth >= 0 ? json_integer(h->depth) : json_null());
            json_object_set_new(o, "added", h->added >= 0 ? json_integer(h->added) : json_null());
        }
        break;
    }
    case CHAIN_EVENT_FORK_DETECTED:
    case CHAIN_EVENT_FORK_RESOLVED: {
        const chain_event_fork *f = &e->u.fork;
        json_object_set_new(o, "branch_root", json_string(f->branch_root));
        json_object_set_new(o, "tip", json_string(f->tip));
        json_object_set_new(o, "tip_height", json_integer(f->tip_height));
        json_object_set_new(o, "fork_point", hash_or_null(f->fork_point));
        json_object_set_new(o, "fork_height", json_integer(f->fork_height));
        json_object_set_new(o, "length", json_integer(f->length));
        json_t *nodes = json_array();
        for (char **n = f->nodes; n && *n; n++)
            json_array_append_new(nodes, json_string(*n));
        json_object_set_new(o, "nodes", nodes);
        if (e->kind == CHAIN_EVENT_FORK_RESOLVED && f->resolution)
            json_object_set_new(o, "resolution", json_string(f->resolution));
        break;
    }
    }
    return o;
}
