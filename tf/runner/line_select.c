/* line_select.c: which pickles `tf run FILE:LINE` selects. Each line of a feature file
 * lies in at most one block: a Feature or Rule header (tags, keyword line, description),
 * a Background, a Scenario (tags through its last step, doc strings and tables
 * included), an Examples header (tags through the header row) or one Examples row. A
 * line selects the pickles of its block (a Background: those of the feature or rule it
 * belongs to). Blank lines and comments between blocks select nothing: like a line past
 * the end of the file or a block with no pickles, that is an error, never a silent run
 * of nothing. cucumber-js matches only scenario and row lines; Cucumber-Ruby also steps
 * and tags; this takes every line of a block so an editor's cursor line always works. */
#include <string.h>
#include "runner_priv.h"

/* The container key of the whole feature, compared by address (ids are AST ids). */
static const char feature_key[] = "(feature)";

typedef enum { BLOCK_HEADER, BLOCK_BACKGROUND, BLOCK_SCENARIO, BLOCK_EXAMPLES, BLOCK_ROW } block_kind;

typedef struct {
    const char *key;  /* a container: feature_key, a rule, scenario, examples or row id */
    block_kind kind;
    const char *what; /* the block's keyword as written, for errors ("Scenario Outline") */
    guint at;         /* the block's keyword line */
} line_owner;

typedef struct {
    const char *data;
    GArray *starts; /* gsize: offset of each line; starts[0] is line 1 */
    line_owner *owners; /* [1..n_lines] */
    guint n_lines;
    GHashTable *parent; /* scenario id -> rule id; row id -> examples id (borrowed) */
} line_map;

static const char *line_text(const line_map *m, guint line, gsize *len)
{
    gsize s = g_array_index(m->starts, gsize, line - 1);
    gsize e = line < m->starts->len ? g_array_index(m->starts, gsize, line) : strlen(m->data);
    while (e > s && (m->data[e - 1] == '\n' || m->data[e - 1] == '\r'))
        e--;
    *len = e - s;
    return m->data + s;
}

static gboolean line_blank(const line_map *m, guint line)
{
    gsize len;
    const char *t = line_text(m, line, &len);
    for (gsize i = 0; i < len; i++)
        if (!g_ascii_isspace(t[i]))
            return FALSE;
    return TRUE;
}

static void own(line_map *m, guint first, guint last, const char *key, block_kind kind,
                const char *what, guint at)
{
    for (guint l = MAX(first, 1); l <= last && l <= m->n_lines; l++)
        m->owners[l] = (line_owner){key, kind, what, at};
}

/* The last line of a description that follows line `after` (Gherkin skips blank lines
 * before it and keeps its inner lines), or `after` when there is none. */
static guint description_end(const line_map *m, guint after, const char *description)
{
    if (!description || !*description)
        return after;
    guint first = after + 1;
    while (first <= m->n_lines && line_blank(m, first))
        first++;
    guint lines = 1;
    for (const char *p = description; *p; p++)
        lines += *p == '\n';
    return first + lines - 1;
}

static guint first_line(guint keyword_line, const tf_gherkin_tag *tags, guint n_tags)
{
    guint l = keyword_line;
    for (guint i = 0; i < n_tags; i++)
        l = MIN(l, tags[i].location.line);
    return l;
}

/* A step's last line: its own, a data table's last row or a doc string's closing
 * delimiter (the first later line that starts with the opening one). */
static guint step_end(const line_map *m, const tf_gherkin_step *s)
{
    guint end = s->location.line;
    if (s->data_table && s->data_table->n_rows)
        end = MAX(end, s->data_table->rows[s->data_table->n_rows - 1].location.line);
    if (s->doc_string) {
        const char *delim = s->doc_string->delimiter;
        guint l = s->doc_string->location.line + 1;
        for (; l <= m->n_lines; l++) {
            gsize len;
            const char *t = line_text(m, l, &len);
            while (len && g_ascii_isspace(*t))
                t++, len--;
            if (len >= strlen(delim) && !strncmp(t, delim, strlen(delim)))
                break;
        }
        end = MAX(end, MIN(l, m->n_lines));
    }
    return end;
}

static guint steps_end(const line_map *m, guint end, const tf_gherkin_step *steps, guint n)
{
    for (guint i = 0; i < n; i++)
        end = MAX(end, step_end(m, &steps[i]));
    return end;
}

static void map_scenario(line_map *m, const tf_gherkin_scenario *sc, const char *rule_id)
{
    if (rule_id)
        g_hash_table_insert(m->parent, (gpointer)sc->id, (gpointer)rule_id);
    guint end = description_end(m, sc->location.line, sc->description);
    end = steps_end(m, end, sc->steps, sc->n_steps);
    own(m, first_line(sc->location.line, sc->tags, sc->n_tags), end, sc->id, BLOCK_SCENARIO,
        sc->keyword, sc->location.line);
    for (guint i = 0; i < sc->n_examples; i++) {
        const tf_gherkin_examples *ex = &sc->examples[i];
        guint head = description_end(m, ex->location.line, ex->description);
        if (ex->table_header)
            head = MAX(head, ex->table_header->location.line);
        own(m, first_line(ex->location.line, ex->tags, ex->n_tags), head, ex->id,
            BLOCK_EXAMPLES, ex->keyword, ex->location.line);
        for (guint r = 0; r < ex->n_table_body; r++) {
            const tf_gherkin_row *row = &ex->table_body[r];
            g_hash_table_insert(m->parent, (gpointer)row->id, (gpointer)ex->id);
            own(m, row->location.line, row->location.line, row->id, BLOCK_ROW,
                "Examples row", row->location.line);
        }
    }
}

static void map_children(line_map *m, const tf_gherkin_child *children, guint n,
                         const char *parent_key)
{
    for (guint i = 0; i < n; i++) {
        const tf_gherkin_child *c = &children[i];
        if (c->background) {
            const tf_gherkin_background *b = c->background;
            guint end = description_end(m, b->location.line, b->description);
            own(m, b->location.line, steps_end(m, end, b->steps, b->n_steps), parent_key,
                BLOCK_BACKGROUND, b->keyword, b->location.line);
        } else if (c->scenario) {
            map_scenario(m, c->scenario, parent_key == feature_key ? NULL : parent_key);
        } else if (c->rule) {
            const tf_gherkin_rule *r = c->rule;
            own(m, first_line(r->location.line, r->tags, r->n_tags),
                description_end(m, r->location.line, r->description), r->id, BLOCK_HEADER,
                r->keyword, r->location.line);
            map_children(m, r->children, r->n_children, r->id);
        }
    }
}

/* TRUE when pickle p lies in container key. */
static gboolean contains(const line_map *m, const char *key, const tf_gherkin_pickle *p)
{
    if (key == feature_key)
        return TRUE;
    for (guint i = 0; i < p->n_ast_node_ids; i++) {
        const char *id = p->ast_node_ids[i];
        if (!strcmp(id, key))
            return TRUE;
        const char *up = g_hash_table_lookup(m->parent, id); /* rule or examples */
        if (up && !strcmp(up, key))
            return TRUE;
    }
    return FALSE;
}

gboolean tf_select_lines(const tf_gherkin_document *doc, const char *data,
                         const tf_gherkin_pickles *pickles, const guint *lines, guint n_lines,
                         gboolean *selected, GError **error)
{
    line_map m = {.data = data};
    m.starts = g_array_new(FALSE, FALSE, sizeof(gsize));
    for (gsize off = 0; data[off];) {
        g_array_append_val(m.starts, off);
        const char *nl = strchr(data + off, '\n');
        off = nl ? (gsize)(nl - data) + 1 : strlen(data);
    }
    m.n_lines = m.starts->len;
    m.owners = g_new0(line_owner, m.n_lines + 1);
    m.parent = g_hash_table_new(g_str_hash, g_str_equal);
    const tf_gherkin_feature *f = doc->feature;
    if (f) {
        own(&m, first_line(f->location.line, f->tags, f->n_tags),
            description_end(&m, f->location.line, f->description), feature_key, BLOCK_HEADER,
            f->keyword, f->location.line);
        map_children(&m, f->children, f->n_children, feature_key);
    }
    guint n = tf_gherkin_pickles_count(pickles);
    gboolean ok = TRUE;
    for (guint i = 0; i < n_lines && ok; i++) {
        guint l = lines[i];
        if (l > m.n_lines) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "%s:%u: past the end of the file (%u lines)", doc->uri, l, m.n_lines);
            ok = FALSE;
            break;
        }
        const line_owner *o = &m.owners[l];
        if (!o->key) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "%s:%u: selects no scenario: the line is between blocks (blank or a "
                        "comment outside every Feature, Rule, Background, Scenario and "
                        "Examples)", doc->uri, l);
            ok = FALSE;
            break;
        }
        guint hits = 0;
        for (guint k = 0; k < n; k++)
            if (contains(&m, o->key, tf_gherkin_pickles_get(pickles, k))) {
                selected[k] = TRUE;
                hits++;
            }
        if (hits == 0) {
            static const char *const why[] = {
                [BLOCK_HEADER] = "has no scenarios",
                [BLOCK_BACKGROUND] = "applies to no scenario",
                [BLOCK_SCENARIO] = "has no example rows", /* only an outline yields none */
                [BLOCK_EXAMPLES] = "has no rows",
                [BLOCK_ROW] = "yields no scenario",
            };
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "%s:%u: selects no scenario: the %s at line %u %s", doc->uri, l,
                        o->what, o->at, why[o->kind]);
            ok = FALSE;
        }
    }
    g_hash_table_unref(m.parent);
    g_free(m.owners);
    g_array_unref(m.starts);
    return ok;
}
