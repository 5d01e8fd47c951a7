/* cck_steps.h: the Cucumber Compatibility Kit's TypeScript step definitions ported to C,
 * one module per sample, registered in the order the .ts file declares them (Cucumber
 * Messages number definitions in that order). Included by test_cck.c only. */
#ifndef TF_TEST_CCK_STEPS_H
#define TF_TEST_CCK_STEPS_H

#include <string.h>
#include "tf/steps.h"

static const char *cck_dir; /* the sample's directory, for attached files */

static tf_step_status cck_noop(tf_step *step, GError **error) { return TF_STEP_PASSED; }
static tf_step_status cck_hook_noop(tf_world *w, GError **error) { return TF_STEP_PASSED; }
static tf_step_status cck_global_noop(void *d, GError **error) { return TF_STEP_PASSED; }
static tf_step_status cck_whoops(tf_step *step, GError **error) { return TF_FAIL(error, "whoops"); }
static tf_step_status cck_hook_whoops(tf_world *w, GError **error) { return TF_FAIL(error, "whoops"); }
static tf_step_status cck_exception(tf_step *step, GError **error)
{
    return TF_FAIL(error, "Exception in step");
}
static tf_step_status cck_pending(tf_step *step, GError **error) { return TF_STEP_PENDING; }
static tf_step_status cck_skipped(tf_step *step, GError **error) { return TF_STEP_SKIPPED; }
static tf_step_status cck_hook_skipped(tf_world *w, GError **error) { return TF_STEP_SKIPPED; }

#define HOOK(kind, name_, tags_, fn)                                                        \
    do {                                                                                    \
        const tf_hook_options opts_ = {.name = name_, .tags = tags_};                       \
        if (!tf_registry_add_hook(reg, kind, &opts_, fn, __FILE__, __LINE__, error))        \
            return FALSE;                                                                   \
    } while (0)
#define GHOOK(kind, fn)                                                                     \
    do {                                                                                    \
        if (!tf_registry_add_global_hook(reg, kind, NULL, fn, NULL, __FILE__, __LINE__,     \
                                         error))                                            \
            return FALSE;                                                                   \
    } while (0)

/* ---- all-statuses, failedish-combinations ---- */
static gboolean cck_all_statuses(tf_registry *reg, GError **error)
{
    TF_GIVEN_RE("^a step$", cck_noop);
    TF_GIVEN_RE("^a failing step$", cck_whoops);
    TF_GIVEN_RE("^a pending step$", cck_pending);
    TF_GIVEN_RE("^a skipped step$", cck_skipped);
    TF_GIVEN_RE("^an ambiguous (.*?)$", cck_noop);
    TF_GIVEN_RE("^(.*?) ambiguous step$", cck_noop);
    return TRUE;
}
static gboolean cck_failedish(tf_registry *reg, GError **error)
{
    TF_GIVEN_RE("^a step$", cck_noop);
    TF_GIVEN_RE("^a skipped step$", cck_skipped);
    TF_GIVEN_RE("^a pending step$", cck_pending);
    TF_GIVEN_RE("^an ambiguous (.*?)$", cck_noop);
    TF_GIVEN_RE("^(.*?) ambiguous step$", cck_noop);
    TF_GIVEN_RE("^a failing step$", cck_whoops);
    return TRUE;
}

/* ---- ambiguous ---- */
static gboolean cck_ambiguous(tf_registry *reg, GError **error)
{
    TF_GIVEN_RE("^a (.*?) with (.*?)$", cck_noop);
    TF_GIVEN_RE("^a step with (.*?)$", cck_noop);
    return TRUE;
}

/* ---- attachments ---- */
static tf_step_status att_string_as(tf_step *s, GError **error)
{
    const char *text = tf_step_arg_str(s, 0);
    tf_world_attach(tf_step_world(s), text, strlen(text), tf_step_arg_str(s, 1), NULL);
    return TF_STEP_PASSED;
}
static tf_step_status att_logged(tf_step *s, GError **error)
{
    tf_world_log(tf_step_world(s), "%s", tf_step_arg_str(s, 0));
    return TF_STEP_PASSED;
}
static tf_step_status att_ansi(tf_step *s, GError **error)
{
    tf_world_log(tf_step_world(s), "This displays a \x1b[31mr\x1b[0m\x1b[91ma\x1b[0m\x1b[33mi"
                                   "\x1b[0m\x1b[32mn\x1b[0m\x1b[34mb\x1b[0m\x1b[95mo\x1b[0m"
                                   "\x1b[35mw\x1b[0m");
    return TF_STEP_PASSED;
}
static tf_step_status att_following(tf_step *s, GError **error)
{
    const char *doc = tf_step_doc_string(s, NULL);
    tf_world_attach(tf_step_world(s), doc, strlen(doc), tf_step_arg_str(s, 0), NULL);
    return TF_STEP_PASSED;
}
static tf_step_status att_bytes(tf_step *s, GError **error)
{
    gint64 n = tf_step_arg_int(s, 0);
    guint8 *buf = g_malloc(n);
    for (gint64 i = 0; i < n; i++)
        buf[i] = (guint8)i;
    tf_world_attach(tf_step_world(s), buf, n, tf_step_arg_str(s, 1), NULL);
    g_free(buf);
    return TF_STEP_PASSED;
}
static gboolean attach_file(tf_world *w, const char *name, const char *media, const char *as,
                            GError **error)
{
    char *path = g_build_filename(cck_dir, name, NULL);
    char *data;
    gsize len;
    gboolean ok = g_file_get_contents(path, &data, &len, error);
    g_free(path);
    if (ok) {
        tf_world_attach(w, data, len, media, as);
        g_free(data);
    }
    return ok;
}
static tf_step_status att_pdf(tf_step *s, GError **error)
{
    return attach_file(tf_step_world(s), "document.pdf", "application/pdf", "renamed.pdf", error)
               ? TF_STEP_PASSED : TF_STEP_FAILED;
}
static tf_step_status att_link(tf_step *s, GError **error)
{
    const char *uri = tf_step_arg_str(s, 0);
    tf_world_attach(tf_step_world(s), uri, strlen(uri), "text/uri-list", NULL);
    return TF_STEP_PASSED;
}
static tf_step_status att_before_failure(tf_step *s, GError **error)
{
    att_string_as(s, error);
    return TF_FAIL(error, "whoops");
}
static gboolean cck_attachments(tf_registry *reg, GError **error)
{
    TF_WHEN("the string {string} is attached as {string}", att_string_as);
    TF_WHEN("the string {string} is logged", att_logged);
    TF_WHEN("text with ANSI escapes is logged", att_ansi);
    TF_WHEN("the following string is attached as {string}:", att_following);
    TF_WHEN("an array with {int} bytes is attached as {string}", att_bytes);
    TF_WHEN("a PDF document is attached and renamed", att_pdf);
    TF_WHEN("a link to {string} is attached", att_link);
    TF_WHEN("the string {string} is attached as {string} before a failure", att_before_failure);
    return TRUE;
}

/* ---- backgrounds, multiple-features ---- */
static gboolean cck_backgrounds(tf_registry *reg, GError **error)
{
    TF_GIVEN("an order for {string}", cck_noop);
    TF_WHEN("an action", cck_noop);
    TF_THEN("an outcome", cck_noop);
    return TRUE;
}
static gboolean cck_multiple_features(tf_registry *reg, GError **error)
{
    TF_GIVEN("an order for {string}", cck_noop);
    return TRUE;
}

/* ---- cdata, minimal ---- */
static gboolean cck_cdata(tf_registry *reg, GError **error)
{
    TF_GIVEN("I have {int} <![CDATA[cukes]]> in my belly", cck_noop);
    return TRUE;
}
static gboolean cck_minimal(tf_registry *reg, GError **error)
{
    TF_GIVEN("I have {int} cukes in my belly", cck_noop);
    return TRUE;
}

/* ---- data-tables ---- */
static void rows_free(gpointer p) { g_ptr_array_unref(p); }
static tf_step_status dt_transpose(tf_step *s, GError **error)
{
    guint n;
    const tf_gherkin_pickle_row *rows = tf_step_table(s, &n);
    GPtrArray *t = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    for (guint c = 0; n && c < rows[0].n_cells; c++) {
        char **col = g_new0(char *, n + 1);
        for (guint r = 0; r < n; r++)
            col[r] = g_strdup(rows[r].cells[c]);
        g_ptr_array_add(t, col);
    }
    tf_world_set(tf_step_world(s), "transposed", t, rows_free);
    return TF_STEP_PASSED;
}
static tf_step_status dt_should_be(tf_step *s, GError **error)
{
    guint n;
    const tf_gherkin_pickle_row *rows = tf_step_table(s, &n);
    GPtrArray *t = tf_world_get(tf_step_world(s), "transposed");
    if (!t || t->len != n)
        return TF_FAIL(error, "tables differ in rows");
    for (guint r = 0; r < n; r++) {
        char **row = g_ptr_array_index(t, r);
        if (g_strv_length(row) != rows[r].n_cells)
            return TF_FAIL(error, "tables differ in columns");
        for (guint c = 0; c < rows[r].n_cells; c++)
            if (strcmp(row[c], rows[r].cells[c]))
                return TF_FAIL(error, "tables differ at %u,%u", r, c);
    }
    return TF_STEP_PASSED;
}
static gboolean cck_data_tables(tf_registry *reg, GError **error)
{
    TF_WHEN("the following table is transposed:", dt_transpose);
    TF_THEN("it should be:", dt_should_be);
    return TRUE;
}

static gboolean cck_doc_strings(tf_registry *reg, GError **error)
{
    TF_GIVEN("a doc string:", cck_noop);
    return TRUE;
}
static gboolean cck_empty(tf_registry *reg, GError **error) { return TRUE; }

/* ---- examples-tables ---- */
static gint64 *world_int(tf_world *w, const char *key)
{
    gint64 *v = tf_world_get(w, key);
    if (!v) {
        v = g_new0(gint64, 1);
        tf_world_set(w, key, v, g_free);
    }
    return v;
}
static tf_step_status ex_there_are(tf_step *s, GError **e)
{
    *world_int(tf_step_world(s), "count") = tf_step_arg_int(s, 0);
    return TF_STEP_PASSED;
}
static tf_step_status ex_friends(tf_step *s, GError **e)
{
    *world_int(tf_step_world(s), "friends") = tf_step_arg_int(s, 0);
    return TF_STEP_PASSED;
}
static tf_step_status ex_eat(tf_step *s, GError **e)
{
    *world_int(tf_step_world(s), "count") -= tf_step_arg_int(s, 0);
    return TF_STEP_PASSED;
}
static tf_step_status strictly_equal(gint64 actual, gint64 expected, GError **error)
{
    if (actual == expected)
        return TF_STEP_PASSED;
    return TF_FAIL(error, "Expected values to be strictly equal:\n\n%" G_GINT64_FORMAT
                          " !== %" G_GINT64_FORMAT "\n", actual, expected);
}
static tf_step_status ex_should_have(tf_step *s, GError **e)
{
    return strictly_equal(*world_int(tf_step_world(s), "count"), tf_step_arg_int(s, 0), e);
}
static tf_step_status ex_share(tf_step *s, GError **e)
{
    gint64 count = *world_int(tf_step_world(s), "count");
    gint64 friends = *world_int(tf_step_world(s), "friends");
    gint64 share = (gint64)floor((double)count / (double)(1 + friends));
    return strictly_equal(share, tf_step_arg_int(s, 0), e);
}
static gboolean cck_examples_tables(tf_registry *reg, GError **error)
{
    TF_GIVEN("there are {int} cucumbers", ex_there_are);
    TF_GIVEN("there are {int} friends", ex_friends);
    TF_WHEN("I eat {int} cucumbers", ex_eat);
    TF_THEN("I should have {int} cucumbers", ex_should_have);
    TF_THEN("each person can eat {int} cucumbers", ex_share);
    return TRUE;
}
static gboolean cck_examples_tables_undefined(tf_registry *reg, GError **error)
{
    TF_GIVEN("there are {int} cucumbers", ex_there_are);
    TF_WHEN("I eat {int} cucumbers", ex_eat);
    TF_THEN("I should have {int} cucumbers", ex_should_have);
    return TRUE;
}
static tf_step_status ex_jpeg(tf_step *s, GError **e)
{
    return attach_file(tf_step_world(s), "cucumber.jpeg", "image/jpeg", NULL, e)
               ? TF_STEP_PASSED : TF_STEP_FAILED;
}
static tf_step_status ex_png(tf_step *s, GError **e)
{
    return attach_file(tf_step_world(s), "cucumber.png", "image/png", NULL, e)
               ? TF_STEP_PASSED : TF_STEP_FAILED;
}
static gboolean cck_examples_tables_attachment(tf_registry *reg, GError **error)
{
    TF_WHEN("a JPEG image is attached", ex_jpeg);
    TF_WHEN("a PNG image is attached", ex_png);
    return TRUE;
}

/* ---- global hooks ---- */
static tf_step_status gh_before_wrong(void *d, GError **e) { return TF_FAIL(e, "BeforeAll hook went wrong"); }
static tf_step_status gh_after_wrong(void *d, GError **e) { return TF_FAIL(e, "AfterAll hook went wrong"); }
static tf_step_status gh_attach_before(void *d, GError **e)
{
    const char *t = "Attachment from BeforeAll hook";
    tf_world_attach(tf_world_current(), t, strlen(t), "text/plain", NULL);
    return TF_STEP_PASSED;
}
static tf_step_status gh_attach_after(void *d, GError **e)
{
    const char *t = "Attachment from AfterAll hook";
    tf_world_attach(tf_world_current(), t, strlen(t), "text/plain", NULL);
    return TF_STEP_PASSED;
}
static gboolean cck_global_hooks(tf_registry *reg, GError **error)
{
    GHOOK(TF_HOOK_BEFORE_ALL, cck_global_noop);
    GHOOK(TF_HOOK_BEFORE_ALL, cck_global_noop);
    TF_WHEN("a step passes", cck_noop);
    TF_WHEN("a step fails", cck_exception);
    GHOOK(TF_HOOK_AFTER_ALL, cck_global_noop);
    GHOOK(TF_HOOK_AFTER_ALL, cck_global_noop);
    return TRUE;
}
static gboolean cck_global_hooks_afterall_error(tf_registry *reg, GError **error)
{
    GHOOK(TF_HOOK_BEFORE_ALL, cck_global_noop);
    GHOOK(TF_HOOK_BEFORE_ALL, cck_global_noop);
    TF_WHEN("a step passes", cck_noop);
    GHOOK(TF_HOOK_AFTER_ALL, cck_global_noop);
    GHOOK(TF_HOOK_AFTER_ALL, gh_after_wrong);
    GHOOK(TF_HOOK_AFTER_ALL, cck_global_noop);
    return TRUE;
}
static gboolean cck_global_hooks_beforeall_error(tf_registry *reg, GError **error)
{
    GHOOK(TF_HOOK_BEFORE_ALL, cck_global_noop);
    GHOOK(TF_HOOK_BEFORE_ALL, gh_before_wrong);
    GHOOK(TF_HOOK_BEFORE_ALL, cck_global_noop);
    TF_WHEN("a step passes", cck_noop);
    GHOOK(TF_HOOK_AFTER_ALL, cck_global_noop);
    GHOOK(TF_HOOK_AFTER_ALL, cck_global_noop);
    return TRUE;
}
static gboolean cck_global_hooks_attachments(tf_registry *reg, GError **error)
{
    GHOOK(TF_HOOK_BEFORE_ALL, gh_attach_before);
    TF_WHEN("a step passes", cck_noop);
    GHOOK(TF_HOOK_AFTER_ALL, gh_attach_after);
    return TRUE;
}

/* ---- hooks ---- */
static tf_step_status hk_svg(tf_world *w, GError **e)
{
    return attach_file(w, "cucumber.svg", "image/svg+xml", NULL, e) ? TF_STEP_PASSED
                                                                    : TF_STEP_FAILED;
}
static gboolean cck_hooks(tf_registry *reg, GError **error)
{
    HOOK(TF_HOOK_BEFORE, NULL, NULL, cck_hook_noop);
    TF_WHEN("a step passes", cck_noop);
    TF_WHEN("a step fails", cck_exception);
    HOOK(TF_HOOK_AFTER, NULL, NULL, cck_hook_noop);
    return TRUE;
}
static gboolean cck_hooks_attachment(tf_registry *reg, GError **error)
{
    HOOK(TF_HOOK_BEFORE, NULL, NULL, hk_svg);
    TF_WHEN("a step passes", cck_noop);
    HOOK(TF_HOOK_AFTER, NULL, NULL, hk_svg);
    return TRUE;
}
static gboolean cck_hooks_named(tf_registry *reg, GError **error)
{
    HOOK(TF_HOOK_BEFORE, "A named before hook", NULL, cck_hook_noop);
    TF_WHEN("a step passes", cck_noop);
    HOOK(TF_HOOK_AFTER, "A named after hook", NULL, cck_hook_noop);
    return TRUE;
}
static gboolean cck_hooks_skipped(tf_registry *reg, GError **error)
{
    HOOK(TF_HOOK_BEFORE, NULL, NULL, cck_hook_noop);
    HOOK(TF_HOOK_BEFORE, NULL, "@skip-before", cck_hook_skipped);
    HOOK(TF_HOOK_BEFORE, NULL, NULL, cck_hook_noop);
    TF_GIVEN("a normal step", cck_noop);
    TF_GIVEN("a step that skips", cck_skipped);
    HOOK(TF_HOOK_AFTER, NULL, NULL, cck_hook_noop);
    HOOK(TF_HOOK_AFTER, NULL, "@skip-after", cck_hook_skipped);
    HOOK(TF_HOOK_AFTER, NULL, NULL, cck_hook_noop);
    return TRUE;
}
static gboolean cck_hooks_undefined(tf_registry *reg, GError **error)
{
    HOOK(TF_HOOK_BEFORE, NULL, NULL, cck_hook_noop);
    HOOK(TF_HOOK_AFTER, NULL, NULL, cck_hook_noop);
    return TRUE;
}

/* ---- parameter-types ---- */
typedef struct {
    char *from, *to;
} cck_flight;
static void flight_free(void *p)
{
    cck_flight *f = p;
    g_free(f->from);
    g_free(f->to);
    g_free(f);
}
static gboolean flight_transform(const char *const *groups, guint n, tf_arg *out, void *ud,
                                 GError **error)
{
    cck_flight *f = g_new0(cck_flight, 1);
    f->from = g_strdup(n > 0 ? groups[0] : NULL);
    f->to = g_strdup(n > 1 ? groups[1] : NULL);
    tf_arg_set_custom(out, f, flight_free);
    return TRUE;
}
static tf_step_status pt_delayed(tf_step *s, GError **error)
{
    const cck_flight *f = tf_step_arg_value(s, 0);
    if (!f || g_strcmp0(f->from, "LHR") || g_strcmp0(f->to, "CDG"))
        return TF_FAIL(error, "expected LHR-CDG");
    return TF_STEP_PASSED;
}
static gboolean cck_parameter_types(tf_registry *reg, GError **error)
{
    static const char *const re[] = {"([A-Z]{3})-([A-Z]{3})", NULL};
    if (!tf_registry_add_param_type(reg, "flight", re, flight_transform, NULL,
                                    TF_PARAM_USE_FOR_SNIPPETS, error))
        return FALSE;
    TF_GIVEN("{flight} has been delayed", pt_delayed);
    return TRUE;
}

/* ---- pending, skipped ---- */
static tf_step_status pe_todo(tf_step *s, GError **error)
{
    g_set_error(error, TF_ERROR, TF_ERROR_FAILED, "TODO");
    return TF_STEP_PENDING;
}
static gboolean cck_pending_exception(tf_registry *reg, GError **error)
{
    TF_GIVEN("an unimplemented pending step", pe_todo);
    return TRUE;
}
static gboolean cck_pending_sample(tf_registry *reg, GError **error)
{
    TF_GIVEN("an implemented non-pending step", cck_noop);
    TF_GIVEN("an implemented step that is skipped", cck_noop);
    TF_GIVEN("an unimplemented pending step", cck_pending);
    return TRUE;
}
static tf_step_status sk_skipping(tf_step *s, GError **error)
{
    g_set_error(error, TF_ERROR, TF_ERROR_FAILED, "skipping");
    return TF_STEP_SKIPPED;
}
static gboolean cck_skipped_exception(tf_registry *reg, GError **error)
{
    TF_GIVEN("I skip a step", sk_skipping);
    return TRUE;
}
static gboolean cck_skipped_failing_hook(tf_registry *reg, GError **error)
{
    TF_GIVEN("a step that skips", cck_skipped);
    HOOK(TF_HOOK_AFTER, NULL, NULL, cck_hook_whoops);
    return TRUE;
}
static gboolean cck_skipped_sample(tf_registry *reg, GError **error)
{
    TF_GIVEN("a step that does not skip", cck_noop);
    TF_GIVEN("a step that is skipped", cck_noop);
    TF_GIVEN("I skip a step", cck_skipped);
    return TRUE;
}

/* ---- regular-expression ---- */
static gboolean cck_regular_expression(tf_registry *reg, GError **error)
{
    TF_GIVEN_RE("^a (.*?)(?: and a (.*?))?(?: and a (.*?))?$", cck_noop);
    return TRUE;
}

/* ---- retry ---- */
static int retry_second, retry_third;
static tf_step_status rt_second(tf_step *s, GError **e)
{
    return ++retry_second < 2 ? TF_FAIL(e, "Exception in step") : TF_STEP_PASSED;
}
static tf_step_status rt_third(tf_step *s, GError **e)
{
    return ++retry_third < 3 ? TF_FAIL(e, "Exception in step") : TF_STEP_PASSED;
}
static gboolean cck_retry(tf_registry *reg, GError **error)
{
    retry_second = retry_third = 0;
    TF_GIVEN("a step that always passes", cck_noop);
    TF_GIVEN("a step that passes the second time", rt_second);
    TF_GIVEN("a step that passes the third time", rt_third);
    TF_GIVEN("a step that always fails", cck_exception);
    return TRUE;
}
static gboolean cck_retry_ambiguous(tf_registry *reg, GError **error)
{
    TF_GIVEN("an ambiguous step", cck_noop);
    TF_GIVEN("an ambiguous step", cck_noop);
    return TRUE;
}

/* ---- rules ---- */
typedef struct {
    gint64 money;
    GPtrArray *stock;
    char *chocolate;
} cck_shop;
static void *shop_new(void *d) { return g_new0(cck_shop, 1); }
static void shop_free(void *p)
{
    cck_shop *s = p;
    if (s->stock)
        g_ptr_array_unref(s->stock);
    g_free(s->chocolate);
    g_free(s);
}
static cck_shop *shop(tf_step *s) { return tf_world_app(tf_step_world(s)); }
static tf_step_status ru_money(tf_step *s, GError **e)
{
    shop(s)->money = tf_step_arg_int(s, 0);
    return TF_STEP_PASSED;
}
static tf_step_status ru_stock(tf_step *s, GError **e)
{
    shop(s)->stock = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(shop(s)->stock, g_strdup("Mars"));
    return TF_STEP_PASSED;
}
static tf_step_status ru_no_stock(tf_step *s, GError **e)
{
    shop(s)->stock = g_ptr_array_new_with_free_func(g_free);
    return TF_STEP_PASSED;
}
static tf_step_status ru_buy(tf_step *s, GError **e)
{
    cck_shop *sh = shop(s);
    if (sh->money >= tf_step_arg_int(s, 0) && sh->stock && sh->stock->len)
        sh->chocolate = g_ptr_array_steal_index(sh->stock, sh->stock->len - 1);
    return TF_STEP_PASSED;
}
static tf_step_status ru_not_happen(tf_step *s, GError **e)
{
    return shop(s)->chocolate ? TF_FAIL(e, "Expected values to be strictly equal") : TF_STEP_PASSED;
}
static tf_step_status ru_happen(tf_step *s, GError **e)
{
    return shop(s)->chocolate ? TF_STEP_PASSED : TF_FAIL(e, "The expression evaluated to a falsy value");
}
static gboolean cck_rules(tf_registry *reg, GError **error)
{
    tf_registry_set_world(reg, shop_new, shop_free, NULL);
    TF_GIVEN("the customer has {int} cents", ru_money);
    TF_GIVEN("there are chocolate bars in stock", ru_stock);
    TF_GIVEN("there are no chocolate bars in stock", ru_no_stock);
    TF_WHEN("the customer tries to buy a {int} cent chocolate bar", ru_buy);
    TF_THEN("the sale should not happen", ru_not_happen);
    TF_THEN("the sale should happen", ru_happen);
    return TRUE;
}

/* ---- stack-traces, undefined, unknown-parameter-type, unused-steps ---- */
static tf_step_status st_boom(tf_step *s, GError **e) { return TF_FAIL(e, "BOOM"); }
static gboolean cck_stack_traces(tf_registry *reg, GError **error)
{
    TF_WHEN("a step throws an exception", st_boom);
    return TRUE;
}
static gboolean cck_undefined(tf_registry *reg, GError **error)
{
    TF_GIVEN("an implemented step", cck_noop);
    TF_GIVEN("a step that will be skipped", cck_noop);
    return TRUE;
}
static gboolean cck_unknown_parameter_type(tf_registry *reg, GError **error)
{
    /* Cucumber reports the unknown {airport} and goes on; the registry records it. */
    GError *e = NULL;
    if (tf_registry_add_step(reg, TF_KEYWORD_GIVEN, "{airport} is closed because of a strike",
                             FALSE, cck_whoops, __FILE__, __LINE__, &e))
    {
        g_set_error(error, TF_ERROR, TF_ERROR_FAILED, "an unknown parameter type was accepted");
        return FALSE;
    }
    g_error_free(e);
    return TRUE;
}
static gboolean cck_unused_steps(tf_registry *reg, GError **error)
{
    TF_GIVEN("a step that is used", cck_noop);
    TF_GIVEN("a step that is not used", cck_noop);
    return TRUE;
}

typedef struct {
    const char *name;
    tf_plugin_init_fn init;
    const char *unsupported; /* why the sample is not run, or NULL */
} cck_sample;

static const cck_sample cck_samples[] = {
    {"all-statuses", cck_all_statuses, NULL},
    {"ambiguous", cck_ambiguous, NULL},
    {"attachments", cck_attachments, NULL},
    {"backgrounds", cck_backgrounds, NULL},
    {"cdata", cck_cdata, NULL},
    {"data-tables", cck_data_tables, NULL},
    {"doc-strings", cck_doc_strings, NULL},
    {"empty", cck_empty, NULL},
    {"examples-tables", cck_examples_tables, NULL},
    {"examples-tables-attachment", cck_examples_tables_attachment, NULL},
    {"examples-tables-undefined", cck_examples_tables_undefined, NULL},
    {"failedish-combinations", cck_failedish, NULL},
    {"global-hooks", cck_global_hooks, NULL},
    {"global-hooks-afterall-error", cck_global_hooks_afterall_error, NULL},
    {"global-hooks-attachments", cck_global_hooks_attachments, NULL},
    {"global-hooks-beforeall-error", cck_global_hooks_beforeall_error, NULL},
    {"hooks", cck_hooks, NULL},
    {"hooks-attachment", cck_hooks_attachment, NULL},
    {"hooks-named", cck_hooks_named, NULL},
    {"hooks-skipped", cck_hooks_skipped, NULL},
    {"hooks-undefined", cck_hooks_undefined, NULL},
    {"markdown", NULL, "Markdown with Gherkin (.feature.md) is not parsed by tf's Gherkin parser"},
    {"minimal", cck_minimal, NULL},
    {"multiple-features", cck_multiple_features, NULL},
    {"parameter-types", cck_parameter_types, NULL},
    {"pending", cck_pending_sample, NULL},
    {"pending-exception", cck_pending_exception, NULL},
    {"regular-expression", cck_regular_expression, NULL},
    {"retry", cck_retry, NULL},
    {"retry-ambiguous", cck_retry_ambiguous, NULL},
    {"retry-undefined", cck_empty, NULL},
    {"rules", cck_rules, NULL},
    {"skipped", cck_skipped_sample, NULL},
    {"skipped-exception", cck_skipped_exception, NULL},
    {"skipped-failing-hook", cck_skipped_failing_hook, NULL},
    {"stack-traces", cck_stack_traces, NULL},
    {"test-run-exception", NULL,
     "injects an internal error into fake-cucumber itself (not something a step can do)"},
    {"undefined", cck_undefined, NULL},
    {"unknown-parameter-type", cck_unknown_parameter_type, NULL},
    {"unused-steps", cck_unused_steps, NULL},
};

#endif
