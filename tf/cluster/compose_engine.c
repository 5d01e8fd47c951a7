/* compose_engine.c: which compose implementation drives a project, and its command lines.
 * Preference: `docker compose` (v2), `podman compose` (podman 4.7+), `podman-compose`. Each
 * is probed, not assumed: a docker CLI on PATH may have no compose plug-in or no daemon
 * behind it (as on the CI machines here), and podman 4.3 has no `compose` subcommand. Why
 * an engine was passed over is kept, so the user reads it beside the one that was used. */
#include <string.h>
#include "tf/error.h"
#include "deploy_priv.h"

static const char *const engine_names[] = {"docker", "podman", "podman-compose"};

/* Runs a probe; NULL when it exited 0, else why not (the first line of the error). */
static gchar *probe(const char *where, const char *const *argv, const char *const *env)
{
    GError *e = NULL;
    if (tf_deploy_run_env(where, (char **)argv, env, NULL, NULL, &e))
        return NULL;
    gchar *why = g_strdup(e->message);
    g_error_free(e);
    gchar *nl = strchr(why, '\n');
    if (nl)
        *nl = '\0';
    return why;
}

static gchar *not_on_path(const char *what, const char *bin)
{
    gchar *found = g_find_program_in_path(bin);
    gchar *why = found ? NULL : g_strdup_printf("%s: %s is not on PATH", what, bin);
    g_free(found);
    return why;
}

/* NULL when the engine can be used here, else why not. */
static gchar *unusable(tf_compose_kind kind, const char *const *env)
{
    gchar *why = NULL;
    switch (kind) {
    case TF_COMPOSE_DOCKER: {
        const char *const plugin[] = {"docker", "compose", "version", NULL};
        const char *const daemon[] = {"docker", "version", "--format", "{{.Server.Version}}", NULL};
        if (!(why = not_on_path("docker", "docker")) && !(why = probe("docker", plugin, env)) &&
            (why = probe("docker", daemon, env))) {
            gchar *w = g_strdup_printf("%s (no daemon answers)", why);
            g_free(why);
            why = w;
        }
        break;
    }
    case TF_COMPOSE_PODMAN: {
        const char *const sub[] = {"podman", "compose", "version", NULL};
        if (!(why = not_on_path("podman", "podman")))
            why = probe("podman", sub, env);
        break;
    }
    case TF_COMPOSE_PODMAN_COMPOSE:
        if (!(why = not_on_path("podman-compose", "podman-compose")))
            why = not_on_path("podman-compose", "podman");
        break;
    }
    return why;
}

gboolean tf_compose_engine_pick(const char *want, const char *const *env, tf_compose_engine *out,
                                GError **error)
{
    memset(out, 0, sizeof *out);
    gint only = -1;
    if (want) {
        for (guint k = 0; k < G_N_ELEMENTS(engine_names); k++)
            if (!strcmp(want, engine_names[k]))
                only = (gint)k;
        if (only < 0) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "compose: engine '%s': use docker, podman or podman-compose", want);
            return FALSE;
        }
    }
    GString *skipped = g_string_new(NULL);
    for (guint k = 0; k < G_N_ELEMENTS(engine_names); k++) {
        if (only >= 0 && (guint)only != k)
            continue;
        gchar *why = unusable((tf_compose_kind)k, env);
        if (!why) {
            out->kind = (tf_compose_kind)k;
            out->name = engine_names[k];
            out->cli = k == TF_COMPOSE_DOCKER ? "docker" : "podman";
            out->skipped = g_string_free(skipped, skipped->len == 0); /* NULL when empty */
            return TRUE;
        }
        g_string_append_printf(skipped, "%s%s", skipped->len ? "; " : "", why);
        g_free(why);
    }
    if (only >= 0)
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "compose: engine %s is not usable: %s", want,
                    skipped->str);
    else
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID, "compose: no usable engine (docker compose, "
                    "podman compose, podman-compose): %s", skipped->str);
    g_string_free(skipped, TRUE);
    return FALSE;
}

void tf_compose_engine_clear(tf_compose_engine *e)
{
    g_clear_pointer(&e->skipped, g_free);
}

static gchar **finish(GPtrArray *a, const char *const *args)
{
    for (guint i = 0; args && args[i]; i++)
        g_ptr_array_add(a, g_strdup(args[i]));
    g_ptr_array_add(a, NULL);
    return (gchar **)g_ptr_array_free(a, FALSE);
}

gchar **tf_compose_project_argv(const tf_compose_engine *e, const char *project, const char *file,
                                const char *const *args)
{
    GPtrArray *a = g_ptr_array_new();
    if (e->kind == TF_COMPOSE_PODMAN_COMPOSE) {
        g_ptr_array_add(a, g_strdup("podman-compose"));
    } else {
        g_ptr_array_add(a, g_strdup(e->cli));
        g_ptr_array_add(a, g_strdup("compose"));
    }
    g_ptr_array_add(a, g_strdup("-p"));
    g_ptr_array_add(a, g_strdup(project));
    if (file) { /* whenever there is one: some compose versions want it for any command */
        g_ptr_array_add(a, g_strdup("-f"));
        g_ptr_array_add(a, g_strdup(file));
    }
    return finish(a, args);
}

gchar **tf_compose_cli_argv(const tf_compose_engine *e, const char *const *args)
{
    GPtrArray *a = g_ptr_array_new();
    g_ptr_array_add(a, g_strdup(e->cli));
    return finish(a, args);
}
