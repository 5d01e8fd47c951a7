/* compose_owner.c: what a compose project leaves on the engine (containers, networks,
 * volumes) and who may remove it. A test or run that brings a project up labels everything
 * the compose file creates with its owner token (tf.owner, owner.h); when that process
 * died without cleaning up (SIGKILL, a CI timeout), a later one removes what it left.
 * Whatever names a live owner, or no token at all (a deployment a user brought up), stays. */
#include <string.h>
#include "tf/error.h"
#include "deploy_priv.h"
#include "owner.h"

/* One kind of resource the engine lists and removes. */
typedef struct {
    const char *what;            /* "container" */
    const char *const *list;     /* argv after the CLI, filter appended */
    const char *const *rm_docker; /* argv after the CLI; names appended */
    const char *const *rm_podman;
} kind;

static const char *const ps[] = {"ps", "-a", "--format", "json", NULL};
static const char *const net_ls[] = {"network", "ls", "--format", "json", NULL};
static const char *const vol_ls[] = {"volume", "ls", "--format", "json", NULL};
/* docker rm -f kills at once; podman rm -f would wait out the stop timeout (10 s) first */
static const char *const rm_d[] = {"rm", "-f", "-v", NULL};
static const char *const rm_p[] = {"rm", "-f", "-v", "-t", "0", NULL};
static const char *const net_rm[] = {"network", "rm", NULL};
static const char *const vol_rm[] = {"volume", "rm", NULL};

/* In removal order: a network or volume in use by a container cannot go first. */
static const kind kinds[] = {
    {"container", ps, rm_d, rm_p},
    {"network", net_ls, net_rm, net_rm},
    {"volume", vol_ls, vol_rm, vol_rm},
};

static gchar **argv_of(const char *cli, const char *const *head, const char *filter,
                       GPtrArray *names)
{
    GPtrArray *a = g_ptr_array_new();
    g_ptr_array_add(a, g_strdup(cli));
    for (guint i = 0; head[i]; i++)
        g_ptr_array_add(a, g_strdup(head[i]));
    if (filter) {
        g_ptr_array_add(a, g_strdup("--filter"));
        g_ptr_array_add(a, g_strdup(filter));
    }
    for (guint i = 0; names && i < names->len; i++)
        g_ptr_array_add(a, g_strdup(names->pdata[i]));
    g_ptr_array_add(a, NULL);
    return (gchar **)g_ptr_array_free(a, FALSE);
}

/* Lists the resources of one kind matching filter (a JSON array, new ref) or NULL + error. */
static json_t *list(const char *cli, const kind *k, const char *filter, const char *const *env,
                    GError **error)
{
    gchar **argv = argv_of(cli, k->list, filter, NULL);
    gchar *out = NULL;
    gchar *where = g_strdup_printf("compose: %s list", k->what);
    json_t *arr = tf_deploy_run_env(where, argv, env, &out, NULL, error)
                      ? tf_compose_parse_list(where, "output", out, error) : NULL;
    g_free(where);
    g_free(out);
    g_strfreev(argv);
    return arr;
}

static gboolean remove_names(const char *cli, const kind *k, GPtrArray *names,
                             const char *const *env, GError **error)
{
    if (!names->len)
        return TRUE;
    gchar **argv = argv_of(cli, strcmp(cli, "podman") ? k->rm_docker : k->rm_podman, NULL, names);
    gchar *where = g_strdup_printf("compose: remove %s", k->what);
    gboolean ok = tf_deploy_run_env(where, argv, env, NULL, NULL, error);
    g_free(where);
    g_strfreev(argv);
    return ok;
}

gboolean tf_compose_sweep(const char *cli, const char *const *env, GPtrArray *removed,
                          GError **error)
{
    for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
        json_t *arr = list(cli, &kinds[k], "label=" TF_COMPOSE_OWNER_LABEL, env, error);
        if (!arr)
            return FALSE;
        GPtrArray *dead = g_ptr_array_new_with_free_func(g_free);
        GPtrArray *said = g_ptr_array_new_with_free_func(g_free);
        size_t i;
        json_t *o;
        json_array_foreach(arr, i, o) {
            gchar *tmp = NULL;
            const char *token = tf_compose_label(o, TF_COMPOSE_OWNER_LABEL, &tmp);
            const char *name = tf_compose_name(o);
            /* only DEAD: alive is a concurrent run's, unknown may be a user's ("user") */
            if (name && tf_owner_token_state(token) == TF_OWNER_DEAD) {
                g_ptr_array_add(dead, g_strdup(name));
                g_ptr_array_add(said, g_strdup_printf("%s %s (owner %s)", kinds[k].what, name, token));
            }
            g_free(tmp);
        }
        json_decref(arr);
        gboolean ok = remove_names(cli, &kinds[k], dead, env, error);
        for (guint n = 0; ok && removed && n < said->len; n++)
            g_ptr_array_add(removed, g_strdup(said->pdata[n]));
        g_ptr_array_unref(dead);
        g_ptr_array_unref(said);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

gboolean tf_compose_remove_project(const char *cli, const char *const *env, const char *project,
                                   GError **error)
{
    gchar *filter = g_strdup_printf("label=com.docker.compose.project=%s", project);
    gboolean ok = TRUE;
    for (guint k = 0; ok && k < G_N_ELEMENTS(kinds); k++) {
        json_t *arr = list(cli, &kinds[k], filter, env, error);
        ok = arr != NULL;
        GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
        size_t i;
        json_t *o;
        json_array_foreach(arr, i, o)
            if (tf_compose_name(o))
                g_ptr_array_add(names, g_strdup(tf_compose_name(o)));
        json_decref(arr);
        ok = ok && remove_names(cli, &kinds[k], names, env, error);
        g_ptr_array_unref(names);
    }
    g_free(filter);
    return ok;
}
