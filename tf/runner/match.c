/* match.c: matching a pickle step against every step definition (none: undefined, one:
 * run it, several: ambiguous), what each match found for the run's events (the arguments
 * with the capture-group tree of each parameter, as Cucumber Messages report them) and
 * ready-to-paste C snippets for undefined steps. */
#include <string.h>
#include "runner_priv.h"

void tf_match_free(tf_match *m)
{
    if (!m)
        return;
    if (m->args)
        g_ptr_array_unref(m->args);
    g_free(m);
}

GPtrArray *tf_match_step(tf_registry *reg, const tf_gherkin_pickle_step *pstep,
                         char **match_error)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)tf_match_free);
    for (guint i = 0; i < reg->steps->len; i++) {
        tf_step_def *d = g_ptr_array_index(reg->steps, i);
        GPtrArray *args = NULL;
        GError *err = NULL;
        if (tf_expression_match(d->expr, pstep->text, &args, &err)) {
            tf_match *m = g_new0(tf_match, 1);
            m->def = d;
            m->args = args;
            g_ptr_array_add(out, m);
        } else if (err) {
            /* A transformer rejected the text: the step matched but cannot run. */
            if (match_error && !*match_error)
                *match_error = g_strdup(err->message);
            tf_match *m = g_new0(tf_match, 1);
            m->def = d;
            g_ptr_array_add(out, m);
            g_error_free(err);
        }
    }
    return out;
}

/* ---- capture-group trees ---- */

/* The nesting of capturing groups in a regex source: parent[i] is the capturing group
 * (1-based) enclosing group i+1, or 0 at top level. */
static GArray *group_parents(const char *re)
{
    GArray *parents = g_array_new(FALSE, FALSE, sizeof(guint));
    GArray *stack = g_array_new(FALSE, FALSE, sizeof(guint)); /* 0 = non-capturing */
    for (const char *p = re; *p; p++) {
        if (*p == '\\') {
            if (p[1])
                p++;
        } else if (*p == '[') {
            p++;
            if (*p == '^')
                p++;
            if (*p == ']')
                p++;
            while (*p && *p != ']') {
                if (*p == '\\' && p[1])
                    p++;
                p++;
            }
            if (!*p)
                break;
        } else if (*p == '(') {
            gboolean capturing = TRUE;
            if (p[1] == '?') {
                capturing = (p[2] == '<' && p[3] != '=' && p[3] != '!') ||
                            (p[2] == 'P' && p[3] == '<');
            }
            guint idx = 0;
            if (capturing) {
                guint parent = 0;
                for (guint k = stack->len; k-- > 0;)
                    if (g_array_index(stack, guint, k)) {
                        parent = g_array_index(stack, guint, k);
                        break;
                    }
                g_array_append_val(parents, parent);
                idx = parents->len;
            }
            g_array_append_val(stack, idx);
        } else if (*p == ')') {
            if (stack->len)
                g_array_set_size(stack, stack->len - 1);
        }
    }
    g_array_unref(stack);
    return parents;
}

/* Fills out with capturing group g (0: the whole match) of mi and its nested groups;
 * base: code points before text in the step. */
static void group_node(tf_event *owner, const char *text, GMatchInfo *mi, GArray *parents,
                       guint g, glong base, tf_ev_group *out)
{
    *out = (tf_ev_group){.start = -1};
    gint s = -1, e = -1;
    if (g > 0 && g_match_info_fetch_pos(mi, g, &s, &e) && s >= 0) {
        out->start = base + g_utf8_pointer_to_offset(text, text + s);
        out->value = tf_event_own(owner, g_strndup(text + s, e - s));
    }
    for (guint i = 0; i < parents->len; i++)
        out->n_children += g_array_index(parents, guint, i) == g;
    if (!out->n_children)
        return;
    tf_ev_group *children = tf_event_own(owner, g_new0(tf_ev_group, out->n_children));
    out->children = children;
    for (guint i = 0, k = 0; i < parents->len; i++)
        if (g_array_index(parents, guint, i) == g)
            group_node(owner, text, mi, parents, i + 1, base, &children[k++]);
}

/* A parameter type's regexps as one anchored regex, with the nesting of its groups:
 * compiled once per type and run (a run reports thousands of arguments). */
typedef struct {
    GRegex *re; /* NULL when the type's regexps do not compile as one */
    GArray *parents;
} param_tree;

static void param_tree_free(param_tree *t)
{
    if (t->re)
        g_regex_unref(t->re);
    g_array_unref(t->parents);
    g_free(t);
}

static const param_tree *param_tree_for(tf_registry *reg, const tf_param_type *type)
{
    if (!reg->param_trees)
        reg->param_trees = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                                 (GDestroyNotify)param_tree_free);
    param_tree *t = g_hash_table_lookup(reg->param_trees, type);
    if (t)
        return t;
    const char *const *res = tf_param_type_regexps(type);
    GString *src = g_string_new("^(?:");
    guint n = g_strv_length((char **)res);
    for (guint i = 0; i < n; i++)
        g_string_append_printf(src, n > 1 ? "%s(?:%s)" : "%s%s", i ? "|" : "", res[i]);
    g_string_append(src, ")$");
    t = g_new0(param_tree, 1);
    t->re = g_regex_new(src->str, 0, 0, NULL);
    t->parents = group_parents(src->str);
    g_hash_table_insert(reg->param_trees, (gpointer)type, t);
    g_string_free(src, TRUE);
    return t;
}

/* Sets the children of a parameter's group: its type's own capturing groups matched
 * against the argument's text, as cucumber's TreeRegexp reports them. */
static void param_children(tf_registry *reg, tf_event *owner, const tf_param_type *type,
                           const char *value, glong start, tf_ev_group *group)
{
    const param_tree *t = param_tree_for(reg, type);
    GMatchInfo *mi = NULL;
    if (t->parents->len == 0) /* no capturing group ({int}, {float}, ...): no children */
        return;
    if (t->re && g_regex_match(t->re, value, 0, &mi)) {
        tf_ev_group top;
        group_node(owner, value, mi, t->parents, 0, start, &top);
        group->children = top.children;
        group->n_children = top.n_children;
    }
    if (mi)
        g_match_info_free(mi);
}

void tf_match_to_event(tf_registry *reg, const tf_match *m, const char *text, tf_event *owner,
                       tf_ev_match *out)
{
    out->n_args = m->args ? m->args->len : 0;
    tf_ev_argument *args = tf_event_own(owner, g_new0(tf_ev_argument, out->n_args + 1));
    out->args = args;
    for (guint i = 0; i < out->n_args; i++) {
        const tf_arg *a = g_ptr_array_index(m->args, i);
        gssize start = tf_arg_start(a);
        const char *value = tf_arg_text(a);
        args[i].group.start = -1;
        args[i].parameter_type_name = tf_arg_param_type(a);
        if (start < 0 || !value)
            continue;
        glong cp = g_utf8_pointer_to_offset(text, text + start);
        args[i].group.start = cp;
        args[i].group.value = value;
        const tf_param_type *t = tf_expression_param(m->def->expr, i);
        if (t)
            param_children(reg, owner, t, value, cp, &args[i].group);
    }
}

/* ---- snippets ---- */

static void append_c_string(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            g_string_append_c(out, '\\');
        g_string_append_c(out, *s);
    }
    g_string_append_c(out, '"');
}

static char *function_name(const char *text)
{
    GString *s = g_string_new("step_");
    gboolean sep = FALSE;
    for (const char *p = text; *p && s->len < 48; p++) {
        if (g_ascii_isalnum(*p)) {
            if (sep && s->len > 5)
                g_string_append_c(s, '_');
            g_string_append_c(s, g_ascii_tolower(*p));
            sep = FALSE;
        } else {
            sep = TRUE;
        }
    }
    return g_string_free(s, FALSE);
}

static const char *arg_getter(const tf_param_type *t, const char **ctype)
{
    const char *n = tf_param_type_name(t);
    if (!strcmp(n, "int") || !strcmp(n, "long") || !strcmp(n, "short") || !strcmp(n, "byte")) {
        *ctype = "gint64";
        return "tf_step_arg_int";
    }
    if (!strcmp(n, "float") || !strcmp(n, "double")) {
        *ctype = "double";
        return "tf_step_arg_double";
    }
    if (!tf_param_type_is_builtin(t)) {
        *ctype = "const void *";
        return "tf_step_arg_value";
    }
    *ctype = "const char *";
    return "tf_step_arg_str";
}

char *tf_snippet_for_step(tf_param_registry *params, const tf_gherkin_pickle_step *pstep)
{
    GPtrArray *gens = tf_expression_generate(params, pstep->text);
    const tf_generated_expression *g = g_ptr_array_index(gens, 0);
    const char *macro = pstep->type == TF_GHERKIN_STEP_ACTION    ? "TF_WHEN"
                        : pstep->type == TF_GHERKIN_STEP_OUTCOME ? "TF_THEN"
                                                                 : "TF_GIVEN";
    char *fname = function_name(pstep->text);
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "static tf_step_status %s(tf_step *step, GError **error)\n{\n", fname);
    for (guint i = 0; i < tf_generated_expression_n_params(g); i++) {
        const char *ctype = NULL;
        const char *getter = arg_getter(tf_generated_expression_param(g, i), &ctype);
        g_string_append_printf(s, "    %s%s%s_arg = %s(step, %u);\n", ctype,
                               g_str_has_suffix(ctype, "*") ? "" : " ",
                               tf_generated_expression_param_name(g, i), getter, i);
    }
    if (pstep->has_data_table)
        g_string_append(s, "    guint n_rows;\n"
                           "    const tf_gherkin_pickle_row *rows = tf_step_table(step, &n_rows);\n");
    if (pstep->doc_string)
        g_string_append(s, "    const char *doc = tf_step_doc_string(step, NULL);\n");
    g_string_append(s, "    return TF_STEP_PENDING; /* TODO: implement */\n}\n");
    g_string_append_printf(s, "/* in your module's init: */\n%s(", macro);
    append_c_string(s, tf_generated_expression_source(g));
    g_string_append_printf(s, ", %s);\n", fname);
    for (guint i = 1; i < gens->len && i < 4; i++) {
        g_string_append(s, "/* or: ");
        append_c_string(s, tf_generated_expression_source(g_ptr_array_index(gens, i)));
        g_string_append(s, " */\n");
    }
    g_free(fname);
    g_ptr_array_unref(gens);
    return g_string_free(s, FALSE);
}
