/* report_out.c: where reports go, and how they survive a kill. `--format NAME[:FILE]`
 * becomes a reporter writing to stdout or FILE. Reporters flush at scenario boundaries,
 * the NDJSON reporter writes whole lines with single write(2) calls, and the JUnit
 * reporter replaces its file atomically (temp file + rename) with a complete document, so
 * a SIGKILLed run (a CI timeout) leaves every report readable up to the last finished
 * scenario. A failed write is remembered with its errno and reported at close naming the
 * format and the file. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include "report.h"
#include "tf/error.h"

static const char *target_name(const tf_reporter *r)
{
    return r->path ? r->path : "standard output";
}

static void remember(tf_reporter *r, int err)
{
    if (!r->write_errno)
        r->write_errno = err ? err : EIO;
}

void tf_reporter_flush(tf_reporter *r)
{
    if (r->out && fflush(r->out) != 0)
        remember(r, errno);
}

static gboolean write_all(int fd, const char *data, gsize len, int *err)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *err = n < 0 ? errno : EIO;
            return FALSE;
        }
        data += n;
        len -= (gsize)n;
    }
    return TRUE;
}

void tf_reporter_write_whole(tf_reporter *r, const char *data, gsize len)
{
    if (r->write_errno || !r->out || len == 0)
        return; /* after a failure: one error is reported, not one per line */
    tf_reporter_flush(r); /* whatever stdio holds goes first, in order */
    int err = 0;
    if (!r->write_errno && !write_all(fileno(r->out), data, len, &err))
        remember(r, err);
}

gboolean tf_report_replace_file(const char *path, const char *data, gsize len, int *err)
{
    char *dir = g_path_get_dirname(path);
    char *base = g_path_get_basename(path);
    char *tmpl = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
    gboolean ok = FALSE;
    /* 0666 less the umask, as fopen would create it: mkstemp's 0600 would hide it. */
    int fd = g_mkstemp_full(tmpl, O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) {
        *err = errno;
    } else {
        ok = write_all(fd, data, len, err);
        if (close(fd) != 0 && ok) {
            *err = errno;
            ok = FALSE;
        }
        if (ok && rename(tmpl, path) != 0) {
            *err = errno;
            ok = FALSE;
        }
        if (!ok)
            g_unlink(tmpl);
    }
    g_free(tmpl);
    g_free(base);
    g_free(dir);
    return ok;
}

gboolean tf_reporter_close_out(tf_reporter *r, GError **error)
{
    if (r->out) {
        tf_reporter_flush(r);
        if (ferror(r->out))
            remember(r, 0);
        if (r->own_out && fclose(r->out) != 0)
            remember(r, errno);
    }
    r->own_out = FALSE;
    r->out = NULL;
    if (r->write_errno) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "--format %s: writing %s: %s",
                    r->spec ? r->spec : "?", target_name(r), g_strerror(r->write_errno));
        return FALSE;
    }
    return TRUE;
}

void tf_reporter_base_clear(tf_reporter *r)
{
    g_clear_pointer(&r->spec, g_free);
    g_clear_pointer(&r->path, g_free);
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

tf_reporter *tf_reporter_open(const char *spec, int color, GError **error)
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
