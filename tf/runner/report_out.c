/* report_out.c: how reports survive a kill. Reporters flush at scenario boundaries,
 * the NDJSON reporter writes whole lines with single write(2) calls, and the JUnit
 * reporter replaces its file atomically (temp file + rename) with a complete document, so
 * a SIGKILLed run (a CI timeout) leaves every report readable up to the last finished
 * scenario. A failed write is remembered with its errno and reported at close naming the
 * format and the file. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "report_priv.h"
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
