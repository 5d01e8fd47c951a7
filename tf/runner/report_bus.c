/* report_bus.c: a run's reporters behind one event sink. `--format NAME[:FILE]` opens a
 * reporter writing to stdout or FILE. The query takes each event in first, so a reporter
 * can look up what the event refers to; then every reporter reads it, in the order of the
 * --format options. A parallel run's parent feeds the same bus with the events its
 * workers send. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "report_priv.h"
#include "tf/error.h"

struct tf_report_bus {
    tf_query *query;
    GPtrArray *reporters; /* tf_reporter*, owned */
};

static void reporter_free(tf_reporter *r) { r->free(r); }

tf_report_bus *tf_report_bus_new(void)
{
    tf_report_bus *b = g_new0(tf_report_bus, 1);
    b->query = tf_query_new();
    b->reporters = g_ptr_array_new_with_free_func((GDestroyNotify)reporter_free);
    return b;
}

/* A JUnit file is replaced atomically when it is (or will be) a regular file in a
 * directory we may create files in; a device, a FIFO, stdout or a writable file in a
 * read-only directory is written once, at the end (it cannot be replaced). *real
 * receives the file to replace (a symlink's target, so the link stays a link). */
static gboolean replaceable(const char *file, char **real)
{
    struct stat st;
    if (stat(file, &st) != 0) {
        if (errno != ENOENT || lstat(file, &st) == 0)
            return FALSE; /* unreadable, or a dangling symlink: fopen says why */
        *real = g_strdup(file); /* a new file */
    } else if (!S_ISREG(st.st_mode) || !(*real = realpath(file, NULL))) {
        return FALSE;
    }
    char *dir = g_path_get_dirname(*real);
    gboolean ok = access(dir, W_OK | X_OK) == 0 || errno == ENOENT; /* ENOENT: said later */
    g_free(dir);
    if (!ok)
        g_clear_pointer(real, g_free);
    return ok;
}

static tf_reporter *reporter_open(const char *spec, int color, GError **error)
{
    const char *colon = strchr(spec, ':');
    char *name = colon ? g_strndup(spec, colon - spec) : g_strdup(spec);
    const char *file = colon && colon[1] && strcmp(colon + 1, "-") ? colon + 1 : NULL;
    static const char *const known[] = {"pretty", "progress", "summary", "junit", "message"};
    gboolean ok = FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(known); i++)
        ok |= !strcmp(name, known[i]);
    if (!ok) { /* before any file is opened (and truncated) */
        g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                    "--format: unknown format '%s' (pretty, progress, summary, junit, message)",
                    name);
        g_free(name);
        return NULL;
    }
    tf_reporter *r = NULL;
    char *real = NULL;
    if (!strcmp(name, "junit") && file && replaceable(file, &real)) {
        r = tf_reporter_junit_new_file(real, spec, error);
        g_free(real);
        g_free(name);
        return r;
    }
    FILE *out = stdout;
    if (file && !(out = fopen(file, "w"))) {
        int e = errno;
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "--format %s: %s: %s", spec, file,
                    g_strerror(e));
        g_free(name);
        return NULL;
    }
    gboolean own = file != NULL;
    gboolean use_color = color < 0 ? (!own && isatty(fileno(out)) && !g_getenv("NO_COLOR"))
                                   : color;
    if (!strcmp(name, "pretty"))
        r = tf_reporter_pretty_new(out, own, use_color);
    else if (!strcmp(name, "progress"))
        r = tf_reporter_progress_new(out, own, use_color);
    else if (!strcmp(name, "summary"))
        r = tf_reporter_summary_new(out, own, use_color);
    else if (!strcmp(name, "junit"))
        r = tf_reporter_junit_new(out, own);
    else
        r = tf_reporter_message_new(out, own);
    r->spec = g_strdup(spec);
    r->path = g_strdup(file);
    g_free(name);
    return r;
}

gboolean tf_report_bus_open(tf_report_bus *b, const char *spec, int color, GError **error)
{
    tf_reporter *r = reporter_open(spec, color, error);
    if (r)
        tf_report_bus_add(b, r);
    return r != NULL;
}

void tf_report_bus_add(tf_report_bus *b, tf_reporter *r) { g_ptr_array_add(b->reporters, r); }

void tf_report_bus_emit(void *data, const tf_event *ev)
{
    tf_report_bus *b = data;
    tf_query_update(b->query, ev);
    for (guint i = 0; i < b->reporters->len; i++) {
        tf_reporter *r = g_ptr_array_index(b->reporters, i);
        r->event(r, b->query, ev);
    }
}

void tf_report_bus_waiting(void *data, const char *what, const char *progress,
                           gint64 elapsed_us, gint64 timeout_us)
{
    tf_report_bus *b = data;
    for (guint i = 0; i < b->reporters->len; i++) {
        tf_reporter *r = g_ptr_array_index(b->reporters, i);
        if (r->waiting)
            r->waiting(r, what, progress, elapsed_us, timeout_us);
    }
}

gboolean tf_report_bus_close(tf_report_bus *b, const char *prog)
{
    gboolean ok = TRUE;
    for (guint i = 0; i < b->reporters->len; i++) {
        tf_reporter *r = g_ptr_array_index(b->reporters, i);
        GError *e = NULL;
        if (!r->close(r, &e)) {
            fprintf(stderr, "%s: %s\n", prog, e->message);
            g_error_free(e);
            ok = FALSE;
        }
    }
    return ok;
}

void tf_report_bus_free(tf_report_bus *b)
{
    if (!b)
        return;
    g_ptr_array_unref(b->reporters);
    tf_query_free(b->query);
    g_free(b);
}
