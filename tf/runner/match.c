/* match.c: matching a pickle step against every step definition (none: undefined, one:
 * run it, several: ambiguous), the stepMatchArguments of Cucumber Messages (with the
 * capture-group tree of each parameter) and ready-to-paste C snippets for undefined steps. */
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

static json_t *group_node(const char *text, GMatchInfo *mi, GArray *parents, guint g,
                          glong base)
{
    json_t *o = json_object();
    if (g > 0) {
        gint s = -1, e = -1;
        if (g_match_info_fetch_pos(mi, g, &s, &e) && s >= 0) {
            json_object_set_new(o, "start", json_integer(base + g_utf8_pointer_to_offset(
                                                                    text, text + s)));
            json_object_set_new(o, "value", json_stringn(text + s, e - s));
        }
    }
    json_t *children = NULL;
    for (guint i = 0; i < parents->len; i++) {
        if (g_array_index(parents, guint, i) != g)
            continue;
        if (!children)
            children = json_array();
        json_array_append_new(children, group_node(text, mi, parents, i + 1, base));
    }
    if (children)
        json_object_set_new(o, "children", children);
    return o;
}

/* The children of a parameter's group: its type's own capturing groups matched against
 * the argument's text, as cucumber's TreeRegexp reports them. */
static json_t *param_children(const tf_param_type *type, const char *value, glong start)
{
    const char *const *res = tf_param_type_regexps(type);
    GString *src = g_string_new("^(?:");
    guint n = g_strv_length((char **)res);
    for (guint i = 0; i < n; i++)
        g_string_append_printf(src, n > 1 ? "%s(?:%s)" : "%s%s", i ? "|" : "", res[i]);
    g_string_append(src, ")$");
    json_t *children = NULL;
    GRegex *re = g_regex_new(src->str, 0, 0, NULL);
    GMatchInfo *mi = NULL;
    if (re && g_regex_match(re, value, 0, &mi)) {
        GArray *parents = group_parents(src->str);
        json_t *top = group_node(value, mi, parents, 0, start);
        children = json_object_get(top, "children");
        if (children)
            json_incref(children);
        json_decref(top);
        g_array_unref(parents);
    }
    if (mi)
        g_match_info_free(mi);
    if (re)
        g_regex_unref(re);
    g_string_free(src, TRUE);
    return children;
}

json_t *tf_match_arguments_json(const tf_match *m, const char *text)
{
    json_t *list = json_array();
    for (guint i = 0; m->args && i < m->args->len; i++) {
        const tf_arg *a = g_ptr_array_index(m->args, i);
        json_t *group = json_object();
        gssize start = tf_arg_get_start(a);
        const char *value = tf_arg_get_text(a);
        const char *type_name = tf_arg_get_param_type(a);
        if (start >= 0 && value) {
            glong cp = g_utf8_pointer_to_offset(text, text + start);
            json_object_set_new(group, "start", json_integer(cp));
            json_object_set_new(group, "value", json_string(value));
            const tf_param_type *t = tf_expression_param(m->def->expr, i);
            json_t *children = t ? param_children(t, value, cp) : NULL;
            if (children)
                json_object_set_new(group, "children", children);
        }
        json_t *arg = json_object();
        json_object_set_new(arg, "group", group);
        if (type_name)
            json_object_set_new(arg, "parameterTypeName", json_string(type_name));
        json_array_append_new(list, arg);
    }
    json_t *o = json_object();
    json_object_set_new(o, "stepMatchArguments", list);
    return o;
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
    g_string_append_printf(s, "static tf_status %s(tf_step *step, GError **error)\n{\n", fname);
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
    g_string_append(s, "    return TF_STATUS_PENDING; /* TODO: implement */\n}\n");
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
