/* bench_chain_graph.c: cost of ingesting one new block into the chain graph (header,
 * three node heads, LIB, fork check, prune) at 1k, 5k and 50k blocks, with and without
 * pruning, against a naive parent walk; and the blocks/RSS kept with pruning.
 * The answer check: at each mark the pruned and the unpruned graph agree on the
 * canonical tip, LIB and the canonical block 50 below the tip, and the naive walk agrees
 * with the graph's own ancestor query. Exits 1 on a wrong answer, never on time.
 * Usage: bench_chain_graph [--small]  (small: marks at 500 and 2,000 blocks). */
#include <stdio.h>
#include <string.h>
#include "bench_util.h"
#include "chain/graph.h"
#include "chain/sim.h"

#define MARKS 3

static guint n_blocks = 51000;
static guint window = 1000;
static guint marks[MARKS + 1] = {1000, 5000, 50000, 0};
static const char *mark_names[MARKS] = {"1k", "5k", "50k"};
static guint n_marks = 3;

/* What a graph answers at a mark. */
typedef struct {
    char tip[CHAIN_HASH_BUF], lib[CHAIN_HASH_BUF], below[CHAIN_HASH_BUF];
    guint naive_agrees; /* naive walks that agreed with chain_graph_is_ancestor */
    guint walks;
} answer;

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
    while (chain_sim_block_count(s) < n_blocks) {
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

static void hash_of(const chain_block *b, char out[CHAIN_HASH_BUF])
{
    g_strlcpy(out, b ? chain_block_hash(b) : "(none)", CHAIN_HASH_BUF);
}

static double run(const stream *st, gboolean prune, double *per_block, double *naive, guint *kept,
                  long *rss, answer *ans)
{
    chain_graph_config cfg;
    chain_graph_config_init(&cfg);
    cfg.retained_depth = prune ? 100 : G_MAXUINT32 / 2;
    chain_graph *g = chain_graph_new(&cfg);
    GPtrArray *ev = g_ptr_array_new_with_free_func(chain_event_free);
    guint m = 0;
    gint64 t_all = g_get_monotonic_time();
    for (guint i = 0; i < st->n && marks[m]; i++) {
        if (i == marks[m]) { /* time the next `window` blocks */
            gint64 t0 = g_get_monotonic_time();
            for (guint j = i; j < i + window; j++)
                ingest(g, st, j, prune, ev);
            per_block[m] = (double)(g_get_monotonic_time() - t0) / window;
            const chain_block *lo = chain_graph_canonical_at(g, chain_graph_floor(g));
            const chain_block *top = chain_graph_block(g, st->hash[i + window - 1]);
            gboolean truth = lo && top && chain_graph_is_ancestor(g, lo, top);
            guint agree = 0;
            t0 = g_get_monotonic_time();
            for (guint j = 0; j < 20 && naive; j++)
                agree += truth && naive_is_ancestor(g, chain_block_hash(lo), st->hash[i + window - 1]);
            if (naive)
                naive[m] = (double)(g_get_monotonic_time() - t0) / 20;
            const chain_block *tip = chain_graph_canonical_tip(g);
            hash_of(tip, ans[m].tip);
            hash_of(chain_graph_lib(g), ans[m].lib);
            hash_of(tip ? chain_graph_canonical_at(g, chain_block_height(tip) - 50) : NULL, ans[m].below);
            ans[m].naive_agrees = agree;
            ans[m].walks = naive ? 20 : 0;
            kept[m] = chain_graph_block_count(g);
            rss[m] = rss_kb();
            i += window - 1;
            m++;
            continue;
        }
        ingest(g, st, i, prune, ev);
    }
    double total = (double)(g_get_monotonic_time() - t_all) / 1e6;
    g_ptr_array_unref(ev);
    chain_graph_free(g);
    return total;
}

int main(int argc, char **argv)
{
    bench_init("bench_chain_graph", &argc, argv);
    if (bench_small()) {
        n_blocks = 2600;
        window = 500;
        marks[0] = 500;
        marks[1] = 2000;
        marks[2] = 0;
        mark_names[0] = "500";
        mark_names[1] = "2k";
        n_marks = 2;
    }
    stream st = make_stream();
    double per[MARKS], naive[MARKS], per_p[MARKS];
    guint kept[MARKS], kept_p[MARKS];
    long rss[MARKS], rss_p[MARKS];
    answer ans[MARKS] = {{{0}}}, ans_p[MARKS] = {{{0}}};
    guint last = n_marks - 1;
    printf("(pruned run first: RSS never shrinks, so it is measured before the unpruned run)\n");
    printf("chain graph ingestion: %u headers, 3 nodes (one 10 blocks behind), stale fork every 500\n",
           st.n);
    double t = run(&st, TRUE, per_p, NULL, kept_p, rss_p, ans_p);
    printf("pruning, retained depth 100, k = 6 (%.2f s total):\n", t);
    for (guint i = 0; i < n_marks; i++)
        printf("  at %-4s blocks: %7.2f us/block  kept %4u blocks  RSS %ld kB\n", mark_names[i],
               per_p[i], kept_p[i], rss_p[i]);
    printf("  per-block cost ratio %s/%s: %.2f\n", mark_names[last], mark_names[0], per_p[last] / per_p[0]);
    t = run(&st, FALSE, per, naive, kept, rss, ans);
    printf("no pruning (%.2f s total):\n", t);
    for (guint i = 0; i < n_marks; i++)
        printf("  at %-4s blocks: %7.2f us/block  (naive root-to-tip ancestor walk %9.1f us, x%.0f)  "
               "kept %6u blocks  RSS %ld kB\n",
               mark_names[i], per[i], naive[i], naive[i] / per[i], kept[i], rss[i]);
    printf("  per-block cost ratio %s/%s: %.2f (flat = ~1; naive walk ratio %.1f)\n", mark_names[last],
           mark_names[0], per[last] / per[0], naive[last] / naive[0]);
    printf("blocks kept at %s, pruned vs unpruned: %u vs %u (%.1f%%); RSS growth from %s to %s: "
           "pruned %+ld kB, unpruned %+ld kB\n", mark_names[last], kept_p[last], kept[last],
           100.0 * kept_p[last] / kept[last], mark_names[0], mark_names[last], rss_p[last] - rss_p[0],
           rss[last] - rss[0]);
    for (guint i = 0; i < n_marks; i++) {
        char *what = g_strdup_printf("at %s blocks: pruned graph = unpruned (tip, LIB, tip - 50)", mark_names[i]);
        bench_check(!strcmp(ans[i].tip, ans_p[i].tip) && !strcmp(ans[i].lib, ans_p[i].lib) &&
                        !strcmp(ans[i].below, ans_p[i].below), what,
                    "unpruned tip %s lib %s below %s; pruned tip %s lib %s below %s", ans[i].tip, ans[i].lib,
                    ans[i].below, ans_p[i].tip, ans_p[i].lib, ans_p[i].below);
        g_free(what);
        what = g_strdup_printf("at %s blocks: the naive walk = the graph's ancestor query", mark_names[i]);
        bench_check(ans[i].naive_agrees == ans[i].walks, what, "%u of %u walks agree", ans[i].naive_agrees,
                    ans[i].walks);
        g_free(what);
    }
    stream_free(&st);
    return bench_finish();
}
