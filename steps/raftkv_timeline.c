/* raftkv_timeline.c: the observation history of a Raft scenario as an SVG picture: one
 * lane per node, coloured by role over time (leader, follower, no leader known, down),
 * with the term written where it changes, and a red mark where Election Safety was first
 * seen violated. Network faults show as windows: a labelled bar per fault above the
 * lanes, and a band behind the lanes of the nodes it cut off, so what each side of a
 * partition believed can be read against it. Built from the runtime's snapshot ring. */
#include <string.h>
#include "raftkv_world.h"

#define LANE_H 28
#define LEFT 70
#define WIDTH 900
#define VIOLATION_COLOR "#d62728"
#define FAULT_COLOR "#9467bd"
#define FAULT_ROW_H 16

typedef enum { ROLE_DOWN, ROLE_LOST, ROLE_FOLLOWER, ROLE_LEADER } role;

static const char *const colors[] = {"#bbbbbb", "#f0a030", "#5b8def", "#2ca02c"};
static const char *const labels[] = {"down", "no leader known", "follower", "leader"};

static role role_of(const raftkv_node *n)
{
    return !n || !n->reachable ? ROLE_DOWN : n->is_leader ? ROLE_LEADER : n->leader ? ROLE_FOLLOWER : ROLE_LOST;
}

static char *xml_escape(const char *s) { return g_markup_escape_text(s ? s : "", -1); }

/* A fault's window on the time axis. */
typedef struct {
    gint64 from, to;    /* monotonic µs; to = the last snapshot when it never ended */
    const char *desc;   /* borrowed from the events */
    json_t *nodes;      /* borrowed */
    guint row;
} window;

/* Pairs fault_started/fault_ended events by id; rows so that overlapping windows stack. */
static GArray *fault_windows(json_t *faults, gint64 t_end, guint *rows)
{
    GArray *w = g_array_new(FALSE, TRUE, sizeof(window));
    size_t i;
    json_t *ev;
    json_array_foreach(faults, i, ev) {
        const char *what = json_string_value(json_object_get(ev, "event"));
        json_int_t id = json_integer_value(json_object_get(ev, "id"));
        gint64 t = json_integer_value(json_object_get(ev, "time"));
        if (!g_strcmp0(what, "fault_started")) {
            window x = {t, t_end, json_string_value(json_object_get(ev, "description")),
                        json_object_get(ev, "nodes"), 0};
            g_array_append_val(w, x);
            g_array_index(w, window, w->len - 1).row = (guint)id; /* the id until ended */
        } else {
            for (guint k = 0; k < w->len; k++)
                if (g_array_index(w, window, k).row == (guint)id && g_array_index(w, window, k).to == t_end)
                    g_array_index(w, window, k).to = t;
        }
    }
    *rows = 0;
    for (guint k = 0; k < w->len; k++) { /* first row free at the window's start */
        window *x = &g_array_index(w, window, k);
        guint row = 0;
        for (gboolean clash = TRUE; clash; row += clash) {
            clash = FALSE;
            for (guint j = 0; j < k && !clash; j++) {
                const window *y = &g_array_index(w, window, j);
                clash = y->row == row && y->from < x->to && x->from < y->to;
            }
        }
        x->row = row;
        *rows = MAX(*rows, row + 1);
    }
    return w;
}

static gboolean names(json_t *nodes, const char *name)
{
    size_t i;
    json_t *n;
    json_array_foreach(nodes, i, n)
        if (!g_strcmp0(json_string_value(n), name))
            return TRUE;
    return FALSE;
}

char *rk_timeline_svg(GPtrArray *snaps, json_t *faults)
{
    GString *svg = g_string_new(NULL);
    const raftkv_snapshot *last = snaps->len ? tf_snapshot_data(snaps->pdata[snaps->len - 1]) : NULL;
    guint lanes = last ? last->n : 0;
    gint64 t0 = snaps->len ? tf_snapshot_time(snaps->pdata[0]) : 0;
    gint64 t1 = snaps->len ? tf_snapshot_time(snaps->pdata[snaps->len - 1]) : 1;
    double span = MAX(t1 - t0, 1);
    guint rows = 0;
    GArray *windows = faults ? fault_windows(faults, t1, &rows) : g_array_new(FALSE, TRUE, sizeof(window));
    guint top = 30 + rows * FAULT_ROW_H; /* lanes start below the fault rows */
    guint height = top + 10 + lanes * LANE_H + (last && last->violation ? 58 : 40);
    g_string_append_printf(svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%u\" font-family=\"sans-serif\" font-size=\"11\">\n"
        "<text x=\"4\" y=\"16\" font-size=\"13\">raftkv: role and term of each node over %.1f s (%u snapshots)%s</text>\n",
        WIDTH + LEFT + 10, height, span / G_USEC_PER_SEC, snaps->len,
        windows->len ? ", network faults above and behind the lanes" : "");
    /* Fault windows first: a bar with its description per fault, and a band behind the
     * lanes of the nodes it names, drawn before the lanes so roles and terms stay on top. */
    for (guint k = 0; k < windows->len; k++) {
        const window *w = &g_array_index(windows, window, k);
        double x0 = LEFT + WIDTH * (MAX(w->from, t0) - t0) / span;
        double x1 = LEFT + WIDTH * (MIN(w->to, t1) - t0) / span;
        double wd = MAX(x1 - x0, 1.0);
        char *esc = xml_escape(w->desc);
        double y = 24 + w->row * FAULT_ROW_H;
        g_string_append_printf(svg, "<rect class=\"fault\" x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%d\" "
                               "fill=\"%s\" fill-opacity=\"0.35\"><title>%s, %.2f s</title></rect>\n",
                               x0, y, wd, FAULT_ROW_H - 3, FAULT_COLOR, esc, (w->to - w->from) / 1e6);
        /* The label as far as it fits in its bar (about 5.5 px a character at 10 px);
         * the bar's title holds all of it. */
        glong fits = (glong)((wd - 4) / 5.5), len = g_utf8_strlen(w->desc, -1);
        if (fits >= 4) {
            gchar *cut = len <= fits ? g_strdup(w->desc) : g_utf8_substring(w->desc, 0, fits - 1);
            char *label = xml_escape(cut);
            g_string_append_printf(svg, "<text x=\"%.1f\" y=\"%.0f\" font-size=\"10\">%s%s</text>\n",
                                   x0 + 2, y + 10, label, len <= fits ? "" : "\u2026");
            g_free(label);
            g_free(cut);
        }
        for (guint lane = 0; lane < lanes; lane++)
            if (names(w->nodes, last->nodes[lane].name))
                g_string_append_printf(svg, "<rect class=\"fault-band\" x=\"%.1f\" y=\"%u\" width=\"%.1f\" "
                                       "height=\"%d\" fill=\"%s\" fill-opacity=\"0.45\"><title>%s</title></rect>\n",
                                       x0, top + lane * LANE_H - 3, wd, LANE_H, FAULT_COLOR, esc);
        g_free(esc);
    }
    for (guint lane = 0; lane < lanes; lane++) {
        const char *name = last->nodes[lane].name;
        double y = top + lane * LANE_H;
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
                               x, x, top + lanes * LANE_H, VIOLATION_COLOR, esc,
                               height - 4, VIOLATION_COLOR, esc);
        g_free(esc);
        break;
    }
    double ly = top + 10 + lanes * LANE_H + 10;
    for (int r = ROLE_LEADER; r >= ROLE_DOWN; r--) {
        double lx = LEFT + (ROLE_LEADER - r) * 150;
        g_string_append_printf(svg, "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                               "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n",
                               lx, ly, colors[r], lx + 16, ly + 10, labels[r]);
    }
    if (windows->len) {
        double lx = LEFT + 4 * 150;
        g_string_append_printf(svg, "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"%s\" "
                               "fill-opacity=\"0.45\"/><text x=\"%.0f\" y=\"%.0f\">network fault</text>\n",
                               lx, ly, FAULT_COLOR, lx + 16, ly + 10);
    }
    g_array_unref(windows);
    g_string_append(svg, "</svg>\n");
    return g_string_free(svg, FALSE);
}
