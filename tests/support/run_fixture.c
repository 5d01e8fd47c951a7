/* run_fixture.c: temp dirs, captured in-process runs of tf_run_main and golden files for
 * the runner's unit tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "run_fixture.h"
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

static char *tmp;

const char *rf_setup(const char *prefix)
{
    char *templ = g_strdup_printf("%s-XXXXXX", prefix);
    tmp = g_dir_make_tmp(templ, NULL);
    g_free(templ);
    return tmp;
}

/* Depth first; lstat so a symlink (also one to a parent) is unlinked, not entered. */
static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        GDir *d = g_dir_open(path, 0, NULL);
        const char *n;
        while (d && (n = g_dir_read_name(d))) {
            char *p = g_build_filename(path, n, NULL);
            remove_tree(p);
            g_free(p);
        }
        if (d)
            g_dir_close(d);
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

void rf_teardown(void)
{
    if (tmp)
        remove_tree(tmp);
    g_clear_pointer(&tmp, g_free);
}

const char *rf_tmp(void) { return tmp; }

char *rf_write(const char *name, const char *text)
{
    char *p = g_build_filename(tmp, name, NULL);
    char *dir = g_path_get_dirname(p);
    assert_int_equal(g_mkdir_with_parents(dir, 0700), 0);
    g_free(dir);
    assert_true(g_file_set_contents(p, text, -1, NULL));
    return p;
}

char *rf_read(const char *path)
{
    char *text = NULL;
    GError *err = NULL;
    if (!g_file_get_contents(path, &text, NULL, &err))
        fail_msg("%s", err->message);
    return text;
}

/* Points fd (1 or 2) at a new temp file; returns the saved original descriptor. */
static int redirect(int fd, const char *path)
{
    fflush(fd == 1 ? stdout : stderr);
    int saved = dup(fd);
    int f = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(saved >= 0 && f >= 0);
    dup2(f, fd);
    close(f);
    return saved;
}

static char *restore(int fd, int saved, const char *path)
{
    fflush(fd == 1 ? stdout : stderr);
    dup2(saved, fd);
    close(saved);
    char *text = rf_read(path);
    g_unlink(path);
    return text;
}

rf_result rf_run(tf_plugin_init_fn module, const char *const *args)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, "tf-run");
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);
    char *out_path = g_build_filename(tmp, ".stdout", NULL);
    char *err_path = g_build_filename(tmp, ".stderr", NULL);
    int saved_out = redirect(1, out_path);
    int saved_err = redirect(2, err_path);
    tf_plugin_init_fn mods[] = {module};
    rf_result r = {0};
    r.code = tf_run_main((int)argv->len - 1, (char **)argv->pdata, mods, module ? 1 : 0);
    r.err = restore(2, saved_err, err_path);
    r.out = restore(1, saved_out, out_path);
    g_free(out_path);
    g_free(err_path);
    g_ptr_array_unref(argv);
    return r;
}

void rf_result_clear(rf_result *r)
{
    g_clear_pointer(&r->out, g_free);
    g_clear_pointer(&r->err, g_free);
}

char *rf_normalise(const char *text)
{
    char **parts = g_strsplit(text, tmp, -1);
    char *joined = g_strjoinv("<tmp>", parts);
    g_strfreev(parts);
    GRegex *dur = g_regex_new("^[0-9]+\\.[0-9]{3}s$", G_REGEX_MULTILINE, 0, NULL);
    char *out = g_regex_replace_literal(dur, joined, -1, 0, "<duration>", 0, NULL);
    g_regex_unref(dur);
    g_free(joined);
    return out;
}

void rf_assert_golden(const char *name, const char *actual)
{
    char *path = g_build_filename(TF_SOURCE_DIR, "tests", "unit", "data", name, NULL);
    if (g_strcmp0(g_getenv("TF_UPDATE_GOLDEN"), "1") == 0) {
        assert_true(g_file_set_contents(path, actual, -1, NULL));
        g_free(path);
        return;
    }
    char *want = rf_read(path);
    if (strcmp(want, actual) != 0) {
        print_message("golden %s differs.\n--- want\n%s--- got\n%s---\n", path, want, actual);
        fail_msg("output differs from the golden file %s (TF_UPDATE_GOLDEN=1 rewrites it)",
                 name);
    }
    g_free(want);
    g_free(path);
}
