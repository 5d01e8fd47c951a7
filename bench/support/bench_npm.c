/* bench_npm.c: see bench_npm.h. */
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "bench_npm.h"
#include "bench_util.h"

/* The names of dir/package.json's dependencies whose installed version differs from the
 * pinned one, comma separated (new string), "" when none; the pins into *pins. */
static char *stale_modules(const char *dir, GString *pins)
{
    char *pkg = g_build_filename(dir, "package.json", NULL);
    json_error_t jerr;
    json_t *root = json_load_file(pkg, 0, &jerr);
    json_t *deps = json_object_get(root, "dependencies");
    if (!json_is_object(deps))
        bench_die("%s: no \"dependencies\" object (%s)", pkg, root ? "" : jerr.text);
    GString *stale = g_string_new(NULL);
    g_string_truncate(pins, 0);
    const char *name;
    json_t *want;
    json_object_foreach(deps, name, want) {
        char *mod = g_build_filename(dir, "node_modules", name, "package.json", NULL);
        json_t *got = json_load_file(mod, 0, NULL);
        const char *have = json_string_value(json_object_get(got, "version"));
        if (g_strcmp0(have, json_string_value(want)) != 0)
            g_string_append_printf(stale, "%s%s", stale->len ? ", " : "", name);
        g_string_append_printf(pins, "%s%s %s", pins->len ? ", " : "", name,
                               json_string_value(want));
        json_decref(got);
        g_free(mod);
    }
    json_decref(root);
    g_free(pkg);
    return g_string_free(stale, FALSE);
}

char *bench_npm_ready(const char *dir)
{
    char *node = bench_need_program("node", "node (runs the JavaScript baseline)");
    char *npm = bench_need_program("npm", "npm (installs the JavaScript baseline)");
    GString *pins = g_string_new(NULL);
    char *stale = stale_modules(dir, pins);
    if (*stale) {
        printf("npm ci in %s (%s not at the pinned version) ...\n", dir, stale);
        char *argv[] = {npm, "ci", "--no-audit", "--no-fund", "--loglevel=error", NULL};
        char *out = NULL, *err = NULL;
        int status = 0;
        GError *e = NULL;
        gboolean ran = g_spawn_sync(dir, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                                    &status, &e);
        gboolean ok = ran && g_spawn_check_wait_status(status, NULL);
        g_free(stale);
        stale = stale_modules(dir, pins);
        if (!ok || *stale) {
            char *why = g_strdup_printf("npm ci in %s failed: %s", dir,
                                        e ? e->message : err && *err ? g_strstrip(err) : stale);
            bench_need(FALSE, "the pinned npm packages", why);
        }
        g_free(out);
        g_free(err);
    }
    printf("JavaScript baseline: node %s, %s (pinned in %s/package-lock.json)\n", node,
           pins->str, dir);
    g_string_free(pins, TRUE);
    g_free(stale);
    g_free(npm);
    return node;
}
