/* steps.h: writing step definitions and hooks in C, and the registry that holds them.
 * A step module is one function that registers its steps and hooks into a registry; the
 * bundled modules and user plug-ins (`tf run --plugin x.so`, plugin.h) are loaded the same
 * way. No constructors, no hidden globals: registration is explicit. */
#ifndef TF_STEPS_H
#define TF_STEPS_H

#include <glib.h>
#include <jansson.h>
#include "tf/error.h"
#include "tf/expression.h"
#include "tf/gherkin.h"
#include "tf/api.h"

G_BEGIN_DECLS

/* What a step or hook reports. Undefined and ambiguous are decided by the runner. */
typedef enum {
    TF_STEP_PASSED = 0,
    TF_STEP_FAILED,
    TF_STEP_PENDING, /* not implemented yet: "pending" in reports */
    TF_STEP_SKIPPED, /* skip the rest of the scenario */
} tf_step_status;

/* Which keyword a definition is registered under (cucumber ignores it for matching). */
typedef enum { TF_KEYWORD_GIVEN, TF_KEYWORD_WHEN, TF_KEYWORD_THEN, TF_KEYWORD_ANY } tf_keyword;

/* The per-scenario world: created before the first Before hook, freed after the last
 * After hook. Owned by the runner; steps and hooks borrow it. */
typedef struct tf_world tf_world;

/* One step invocation: its text, typed arguments, data table or doc string, its world.
 * Owned by the runner; valid during the call only. */
typedef struct tf_step tf_step;

/* A step definition body. Return PASSED, or FAILED with *error set ("what: why"). */
typedef tf_step_status (*tf_step_fn)(tf_step *step, GError **error);

/* A hook body. For After hooks the scenario's result is readable from the world. */
typedef tf_step_status (*tf_hook_fn)(tf_world *world, GError **error);
/* A BeforeAll/AfterAll hook body (no world). */
typedef tf_step_status (*tf_global_hook_fn)(void *user_data, GError **error);

/* ---- step arguments --------------------------------------------------------------- */

/* Number of arguments the expression captured. */
TF_API guint tf_step_n_args(const tf_step *step);
/* Argument i as an integer ({int}, {long}, {short}, {byte}, {biginteger} in range). */
TF_API gint64 tf_step_arg_int(const tf_step *step, guint i);
/* Argument i as a double ({float}, {double}, {bigdecimal}, or an int). */
TF_API double tf_step_arg_double(const tf_step *step, guint i);
/* Argument i as text: the transformed string for {string}/{word}/{} and the matched text
 * for every other type (borrowed, valid during the call). */
TF_API const char *tf_step_arg_str(const tf_step *step, guint i);
/* Argument i as a custom parameter type made it: what its transformer stored with
 * tf_arg_set_custom, else its text (borrowed); NULL for built-in types. */
TF_API const void *tf_step_arg_value(const tf_step *step, guint i);
/* The step text as written in the pickle (borrowed). */
TF_API const char *tf_step_text(const tf_step *step);
/* The data table rows or NULL (borrowed; *n_rows receives the count). */
TF_API const tf_gherkin_pickle_row *tf_step_table(const tf_step *step, guint *n_rows);
/* The doc string or NULL; *media_type (may be NULL) receives its media type or NULL. */
TF_API const char *tf_step_doc_string(const tf_step *step, const char **media_type);
/* The scenario's world (borrowed). */
TF_API tf_world *tf_step_world(tf_step *step);
/* The timeout the runner gives each step (µs); waits inside a step should not exceed it. */
TF_API gint64 tf_step_timeout(const tf_step *step);

/* ---- the world ---------------------------------------------------------------------- */

/* The app's world object made by the registry's world_new (borrowed), or NULL. */
TF_API void *tf_world_app(tf_world *world);
/* Stores a named object for later steps; free_fn (may be NULL) runs when the world is
 * freed, in reverse order of storing, after the After hooks. Replacing a key frees the
 * old value first. Key is copied; value is owned by the world. */
TF_API void tf_world_set(tf_world *world, const char *key, void *value, GDestroyNotify free_fn);
/* A stored object or NULL (borrowed). */
TF_API void *tf_world_get(tf_world *world, const char *key);
/* Registers cleanup to run when the scenario ends, however it ends (failure, timeout,
 * Ctrl-C), in reverse order. Use it to stop clusters a scenario started. */
TF_API void tf_world_defer(tf_world *world, GDestroyNotify fn, void *data);
/* Attaches bytes to the report (copied): media_type such as "text/plain",
 * "application/json", "image/svg+xml", "image/png"; file_name may be NULL. */
TF_API void tf_world_attach(tf_world *world, const void *data, gsize len, const char *media_type,
                            const char *file_name);
/* Attaches printf-formatted text as "text/x.cucumber.log+plain" (a cucumber log line). */
TF_API void tf_world_log(tf_world *world, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* The pickle being run (borrowed). */
TF_API const tf_gherkin_pickle *tf_world_pickle(const tf_world *world);
/* The scenario's status so far (for After hooks): PASSED until a step failed etc. */
TF_API tf_step_status tf_world_status(const tf_world *world);
/* TRUE once the run was interrupted (Ctrl-C, SIGTERM): long actions should give up. */
TF_API gboolean tf_world_interrupted(const tf_world *world);
/* This scenario's seed: the run's seed (`tf run --seed N`, else $TF_SEED, else random;
 * printed when the run starts) mixed with the scenario's file, line and name, so it is the
 * same whatever else runs and in whatever order. Drive a scenario's random choices
 * (workloads, nemeses) from it and a failing run can be replayed with the same seed. */
TF_API guint64 tf_world_seed(const tf_world *world);

/* The world of the step or hook running on the calling thread (borrowed), or NULL. In
 * BeforeAll/AfterAll hooks it is a run-level world (no pickle): attachments go to the hook. */
TF_API tf_world *tf_world_current(void);

/* ---- the registry ------------------------------------------------------------------- */

/* Step definitions, hooks and parameter types of a run. Owned by whoever created it. */
typedef struct tf_registry tf_registry;

/* Creates an empty registry with the built-in parameter types. */
TF_API tf_registry *tf_registry_new(void);
/* Frees the registry. NULL is a no-op. */
TF_API void tf_registry_free(tf_registry *reg);
/* Sets how each scenario's app world is made and freed (both may be NULL). */
TF_API void tf_registry_set_world(tf_registry *reg, void *(*world_new)(void *user_data),
                                  void (*world_free)(void *world), void *user_data);
/* Adds a step definition by Cucumber Expression, or by regular expression when
 * is_regex. file/line locate the definition in reports. FALSE + error (naming file:line)
 * when the pattern does not compile. Strings are copied. */
TF_API gboolean tf_registry_add_step(tf_registry *reg, tf_keyword kw, const char *pattern,
                                     gboolean is_regex, tf_step_fn fn, const char *file, int line,
                                     GError **error);

/* Hook kinds. */
typedef enum {
    TF_HOOK_BEFORE_ALL,
    TF_HOOK_AFTER_ALL,
    TF_HOOK_BEFORE,
    TF_HOOK_AFTER,
    TF_HOOK_BEFORE_STEP,
    TF_HOOK_AFTER_STEP,
} tf_hook_kind;

/* Which scenarios a scenario or step hook runs for, besides its tags. */
typedef enum {
    TF_HOOK_ANY_STEPS = 0, /* every scenario its tags select (Cucumber's rule) */
    TF_HOOK_OWN_STEPS,     /* only scenarios with a step that the hook's own module defines:
                              a step library's hooks stay off others' scenarios. Over the
                              wire (tf wire) steps are known only as they run: such a
                              Before hook does not run, an After hook runs when one did */
} tf_hook_scope;

/* How a scenario or step hook is registered. All zero (or a NULL pointer) is the default:
 * unnamed, every scenario, order 0, TF_HOOK_ANY_STEPS. */
typedef struct {
    const char *name;    /* shown in reports, or NULL */
    const char *tags;    /* tag expression the scenario must match, or NULL: every one */
    int order;           /* lower runs first for Before*, last for After* (Cucumber's rule) */
    tf_hook_scope scope;
} tf_hook_options;

/* Adds a scenario or step hook (kind BEFORE, AFTER, BEFORE_STEP or AFTER_STEP) with opts
 * (borrowed; may be NULL). FALSE + error naming file:line for another kind or a tag
 * expression that does not parse. Strings are copied. */
TF_API gboolean tf_registry_add_hook(tf_registry *reg, tf_hook_kind kind,
                                     const tf_hook_options *opts, tf_hook_fn fn, const char *file,
                                     int line, GError **error);
/* Adds a BeforeAll/AfterAll hook (kind must be TF_HOOK_BEFORE_ALL or TF_HOOK_AFTER_ALL). */
TF_API gboolean tf_registry_add_global_hook(tf_registry *reg, tf_hook_kind kind, const char *name,
                                            tf_global_hook_fn fn, void *user_data, const char *file,
                                            int line, GError **error);

/* Adds a custom parameter type {name} matching any of the NULL-terminated regexps.
 * transform (expression.h; may be NULL: the value is then the matched text) stores the
 * value into its tf_arg (tf_arg_set_int, tf_arg_set_custom, ...) and gets user_data
 * (borrowed: it must outlive the registry). flags: TF_PARAM_USE_FOR_SNIPPETS,
 * TF_PARAM_PREFER_FOR_REGEXP_MATCH. FALSE + error naming {name} on a bad name or regexp.
 * Strings are copied. */
TF_API gboolean tf_registry_add_param_type(tf_registry *reg, const char *name,
                                           const char *const *regexps,
                                           tf_param_transform_fn transform, void *user_data,
                                           tf_param_flags flags, GError **error);

/* A step module: registers everything it defines into reg (borrowed). FALSE + error
 * when a registration failed. A plug-in exports one with TF_PLUGIN_DEFINE (plugin.h). */
typedef gboolean (*tf_plugin_init_fn)(tf_registry *reg, GError **error);

/* ---- registration sugar ----------------------------------------------------------------
 * Inside a function taking `tf_registry *reg`:
 *     TF_GIVEN("a {int}-node etcd cluster is running", given_cluster);
 * A pattern that fails to compile aborts registration with the error (file:line). */
#define TF_REGISTER_STEP_(kw, re, pattern, fn)                                              \
    do {                                                                                    \
        if (!tf_registry_add_step(reg, kw, pattern, re, fn, __FILE__, __LINE__, error))    \
            return FALSE;                                                                   \
    } while (0)
#define TF_GIVEN(pattern, fn) TF_REGISTER_STEP_(TF_KEYWORD_GIVEN, FALSE, pattern, fn)
#define TF_WHEN(pattern, fn) TF_REGISTER_STEP_(TF_KEYWORD_WHEN, FALSE, pattern, fn)
#define TF_THEN(pattern, fn) TF_REGISTER_STEP_(TF_KEYWORD_THEN, FALSE, pattern, fn)
#define TF_STEP(pattern, fn) TF_REGISTER_STEP_(TF_KEYWORD_ANY, FALSE, pattern, fn)
#define TF_GIVEN_RE(regex, fn) TF_REGISTER_STEP_(TF_KEYWORD_GIVEN, TRUE, regex, fn)
#define TF_WHEN_RE(regex, fn) TF_REGISTER_STEP_(TF_KEYWORD_WHEN, TRUE, regex, fn)
#define TF_THEN_RE(regex, fn) TF_REGISTER_STEP_(TF_KEYWORD_THEN, TRUE, regex, fn)
#define TF_REGISTER_HOOK_(kind, tags_, scope_, fn)                                         \
    do {                                                                                    \
        const tf_hook_options tf_hook_opts_ = {.tags = (tags_), .scope = (scope_)};          \
        if (!tf_registry_add_hook(reg, kind, &tf_hook_opts_, fn, __FILE__, __LINE__, error)) \
            return FALSE;                                                                   \
    } while (0)
/* A Before/After hook for every scenario the tag expression (or NULL) selects. */
#define TF_BEFORE(tags, fn) TF_REGISTER_HOOK_(TF_HOOK_BEFORE, tags, TF_HOOK_ANY_STEPS, fn)
#define TF_AFTER(tags, fn) TF_REGISTER_HOOK_(TF_HOOK_AFTER, tags, TF_HOOK_ANY_STEPS, fn)
/* The same, only for scenarios that use a step of this module (TF_HOOK_OWN_STEPS). */
#define TF_BEFORE_OWN(tags, fn) TF_REGISTER_HOOK_(TF_HOOK_BEFORE, tags, TF_HOOK_OWN_STEPS, fn)
#define TF_AFTER_OWN(tags, fn) TF_REGISTER_HOOK_(TF_HOOK_AFTER, tags, TF_HOOK_OWN_STEPS, fn)

/* Helpers for step bodies: fail with a formatted message. */
#define TF_FAIL(error, ...)                                                                 \
    (g_set_error(error, TF_ERROR, TF_ERROR_FAILED, __VA_ARGS__), TF_STEP_FAILED)

G_END_DECLS

#endif
