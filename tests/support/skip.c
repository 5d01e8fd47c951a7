/* skip.c: skips that say why, exit 77, and turn into failures under CI=true (see skip.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "skip.h"

static GPtrArray *reasons; /* why each skipped test was skipped */

gboolean tf_test_under_ci(void)
{
    const char *ci = g_getenv("CI");
    return ci && (!g_ascii_strcasecmp(ci, "true") || !strcmp(ci, "1"));
}

/* The reason as printed, with what CI=true makes of it. */
static gchar *say(tf_need need, const char *fmt, va_list ap, gboolean *fatal)
{
    gchar *why = g_strdup_vprintf(fmt, ap);
    *fatal = need == TF_NEED_REQUIRED && tf_test_under_ci();
    if (!*fatal)
        return why;
    gchar *s = g_strconcat(why, " (CI=true: what scripts/install-deps.sh installs and ../shared "
                           "must be there, so this is a failure, not a skip)", NULL);
    g_free(why);
    return s;
}

void tf_test_skip_all(tf_need need, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gboolean fatal;
    gchar *why = say(need, fmt, ap, &fatal);
    va_end(ap);
    printf("%s: %s\n", fatal ? "FAILED" : "SKIPPED", why);
    fflush(stdout);
    g_free(why);
    exit(fatal ? 1 : 77);
}

void tf_test_skip_at(const char *file, int line, tf_need need, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gboolean fatal;
    gchar *why = say(need, fmt, ap, &fatal);
    va_end(ap);
    if (fatal) {
        print_error("ERROR: %s\n", why);
        g_free(why);
        _fail(file, line);
    }
    printf("SKIPPED: %s\n", why);
    fflush(stdout);
    if (!reasons)
        reasons = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(reasons, why);
    _skip(file, line);
}

int tf_test_status(int cmocka_result)
{
    if (cmocka_result)
        return cmocka_result;
    if (!reasons)
        return 0;
    /* the reasons were printed as each test was skipped ("SKIPPED: ...") */
    printf("%u test(s) skipped for want of what they check: exit 77 (ctest: Skipped)\n",
           reasons->len);
    fflush(stdout);
    g_ptr_array_unref(reasons);
    reasons = NULL;
    return 77;
}

gchar *tf_test_shared_data(const char *sub, const char *contents)
{
    const char *env = g_getenv("TF_SHARED_DIR");
    gboolean from_env = env && *env;
    gchar *root = from_env ? g_strdup(env) : g_canonicalize_filename(TF_SOURCE_DIR "/../shared", NULL);
    gchar *dir = g_build_filename(root, sub, NULL);
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
        /* not installed by install-deps.sh: a clone without ../shared passes `make test`
         * with these tests Skipped, also under CI=true */
        tf_test_skip_all(TF_NEED_OPTIONAL,
                         "no conformance data: %s is not a folder (%s). It should hold %s. "
                         "Set TF_SHARED_DIR to the folder that holds gherkin/, cck/, "
                         "cucumber-expressions/ and linearizability/ (the project's shared/ data)",
                         dir, from_env ? "from TF_SHARED_DIR" : "TF_SHARED_DIR unset: <project root>/../shared",
                         contents);
    g_free(root);
    return dir;
}

gchar *tf_test_need_program_at(const char *file, int line, const char *program, const char *package)
{
    gchar *path = g_find_program_in_path(program);
    if (!path)
        tf_test_skip_at(file, line, TF_NEED_REQUIRED, "%s is not on PATH (Debian package %s, "
                        "installed by scripts/install-deps.sh)", program, package);
    return path;
}

/* NULL when the binary of scenarios/clusters/<spec_file> is installed, else why not. */
static gchar *cluster_missing(const char *spec_file)
{
    gchar *path = g_build_filename(TF_SOURCE_DIR, "scenarios", "clusters", spec_file, NULL);
    json_error_t je;
    json_t *spec = json_load_file(path, 0, &je);
    const char *binary = json_string_value(json_object_get(spec, "binary"));
    gchar *why = NULL;
    if (!binary) {
        why = g_strdup_printf("%s: no \"binary\" (%s)", path, je.text);
    } else {
        gchar *found = strchr(binary, '/') ? g_strdup(binary) : g_find_program_in_path(binary);
        if (!found || !g_file_test(found, G_FILE_TEST_IS_EXECUTABLE))
            why = g_strdup_printf("%s, the program of %s, is not installed (scripts/install-deps.sh "
                                  "installs it)", binary, path);
        g_free(found);
    }
    json_decref(spec);
    g_free(path);
    return why;
}

void tf_test_need_cluster_at(const char *file, int line, const char *spec_file)
{
    gchar *why = cluster_missing(spec_file);
    if (why) {
        char msg[1024];
        g_strlcpy(msg, why, sizeof msg);
        g_free(why);
        tf_test_skip_at(file, line, TF_NEED_REQUIRED, "%s", msg);
    }
}

void tf_test_need_cluster_all(const char *spec_file)
{
    gchar *why = cluster_missing(spec_file);
    if (why)
        /* not installed by install-deps.sh: a clone without ../shared passes `make test`
         * with these tests Skipped, also under CI=true */
        tf_test_skip_all(TF_NEED_OPTIONAL, "%s", why);
}
