/* raftkv_timeline.c: the observation history of a Raft scenario as an SVG picture: one
 * lane per node, coloured by role over time (leader, follower, no leader known, down),
 * with the term written where it changes, and a red mark where Election Safety was first
 * seen violated. Built from the runtime's snapshot ring. */
#include <string.h>
#include "raftkv_world.h"

#define LANE_H 28
#define LEFT 70
#define WIDTH 900
#define VIOLATION_COLOR "#d62728"

typedef enum { ROLE_DOWN, ROLE_LOST, ROLE_FOLLOWER, ROLE_LEADER } role;

static const char *const colors[] = {"#bbbbbb", "#f0a030", "#5b8def", "#2ca02c"};
static const char *const labels[] = {"down", "no leader known", "follower", "leader"};

static role role_of(const raftkv_node *n)
{
    return !n || !n->reachable ? ROLE_DOWN : n->is_leader ? ROLE_LEADER : n->leader ? ROLE_FOLLOWER : ROLE_LOST;
}

static char *xml_escape(const char *s) { return g_markup_escape_text(s ? s : "", -1); }

char *rk_timeline_svg(GPtrArray *snaps)
{
    GString *svg = g_string_new(NULL);
    const raftkv_snapshot *last = snaps->len ? tf_snapshot_data(snaps->pdata[snaps->len - 1]) : NULL;
    guint lanes = last ? last->n : 0;
    gint64 t0 = snaps->len ? tf_snapshot_time(snaps->pdata[0]) : 0;
    gint64 t1 = snaps->len ? tf_snapshot_time(snaps->pdata[snaps->len - 1]) : 1;
    double span = MAX(t1 - t0, 1);
    guint height = 40 + lanes * LANE_H + (last && last->violation ? 58 : 40);
    g_string_append_printf(svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%u\" font-family=\"sans-serif\" font-size=\"11\">\n"
        "<text x=\"4\" y=\"16\" font-size=\"13\">raftkv: role and term of each node over %.1f s (%u snapshots)</text>\n",
        WIDTH + LEFT + 10, height, span / G_USEC_PER_SEC, snaps->len);
    for (guint lane = 0; lane < lanes; lane++) {
        const char *name = last->nodes[lane].name;
        double y = 30 + lane * LANE_H;
        char *esc = xml_escape(name);
        g_string_append_printf(svg, "<text x=\"4\" y=\"%.0f\">%s</text>\n", y + 16, esc);
        g_free(esc);
        role prev_role = ROLE_DOWN;
        guint64 prev_term = 0;
        double seg_x = LEFT;
        for (guint i = 0; i <= snaps->len; i++) {
            const raftkv_node *n = NULL;
            double x = LEFT + WIDTH;
            if (i < snaps->len) {
                n = raftkv_snapshot_node(tf_snapshot_data(snaps->pdata[i]), name);
                x = LEFT + WIDTH * (tf_snapshot_time(snaps->pdata[i]) - t0) / span;
            }
            role r = role_of(n);
            guint64 term = n && n->reachable ? n->term : prev_term;
            if (i == 0) {
                prev_role = r;
                prev_term = term;
                continue;
            }
            if (i == snaps->len || r != prev_role || term != prev_term) {
                g_string_append_printf(svg, "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>%s, term %"
                                       G_GUINT64_FORMAT "</title></rect>\n",
                                       seg_x, y, MAX(x - seg_x, 0.5), LANE_H - 6, colors[prev_role],
                                       labels[prev_role], prev_term);
                if (prev_term && x - seg_x > 18)
                    g_string_append_printf(svg, "<text x=\"%.1f\" y=\"%.0f\" fill=\"white\">t%" G_GUINT64_FORMAT "</text>\n",
                                           seg_x + 3, y + 15, prev_term);
                seg_x = x;
                prev_role = r;
                prev_term = term;
            }
        }
    }
    /* An Election Safety violation: a red line where it was first seen, named below. */
    for (guint i = 0; last && last->violation && i < snaps->len; i++) {
        const raftkv_snapshot *s = tf_snapshot_data(snaps->pdata[i]);
        if (!s->violations)
            continue;
        double x = LEFT + WIDTH * (tf_snapshot_time(snaps->pdata[i]) - t0) / span;
        char *esc = xml_escape(last->violation);
        g_string_append_printf(svg, "<line x1=\"%.1f\" y1=\"24\" x2=\"%.1f\" y2=\"%u\" stroke=\"%s\" "
                               "stroke-width=\"2\"><title>%s</title></line>\n"
                               "<text x=\"4\" y=\"%u\" fill=\"%s\">%s</text>\n",
                               x, x, 30 + lanes * LANE_H, VIOLATION_COLOR, esc,
                               height - 4, VIOLATION_COLOR, esc);
        g_free(esc);
        break;
    }
    double ly = 40 + lanes * LANE_H + 10;
    for (int r = ROLE_LEADER; r >= ROLE_DOWN; r--) {
        double lx = LEFT + (ROLE_LEADER - r) * 150;
        g_string_append_printf(svg, "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                               "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
                               lx, ly, colors[r], lx + 16, ly + 10, labels[r]);
    }
    g_string_append(svg, "</svg>\n");
    return g_string_free(svg, FALSE);
}
