/* messages.c: Cucumber Messages JSON (jansson) for the source, GherkinDocument, pickle
 * and parseError envelopes, with the exact field names and omissions of the official
 * implementation so output can be compared with its conformance data. */
#include <string.h>
#include "gherkin/internal.h"

static json_t *loc(tf_gherkin_location l)
{
    json_t *o = json_object();
    json_object_set_new(o, "line", json_integer(l.line));
    if (l.column)
        json_object_set_new(o, "column", json_integer(l.column));
    return o;
}

static json_t *s(const char *v)
{
    return json_string(v ? v : "");
}

static json_t *tags(const tf_gherkin_tag *t, guint n)
{
    json_t *a = json_array();
    for (guint i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:o,s:o,s:o}", "location", loc(t[i].location),
                                           "name", s(t[i].name), "id", s(t[i].id)));
    return a;
}

static json_t *row(const tf_gherkin_row *r)
{
    json_t *cells = json_array();
    for (guint i = 0; i < r->n_cells; i++)
        json_array_append_new(cells, json_pack("{s:o,s:o}", "location", loc(r->cells[i].location),
                                               "value", s(r->cells[i].value)));
    return json_pack("{s:o,s:o,s:o}", "id", s(r->id), "location", loc(r->location), "cells", cells);
}

static json_t *rows(const tf_gherkin_row *r, guint n)
{
    json_t *a = json_array();
    for (guint i = 0; i < n; i++)
        json_array_append_new(a, row(&r[i]));
    return a;
}

static const char *const keyword_types[] = {"Unknown", "Context", "Action", "Outcome", "Conjunction"};

static json_t *steps(const tf_gherkin_step *st, guint n)
{
    json_t *a = json_array();
    for (guint i = 0; i < n; i++) {
        const tf_gherkin_step *x = &st[i];
        json_t *o = json_pack("{s:o,s:o,s:o,s:s,s:o}", "id", s(x->id), "location", loc(x->location),
                              "keyword", s(x->keyword), "keywordType", keyword_types[x->keyword_type],
                              "text", s(x->text));
        if (x->data_table)
            json_object_set_new(o, "dataTable",
                                json_pack("{s:o,s:o}", "location", loc(x->data_table->location), "rows",
                                          rows(x->data_table->rows, x->data_table->n_rows)));
        if (x->doc_string) {
            json_t *d = json_pack("{s:o,s:o,s:o}", "location", loc(x->doc_string->location), "content",
                                  s(x->doc_string->content), "delimiter", s(x->doc_string->delimiter));
            if (x->doc_string->media_type)
                json_object_set_new(d, "mediaType", s(x->doc_string->media_type));
            json_object_set_new(o, "docString", d);
        }
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *background(const tf_gherkin_background *b)
{
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}", "id", s(b->id), "location", loc(b->location),
                     "keyword", s(b->keyword), "name", s(b->name), "description", s(b->description),
                     "steps", steps(b->steps, b->n_steps));
}

static json_t *scenario(const tf_gherkin_scenario *sc)
{
    json_t *ex = json_array();
    for (guint i = 0; i < sc->n_examples; i++) {
        const tf_gherkin_examples *e = &sc->examples[i];
        json_t *o = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id", s(e->id), "location",
                              loc(e->location), "tags", tags(e->tags, e->n_tags), "keyword", s(e->keyword),
                              "name", s(e->name), "description", s(e->description), "tableBody",
                              rows(e->table_body, e->n_table_body), "tableHeader", json_null());
        if (e->table_header)
            json_object_set_new(o, "tableHeader", row(e->table_header));
        else
            json_object_del(o, "tableHeader");
        json_array_append_new(ex, o);
    }
    return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id", s(sc->id), "location", loc(sc->location),
                     "tags", tags(sc->tags, sc->n_tags), "keyword", s(sc->keyword), "name", s(sc->name),
                     "description", s(sc->description), "steps", steps(sc->steps, sc->n_steps),
                     "examples", ex);
}

static json_t *children(const tf_gherkin_child *ch, guint n)
{
    json_t *a = json_array();
    for (guint i = 0; i < n; i++) {
        if (ch[i].background) {
            json_array_append_new(a, json_pack("{s:o}", "background", background(ch[i].background)));
        } else if (ch[i].scenario) {
            json_array_append_new(a, json_pack("{s:o}", "scenario", scenario(ch[i].scenario)));
        } else if (ch[i].rule) {
            const tf_gherkin_rule *r = ch[i].rule;
            json_t *o = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id", s(r->id), "location",
                                  loc(r->location), "tags", tags(r->tags, r->n_tags), "keyword",
                                  s(r->keyword), "name", s(r->name), "description", s(r->description),
                                  "children", children(r->children, r->n_children));
            json_array_append_new(a, json_pack("{s:o}", "rule", o));
        }
    }
    return a;
}

json_t *tf_gherkin_document_envelope(const tf_gherkin_document *doc)
{
    json_t *comments = json_array();
    for (guint i = 0; i < doc->n_comments; i++)
        json_array_append_new(comments, json_pack("{s:o,s:o}", "location", loc(doc->comments[i].location),
                                                  "text", s(doc->comments[i].text)));
    json_t *d = json_pack("{s:o,s:o}", "uri", s(doc->uri), "comments", comments);
    const tf_gherkin_feature *f = doc->feature;
    if (f)
        json_object_set_new(d, "feature",
                            json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "location", loc(f->location), "tags",
                                      tags(f->tags, f->n_tags), "language", s(f->language), "keyword",
                                      s(f->keyword), "name", s(f->name), "description", s(f->description),
                                      "children", children(f->children, f->n_children)));
    return json_pack("{s:o}", "gherkinDocument", d);
}

static const char *const step_types[] = {"Unknown", "Context", "Action", "Outcome"};

json_t *tf_gherkin_pickle_envelope(const tf_gherkin_pickle *p)
{
    json_t *st = json_array();
    for (guint i = 0; i < p->n_steps; i++) {
        const tf_gherkin_pickle_step *x = &p->steps[i];
        json_t *ids = json_array();
        for (guint k = 0; k < x->n_ast_node_ids; k++)
            json_array_append_new(ids, s(x->ast_node_ids[k]));
        json_t *o = json_pack("{s:o,s:o,s:s,s:o}", "id", s(x->id), "text", s(x->text), "type",
                              step_types[x->type], "astNodeIds", ids);
        json_t *arg = NULL;
        if (x->has_data_table) {
            json_t *rs = json_array();
            for (guint r = 0; r < x->n_rows; r++) {
                json_t *cells = json_array();
                for (guint c = 0; c < x->rows[r].n_cells; c++)
                    json_array_append_new(cells, json_pack("{s:o}", "value", s(x->rows[r].cells[c])));
                json_array_append_new(rs, json_pack("{s:o}", "cells", cells));
            }
            json_t *t = json_pack("{s:o}", "rows", rs);
            if (x->data_table_index)
                json_object_set_new(t, "argumentIndex", json_integer(x->data_table_index));
            arg = json_pack("{s:o}", "dataTable", t);
        }
        if (x->doc_string) {
            json_t *d = json_pack("{s:o}", "content", s(x->doc_string));
            if (x->doc_string_media_type)
                json_object_set_new(d, "mediaType", s(x->doc_string_media_type));
            if (x->doc_string_index)
                json_object_set_new(d, "argumentIndex", json_integer(x->doc_string_index));
            if (!arg)
                arg = json_object();
            json_object_set_new(arg, "docString", d);
        }
        if (arg)
            json_object_set_new(o, "argument", arg);
        json_array_append_new(st, o);
    }
    json_t *tg = json_array();
    for (guint i = 0; i < p->n_tags; i++)
        json_array_append_new(tg, json_pack("{s:o,s:o}", "name", s(p->tags[i].name), "astNodeId",
                                            s(p->tags[i].ast_node_id)));
    json_t *ids = json_array();
    for (guint k = 0; k < p->n_ast_node_ids; k++)
        json_array_append_new(ids, s(p->ast_node_ids[k]));
    return json_pack("{s:{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}}", "pickle", "id", s(p->id), "uri", s(p->uri),
                     "location", loc(p->location), "name", s(p->name), "language", s(p->language),
                     "steps", st, "tags", tg, "astNodeIds", ids);
}

json_t *tf_gherkin_source_envelope(const char *uri, const char *data, gssize len)
{
    if (len < 0)
        len = strlen(data);
    return json_pack("{s:{s:s%,s:s,s:s}}", "source", "data", data, (size_t)len, "mediaType",
                     "text/x.cucumber.gherkin+plain", "uri", uri);
}

json_t *tf_gherkin_error_envelope(const tf_gherkin_error *e)
{
    char *msg = tf_gherkin_error_message(e);
    json_t *o = json_pack("{s:{s:s,s:{s:o,s:s}}}", "parseError", "message", msg, "source", "location",
                          loc(e->location), "uri", e->uri);
    g_free(msg);
    return o;
}
