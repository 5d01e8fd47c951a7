/* compose_json.c: reading the JSON lists that container engines print. Podman prints one
 * array with labels as an object; docker and Compose 2.21+ print one object per line with
 * labels as one "k=v,k=v" string; Compose before 2.21 printed one array. The compose
 * backend and its owner sweep read all of them through these three functions. */
#include <string.h>
#include "tf/error.h"
#include "deploy_priv.h"

json_t *tf_compose_parse_list(const char *where, const char *what, const char *out, GError **error)
{
    const char *p = out ? out : "";
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
        p++;
    json_error_t je;
    if (*p == '[') {
        json_t *arr = json_loads(p, 0, &je);
        if (!json_is_array(arr)) {
            g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: %s: not JSON: %s: %.200s", where, what,
                        je.text, p);
            json_decref(arr);
            return NULL;
        }
        return arr;
    }
    json_t *arr = json_array();
    gchar **lines = g_strsplit(p, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        gchar *l = g_strstrip(lines[i]);
        if (!*l)
            continue;
        json_t *o = json_loads(l, 0, &je);
        if (!json_is_object(o)) {
            g_set_error(error, TF_ERROR, TF_ERROR_PARSE, "%s: %s: line %u is not a JSON object: "
                        "%.200s", where, what, i + 1, l);
            json_decref(o);
            json_decref(arr);
            arr = NULL;
            break;
        }
        json_array_append_new(arr, o);
    }
    g_strfreev(lines);
    return arr;
}

const char *tf_compose_label(json_t *obj, const char *key, gchar **tmp)
{
    json_t *labels = json_object_get(obj, "Labels");
    if (!labels)
        labels = json_object_get(obj, "labels"); /* podman network/volume ls */
    if (json_is_object(labels))
        return json_string_value(json_object_get(labels, key));
    if (!json_is_string(labels))
        return NULL;
    /* "a=b,c=d": a value may hold '=' but not ',' (docker joins with ',' unescaped) */
    gchar **parts = g_strsplit(json_string_value(labels), ",", -1);
    gsize klen = strlen(key);
    for (guint i = 0; parts[i] && !*tmp; i++)
        if (!strncmp(parts[i], key, klen) && parts[i][klen] == '=')
            *tmp = g_strdup(parts[i] + klen + 1);
    g_strfreev(parts);
    return *tmp;
}

const char *tf_compose_name(json_t *obj)
{
    const char *name = json_string_value(json_object_get(obj, "Name"));
    if (!name)
        name = json_string_value(json_object_get(obj, "name"));
    if (!name)
        name = json_string_value(json_array_get(json_object_get(obj, "Names"), 0));
    if (!name) /* docker ps: "Names" is one comma-separated string */
        name = json_string_value(json_object_get(obj, "Names"));
    return name;
}
