/* bench_chain_graph.c: cost of ingesting one new block into the chain graph (header,
 * three node heads, LIB, fork check, prune) at 1k, 5k and 50k blocks, with and without
 * pruning, against a naive parent walk; and the blocks/RSS kept with pruning.
 * Prints figures and ratios; never passes or fails on time. */
#include <stdio.h>
#include <string.h>
#include "chain/graph.h"
#include "chain/sim.h"

#define N_BLOCKS 51000
#define WINDOW 1000

typedef struct {
    char **hash, **parent, **work;
    gint64 *height, *time;
    guint n;
} stream;

/* A 3-node chain with a 1-block stale fork every 500 blocks, as header fields. */
static stream make_stream(void)
{
    chain_sim *s = chain_sim_new(2024, 3);
    guint split[] = {0, 0, 1}, whole[] = {0, 0, 0};
    while (chain_sim_block_count(s) < N_BLOCKS) {
        if (chain_sim_block_count(s) % 500 == 0) {
            chain_sim_partition(s, split);
            chain_sim_mine(s, 2, 1);
            chain_sim_mine(s, 0, 2);
            chain_sim_partition(s, whole);
        }
        chain_sim_mine(s, chain_sim_block_count(s) % 3, 1);
    }
    stream st = {0};
    st.n = chain_sim_block_count(s);
    st.hash = g_new0(char *, st.n);
    st.parent = g_new0(char *, st.n);
    st.work = g_new0(char *, st.n);
    st.height = g_new0(gint64, st.n);
    st.time = g_new0(gint64, st.n);
    for (guint i = 0; i < st.n; i++) {
        json_t *j = chain_sim_header_json(s, i);
        chain_header h;
        chain_header_from_json(j, &h, NULL);
        st.hash[i] = g_strdup(h.hash);
        st.parent[i] = g_strdup(h.parent_hash ? h.parent_hash : "");
        st.work[i] = g_strdup(h.chainwork);
        st.height[i] = h.height;
        st.time[i] = h.time;
        json_decref(j);
    }
    chain_sim_free(s);
    return st;
}

static void stream_free(stream *st)
{
    for (guint i = 0; i < st->n; i++) {
        g_free(st->hash[i]);
        g_free(st->parent[i]);
        g_free(st->work[i]);
    }
    g_free(st->hash);
    g_free(st->parent);
    g_free(st->work);
    g_free(st->height);
    g_free(st->time);
}

static long rss_kb(void)
{
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* One observer cycle for block i: node0 follows the stream, node1 one block behind,
 * node2 ten blocks behind (a lagging peer holds LIB back). */
static void ingest(chain_graph *g, const stream *st, guint i, gboolean prune, GPtrArray *ev)
{
    chain_header h = {st->hash[i], st->parent[i], st->height[i], st->work[i], st->time[i]};
    chain_graph_add_header(g, &h, i, "node0", NULL, ev, NULL);
    chain_graph_set_head(g, "node0", st->hash[i], i, NULL, ev, NULL);
    chain_graph_set_head(g, "node1", st->hash[i > 1 ? i - 1 : 0], i, NULL, ev, NULL);
    chain_graph_set_head(g, "node2", st->hash[i > 10 ? i - 10 : 0], i, NULL, ev, NULL);
    (void)chain_graph_lib(g);
    chain_graph_update_forks(g, i, ev);
    if (prune)
        chain_graph_prune(g);
    g_ptr_array_set_size(ev, 0);
}

/* The naive way: is the lagging node's head an ancestor of the tip? walk parent hashes. */
static gboolean naive_is_ancestor(const chain_graph *g, const char *a, const char *b)
{
    const chain_block *blk = chain_graph_block(g, b);
    while (blk && strcmp(chain_block_hash(blk), a) != 0)
        blk = chain_graph_block(g, chain_block_parent_hash(blk));
    return blk != NULL;
}

static double run(const stream *st, gboolean prune, const guint *marks, double *per_block,
                  double *naive, guint *kept, long *rss)
{
    chain_graph_config cfg;
    chain_graph_config_init(&cfg);
    cfg.retained_depth = prune ? 100 : G_MAXUINT32 / 2;
    chain_graph *g = chain_graph_new(&cfg);
    GPtrArray *ev = g_ptr_array_new_with_free_func(chain_event_free);
    guint m = 0;
    gint64 t_all = g_get_monotonic_time();
    for (guint i = 0; i < st->n && marks[m]; i++) {
        if (i == marks[m]) { /* time the next WINDOW blocks */
            gint64 t0 = g_get_monotonic_time();
            for (guint j = i; j < i + WINDOW; j++)
                ingest(g, st, j, prune, ev);
            per_block[m] = (double)(g_get_monotonic_time() - t0) / WINDOW;
            guint probes = 0;
            t0 = g_get_monotonic_time();
            for (guint j = 0; j < 20 && naive; j++) {
                const chain_block *lo = chain_graph_canonical_at(g, chain_graph_floor(g));
                probes += naive_is_ancestor(g, chain_block_hash(lo), st->hash[i + WINDOW - 1]);
            }
            if (naive)
                naive[m] = (double)(g_get_monotonic_time() - t0) / 20;
            kept[m] = chain_graph_block_count(g);
            rss[m] = rss_kb();
            i += WINDOW - 1;
            m++;
            (void)probes;
            continue;
        }
        ingest(g, st, i, prune, ev);
    }
    double total = (double)(g_get_monotonic_time() - t_all) / 1e6;
    g_ptr_array_unref(ev);
    chain_graph_free(g);
    return total;
}

int main(void)
{
    stream st = make_stream();
    const guint marks[] = {1000, 5000, 50000, 0};
    const char *names[] = {"1k", "5k", "50k"};
    double per[3], naive[3], per_p[3];
    guint kept[3], kept_p[3];
    long rss[3], rss_p[3];
    printf("(pruned run first: RSS never shrinks, so it is measured before the unpruned run)\n");
    printf("chain graph ingestion: %u headers, 3 nodes (one 10 blocks behind), stale fork every 500\n",
           st.n);
    double t = run(&st, TRUE, marks, per_p, NULL, kept_p, rss_p);
    printf("pruning, retained depth 100, k = 6 (%.2f s total):\n", t);
    for (int i = 0; i < 3; i++)
        printf("  at %-4s blocks: %7.2f us/block  kept %4u blocks  RSS %ld kB\n", names[i],
               per_p[i], kept_p[i], rss_p[i]);
    printf("  per-block cost ratio 50k/1k: %.2f\n", per_p[2] / per_p[0]);
    t = run(&st, FALSE, marks, per, naive, kept, rss);
    printf("no pruning (%.2f s total):\n", t);
    for (int i = 0; i < 3; i++)
        printf("  at %-4s blocks: %7.2f us/block  (naive root-to-tip ancestor walk %9.1f us, x%.0f)  "
               "kept %6u blocks  RSS %ld kB\n",
               names[i], per[i], naive[i], naive[i] / per[i], kept[i], rss[i]);
    printf("  per-block cost ratio 50k/1k: %.2f (flat = ~1; naive walk ratio %.1f)\n",
           per[2] / per[0], naive[2] / naive[0]);
    printf("blocks kept at 50k, pruned vs unpruned: %u vs %u (%.1f%%); RSS growth from 1k to 50k: "
           "pruned %+ld kB, unpruned %+ld kB\n", kept_p[2], kept[2], 100.0 * kept_p[2] / kept[2],
           rss_p[2] - rss_p[0], rss[2] - rss[0]);
    stream_free(&st);
    return 0;
}
