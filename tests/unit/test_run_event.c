/* test_run_event.c: the run's typed events are the whole seam between the run loop and
 * the reporters, and they survive JSON (what a parallel run's worker will send its
 * parent). A run that produces every kind of event (definitions, parameter types, an
 * undefined one, hooks and global hooks with attachments, passed/failed/pending/skipped/
 * undefined/ambiguous steps, capture-group trees, tables, doc strings, binary
 * attachments, a retry and a failing AfterAll) is reported twice: by --format reporters
 * fed straight from the run, and by the same reporters fed only with events that went to
 * JSON text and back. Every report must come out byte for byte the same, and each event's
 * JSON must read back to the same JSON. Malformed event JSON is refused naming the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "../../tf/runner/report_bus.h"
#include "../../tf/runner/runner_main.h"
#include "run_fixture.h"

static int flaky_calls;

static tf_step_status st_pass(tf_step *s, GError **e) { return TF_STEP_PASSED; }
static tf_step_status st_fail(tf_step *s, GError **e)
{
    return TF_FAIL(e, "expected 3 nodes, saw 2\nnode n3: connection refused \xe2\x9c\x98");
}
static tf_step_status st_pending(tf_step *s, GError **e) { return TF_STEP_PENDING; }
static tf_step_status st_skip(tf_step *s, GError **e) { return TF_STEP_SKIPPED; }
static tf_step_status st_flaky(tf_step *s, GError **e)
{
    return ++flaky_calls % 2 ? TF_FAIL(e, "flaky") : TF_STEP_PASSED;
}
static tf_step_status st_attach(tf_step *s, GError **e)
{
    static const char binary[] = {'P', 'N', 'G', 0, (char)0xff, 1, 2};
    tf_world *w = tf_step_world(s);
    tf_world_attach(w, "plain text", 10, "text/plain", NULL);
    tf_world_attach(w, binary, sizeof binary, "image/png", "shot.png");
    tf_world_attach(w, "{\"a\":1}", 7, "application/json", "data.json");
    tf_world_log(w, "logged %d", 42);
    return TF_STEP_PASSED;
}
static tf_step_status hk_pass(tf_world *w, GError **e) { return TF_STEP_PASSED; }
static tf_step_status hk_attach(tf_world *w, GError **e)
{
    tf_world_log(w, "in a hook");
    return TF_STEP_PASSED;
}
static tf_step_status gh_before(void *data, GError **e)
{
    tf_world_log(tf_world_current(), "before all");
    return TF_STEP_PASSED;
}
static tf_step_status gh_after(void *data, GError **e) { return TF_FAIL(e, "teardown failed"); }

static gboolean module(tf_registry *reg, GError **error)
{
    static const char *const code_re[] = {"([A-Z]{2})-(\\d+)", NULL};
    if (!tf_registry_add_param_type(reg, "code", code_re, NULL, NULL, TF_PARAM_USE_FOR_SNIPPETS, error))
        return FALSE;
    TF_GIVEN("a passing step", st_pass);
    TF_GIVEN("I have {int} cukes and {string}", st_pass);
    TF_GIVEN("the code {code}", st_pass);
    TF_GIVEN_RE("^a regex step with (\\d+)( and (\\w+))?$", st_pass);
    TF_WHEN("a failing step", st_fail);
    TF_THEN("a pending step", st_pending);
    TF_THEN("a skipped step", st_skip);
    TF_GIVEN("an ambiguous step", st_pass);
    TF_GIVEN_RE("^an? ambiguous step$", st_pass);
    TF_GIVEN("a table:", st_pass);
    TF_GIVEN("a doc string:", st_pass);
    TF_WHEN("a step attaches", st_attach);
    TF_WHEN("a flaky step", st_flaky);
    GError *undefined = NULL; /* an unknown {type}: reported, not fatal */
    if (tf_registry_add_step(reg, TF_KEYWORD_ANY, "a {nosuch} thing", FALSE, st_pass, __FILE__,
                             __LINE__, &undefined))
        return FALSE;
    g_clear_error(&undefined);
    const tf_hook_options named = {.name = "named", .tags = "@tagged"};
    return tf_registry_add_hook(reg, TF_HOOK_BEFORE, &named, hk_attach, __FILE__, __LINE__,
                                error) &&
           tf_registry_add_hook(reg, TF_HOOK_AFTER, NULL, hk_pass, __FILE__, __LINE__, error) &&
           tf_registry_add_hook(reg, TF_HOOK_BEFORE_STEP, NULL, hk_pass, __FILE__, __LINE__,
                                error) &&
           tf_registry_add_hook(reg, TF_HOOK_AFTER_STEP, NULL, hk_pass, __FILE__, __LINE__,
                                error) &&
           tf_registry_add_global_hook(reg, TF_HOOK_BEFORE_ALL, "setup", gh_before, NULL,
                                       __FILE__, __LINE__, error) &&
           tf_registry_add_global_hook(reg, TF_HOOK_AFTER_ALL, NULL, gh_after, NULL, __FILE__,
                                       __LINE__, error);
}

static const char feature[] =
    "Feature: every event\n"
    "  Background:\n"
    "    Given a passing step\n"
    "\n"
    "  @tagged\n"
    "  Scenario: arguments and attachments\n"
    "    Given I have 42 cukes and \"caf\xc3\xa9\"\n"
    "    And the code AB-12\n"
    "    And a regex step with 7\n"
    "    And a regex step with 7 and more\n"
    "    And a table:\n"
    "      | a | b |\n"
    "      | 1 | 2 |\n"
    "    And a doc string:\n"
    "      \"\"\"json\n"
    "      {\"x\": 1}\n"
    "      \"\"\"\n"
    "    When a step attaches\n"
    "\n"
    "  Scenario: failing\n"
    "    When a failing step\n"
    "    Then a passing step\n"
    "\n"
    "  Rule: results\n"
    "    Scenario Outline: <what>\n"
    "      Then <step>\n"
    "      Examples:\n"
    "        | what      | step             |\n"
    "        | pending   | a pending step   |\n"
    "        | skipped   | a skipped step   |\n"
    "        | undefined | nobody wrote it  |\n"
    "        | ambiguous | an ambiguous step |\n"
    "\n"
    "  Scenario: retried\n"
    "    When a flaky step\n";

static const char *const formats[] = {"message", "pretty", "progress", "summary", "junit"};

/* Feeds a second set of reporters with each event after a trip through JSON text. */
typedef struct {
    tf_report_bus *bus;
    gboolean seen[TF_EV_N_KINDS];
    guint events;
} relay;

static void relay_event(void *data, const tf_event *ev)
{
    relay *r = data;
    r->seen[ev->kind] = TRUE;
    r->events++;
    if (ev->kind == TF_EV_SOURCE) { /* not serialised: every process loads the features */
        assert_null(tf_event_to_json(ev));
        tf_report_bus_emit(r->bus, ev);
        return;
    }
    json_t *j = tf_event_to_json(ev);
    char *line = json_dumps(j, JSON_COMPACT);
    assert_null(strchr(line, '\n')); /* one event, one line */
    json_t *back = json_loads(line, 0, NULL);
    GError *error = NULL;
    tf_event *copy = tf_event_from_json(back, &error);
    if (!copy)
        fail_msg("%s: %s", line, error->message);
    json_t *again = tf_event_to_json(copy);
    if (!json_equal(j, again)) {
        char *a = json_dumps(again, JSON_COMPACT);
        fail_msg("round trip changed the event:\n%s\n%s", line, a);
    }
    tf_report_bus_emit(r->bus, copy);
    json_decref(again);
    tf_event_free(copy);
    json_decref(back);
    free(line);
    json_decref(j);
}

static char *path_of(const char *format, const char *side)
{
    char *name = g_strdup_printf("%s.%s", format, side);
    char *path = g_build_filename(rf_tmp(), name, NULL);
    g_free(name);
    return path;
}

static void test_reports_from_json_events_are_identical(void **state)
{
    rf_setup("tf-run-event");
    char *feat = rf_write("every.feature", feature);
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_strdup("tf-run"));
    g_ptr_array_add(argv, g_strdup("--retry=1"));
    relay r = {.bus = tf_report_bus_new()};
    for (guint i = 0; i < G_N_ELEMENTS(formats); i++) {
        char *direct = path_of(formats[i], "direct"), *json = path_of(formats[i], "json");
        char *spec = g_strdup_printf("%s:%s", formats[i], json);
        GError *error = NULL;
        assert_true(tf_report_bus_open(r.bus, spec, -1, &error));
        g_ptr_array_add(argv, g_strdup_printf("--format=%s:%s", formats[i], direct));
        g_free(spec);
        g_free(json);
        g_free(direct);
    }
    g_ptr_array_add(argv, g_strdup(feat));
    g_ptr_array_add(argv, NULL);
    tf_plugin_init_fn mods[] = {module};
    tf_run_ext ext = {.tap = relay_event, .tap_data = &r};
    flaky_calls = 0;
    int code = tf_run_main_ext((int)argv->len - 1, (char **)argv->pdata, mods, 1, &ext);
    assert_int_equal(code, TF_RUN_EXIT_FAILED);
    assert_true(tf_report_bus_close(r.bus, "relay"));
    tf_report_bus_free(r.bus);
    for (int k = 0; k < TF_EV_N_KINDS; k++)
        if (!r.seen[k])
            fail_msg("the run emitted no %s event: the test covers every kind",
                     tf_event_kind_name((tf_event_kind)k));
    for (guint i = 0; i < G_N_ELEMENTS(formats); i++) {
        char *direct = path_of(formats[i], "direct"), *json = path_of(formats[i], "json");
        char *a = rf_read(direct), *b = rf_read(json);
        assert_true(strlen(a) > 100);
        if (strcmp(a, b))
            fail_msg("%s differs when built from JSON events:\n--- direct\n%s\n--- json\n%s",
                     formats[i], a, b);
        g_free(a);
        g_free(b);
        g_free(direct);
        g_free(json);
    }
    printf("%u events, every kind, 5 reports identical\n", r.events);
    g_free(feat);
    g_ptr_array_unref(argv);
    rf_teardown();
}

/* Malformed event JSON is refused, saying which kind and field. */
static void test_bad_json_is_named(void **state)
{
    const char *const cases[][2] = {
        {"{}", "not a run event"},
        {"{\"event\":\"source\",\"timestamp\":1}", "not a run event"},
        {"{\"event\":\"step_finished\"}", "not a run event"},
        {"{\"event\":\"step_finished\",\"timestamp\":1}",
         "step_finished event: 'test_case_started_id' is missing or not a string"},
        {"{\"event\":\"step_finished\",\"timestamp\":1,\"test_case_started_id\":\"1\","
         "\"test_step_id\":\"2\",\"status\":\"GREEN\",\"duration_us\":1}",
         "step_finished event: 'status' is missing or not a result"},
        {"{\"event\":\"case_started\",\"timestamp\":1,\"id\":\"1\",\"test_case_id\":\"2\","
         "\"attempt\":-1}", "case_started event: 'attempt' is missing or not a whole number"},
        {"{\"event\":\"test_case\",\"timestamp\":1,\"id\":\"1\",\"pickle_id\":\"2\","
         "\"test_run_started_id\":\"3\",\"steps\":[{\"id\":\"4\"}]}",
         "test_case event: 'steps' is missing or not an array of {id, hook_id or pickle_step_id}"},
        {"{\"event\":\"test_case\",\"timestamp\":1,\"id\":\"1\",\"pickle_id\":\"2\","
         "\"test_run_started_id\":\"3\",\"steps\":[{\"id\":\"4\",\"pickle_step_id\":\"5\","
         "\"step_definition_ids\":[\"6\"],\"matches\":[]}]}",
         "test_case event: 'matches' is missing or not one argument array per step definition id"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        json_t *j = json_loads(cases[i][0], 0, NULL);
        assert_non_null(j);
        GError *error = NULL;
        tf_event *ev = tf_event_from_json(j, &error);
        if (ev || !strstr(error->message, cases[i][1]))
            fail_msg("%s: %s, wanted '%s'", cases[i][0], ev ? "accepted" : error->message,
                     cases[i][1]);
        g_error_free(error);
        json_decref(j);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reports_from_json_events_are_identical),
        cmocka_unit_test(test_bad_json_is_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
