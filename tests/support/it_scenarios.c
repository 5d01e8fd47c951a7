/* it_scenarios.c: temp dir, environment marker, marked process count and `tf run` for
 * the integration tests that drive bundled features against real daemons. */
#define _GNU_SOURCE /* memmem, nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "it_scenarios.h"
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <jansson.h>

static char *tmp;
static char mark[64]; /* "TF_IT_MARK=<pid>-<time>", as it appears in /proc/PID/environ */

int it_setup(const char *prefix)
{
    /* Not g_dir_make_tmp: it would make glib cache the temp dir before TMPDIR points here. */
    const char *parent = g_getenv("TMPDIR");
    tmp = g_strdup_printf("%s/%s-XXXXXX", parent && *parent ? parent : "/tmp", prefix);
    if (!g_mkdtemp(tmp)) {
        g_clear_pointer(&tmp, g_free);
        return -1;
    }
    /* Cluster dirs of this process and of every tf run it starts go here too, so the
     * kept logs of the scenarios a test fails on purpose go with it. */
    g_setenv("TMPDIR", tmp, TRUE);
    g_setenv("TF_CLUSTERS", TF_SOURCE_DIR "/scenarios/clusters", TRUE);
    g_snprintf(mark, sizeof mark, "TF_IT_MARK=%d-%" G_GINT64_FORMAT, getpid(), g_get_real_time());
    g_setenv("TF_IT_MARK", strchr(mark, '=') + 1, TRUE);
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    remove(path);
    return 0;
}

int it_teardown(void)
{
    if (tmp)
        nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    g_clear_pointer(&tmp, g_free);
    return 0;
}

const char *it_tmp(void) { return tmp; }

char *it_path(const char *name) { return g_build_filename(tmp, name, NULL); }

gboolean it_pid_marked(pid_t pid)
{
    char *env_path = g_strdup_printf("/proc/%d/environ", (int)pid), *env = NULL;
    gsize env_len = 0;
    gboolean marked = g_file_get_contents(env_path, &env, &env_len, NULL) &&
                      memmem(env, env_len, mark, strlen(mark) + 1) != NULL;
    g_free(env);
    g_free(env_path);
    return marked;
}

guint it_count_marked(const char *exe_name)
{
    char *suffix = g_strconcat("/", exe_name, NULL);
    guint n = 0;
    DIR *proc = opendir("/proc");
    struct dirent *e;
    while (proc && (e = readdir(proc))) {
        char link[64], target[256];
        g_snprintf(link, sizeof link, "/proc/%s/exe", e->d_name);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len <= 0)
            continue;
        target[len] = 0;
        char *env_path = g_strdup_printf("/proc/%s/environ", e->d_name), *env = NULL;
        gsize env_len = 0;
        if (g_str_has_suffix(target, suffix) && g_file_get_contents(env_path, &env, &env_len, NULL))
            n += memmem(env, env_len, mark, strlen(mark) + 1) != NULL;
        g_free(env);
        g_free(env_path);
    }
    if (proc)
        closedir(proc);
    g_free(suffix);
    return n;
}

static int run_bin(const char *sub, const char *const *args, char **out)
{
    const char *bin = g_getenv("TF_BIN") ? g_getenv("TF_BIN") : TF_BINARY_DIR "/bin/tf";
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)bin);
    if (sub)
        g_ptr_array_add(argv, (char *)sub);
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (char *)*a);
    g_ptr_array_add(argv, NULL);
    int status = -1;
    GError *err = NULL;
    gboolean ok = g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                               NULL, out, NULL, &status, &err);
    g_ptr_array_unref(argv);
    if (!ok) {
        *out = g_strdup_printf("cannot run %s: %s", bin, err->message);
        g_error_free(err);
    }
    fputs(*out, stdout); /* whole: cmocka's print_message cuts long text */
    fflush(stdout);
    if (!ok)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int it_run_tf(const char *const *args, char **out) { return run_bin("run", args, out); }

int it_run_cmd(const char *const *args, char **out) { return run_bin(NULL, args, out); }

int it_run_report(const char *const *args, it_report *rep)
{
    char *messages = it_path("messages.ndjson");
    char *fmt = g_strdup_printf("message:%s", messages);
    GPtrArray *all = g_ptr_array_new();
    const char *pre[] = {"--format", "summary", "--format", fmt};
    for (guint i = 0; i < G_N_ELEMENTS(pre); i++)
        g_ptr_array_add(all, (gpointer)pre[i]);
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(all, (gpointer)*a);
    g_ptr_array_add(all, NULL);
    char *out = NULL;
    int code = it_run_tf((const char *const *)all->pdata, &out);
    g_ptr_array_unref(all);
    g_free(out);

    it_report_read(messages, rep);
    g_free(fmt);
    g_free(messages);
    return code;
}

void it_report_read(const char *path, it_report *rep)
{
    memset(rep, 0, sizeof *rep);
    rep->attachments = g_ptr_array_new_with_free_func((GDestroyNotify)json_decref);
    rep->failures = g_ptr_array_new_with_free_func(g_free);
    char *text = NULL;
    assert_true(g_file_get_contents(path, &text, NULL, NULL));
    char **lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l && **l; l++) {
        json_t *env = json_loads(*l, 0, NULL);
        assert_non_null(env);
        json_t *tsf = json_object_get(env, "testStepFinished");
        if (tsf) {
            json_t *res = json_object_get(tsf, "testStepResult");
            const char *status = json_string_value(json_object_get(res, "status"));
            rep->steps++;
            rep->passed += !g_strcmp0(status, "PASSED");
            if (!g_strcmp0(status, "FAILED"))
                g_ptr_array_add(rep->failures, g_strdup(json_string_value(json_object_get(res, "message"))));
        }
        rep->cases += json_object_get(env, "testCaseFinished") != NULL;
        json_t *att = json_object_get(env, "attachment");
        if (att)
            g_ptr_array_add(rep->attachments, json_incref(att));
        json_decref(env);
    }
    g_strfreev(lines);
    g_free(text);
}

void it_report_clear(it_report *rep)
{
    g_clear_pointer(&rep->attachments, g_ptr_array_unref);
    g_clear_pointer(&rep->failures, g_ptr_array_unref);
}

const char *it_report_failure(const it_report *rep, const char *needle)
{
    for (guint i = 0; i < rep->failures->len; i++)
        if (strstr(rep->failures->pdata[i], needle))
            return rep->failures->pdata[i];
    return NULL;
}

char *it_report_attachment(const it_report *rep, const char *file_name, const char *body_part)
{
    for (guint i = 0; i < rep->attachments->len; i++) {
        json_t *a = rep->attachments->pdata[i];
        if (file_name && g_strcmp0(it_att(a, "fileName"), file_name))
            continue;
        const char *body = it_att(a, "body");
        char *text;
        if (!g_strcmp0(it_att(a, "contentEncoding"), "BASE64")) {
            gsize len;
            guchar *raw = g_base64_decode(body, &len);
            text = g_strndup((const char *)raw, len);
            g_free(raw);
        } else {
            text = g_strdup(body);
        }
        if (!body_part || strstr(text, body_part))
            return text;
        g_free(text);
    }
    return NULL;
}

const char *it_att(json_t *att, const char *field)
{
    return json_string_value(json_object_get(att, field));
}
