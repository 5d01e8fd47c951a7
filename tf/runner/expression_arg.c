/* expression_arg.c: tf_arg, one typed argument of a step match.
 * Holds the matched text, its offset, the parameter type and the transformed value;
 * transformers fill it through the setters so built-in and custom types look alike. */
#include "expression_priv.h"

#include <string.h>

struct tf_arg {
    tf_arg_kind kind;
    const tf_param_type *type;
    char *text;
    gssize start;
    union {
        gint64 i;
        double d;
        char *s;
        void *p;
    } v;
    GDestroyNotify custom_free;
};

tf_arg *tf_arg_new(const tf_param_type *type, char *text, gssize start)
{
    tf_arg *a = g_new0(tf_arg, 1);
    a->kind = TF_ARG_NULL;
    a->type = type;
    a->text = text;
    a->start = start;
    return a;
}

void tf_arg_set_null(tf_arg *arg)
{
    if (arg->kind == TF_ARG_STRING)
        g_free(arg->v.s);
    else if (arg->kind == TF_ARG_CUSTOM && arg->custom_free && arg->v.p)
        arg->custom_free(arg->v.p);
    arg->kind = TF_ARG_NULL;
    arg->custom_free = NULL;
    memset(&arg->v, 0, sizeof arg->v);
}

void tf_arg_free(tf_arg *arg)
{
    if (!arg)
        return;
    tf_arg_set_null(arg);
    g_free(arg->text);
    g_free(arg);
}

void tf_arg_set_int(tf_arg *arg, gint64 value)
{
    tf_arg_set_null(arg);
    arg->kind = TF_ARG_INT;
    arg->v.i = value;
}

void tf_arg_set_double(tf_arg *arg, double value)
{
    tf_arg_set_null(arg);
    arg->kind = TF_ARG_DOUBLE;
    arg->v.d = value;
}

void tf_arg_take_string(tf_arg *arg, char *value)
{
    tf_arg_set_null(arg);
    if (!value)
        return;
    arg->kind = TF_ARG_STRING;
    arg->v.s = value;
}

void tf_arg_set_string(tf_arg *arg, const char *value)
{
    tf_arg_take_string(arg, g_strdup(value));
}

void tf_arg_set_custom(tf_arg *arg, void *value, GDestroyNotify free_fn)
{
    tf_arg_set_null(arg);
    arg->kind = TF_ARG_CUSTOM;
    arg->v.p = value;
    arg->custom_free = free_fn;
}

tf_arg_kind tf_arg_kind_of(const tf_arg *arg) { return arg->kind; }
gint64 tf_arg_int(const tf_arg *arg) { return arg->kind == TF_ARG_INT ? arg->v.i : 0; }
double tf_arg_double(const tf_arg *arg) { return arg->kind == TF_ARG_DOUBLE ? arg->v.d : 0; }
const char *tf_arg_string(const tf_arg *arg)
{
    return arg->kind == TF_ARG_STRING ? arg->v.s : NULL;
}
void *tf_arg_custom(const tf_arg *arg) { return arg->kind == TF_ARG_CUSTOM ? arg->v.p : NULL; }
const char *tf_arg_text(const tf_arg *arg) { return arg->text; }
gssize tf_arg_start(const tf_arg *arg) { return arg->start; }
const char *tf_arg_param_type(const tf_arg *arg) { return arg->type ? arg->type->name : NULL; }
