/* owner.c: owner tokens (boot, pid namespace, pid, start time) and directories owned
 * through a flock()ed owner file, with the sweep that removes what dead owners left.
 * See owner.h for the rules; the point of every check here is that a live run's
 * resources are never removed, so whatever cannot be proven dead is left alone. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include "tf/error.h"
#include "cluster_priv.h"
#include "owner.h"

#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"
#define BOOT_HEX 8
#define TOKEN_MAX 96

const char *tf_owner_state_name(tf_owner_state state)
{
    switch (state) {
    case TF_OWNER_ALIVE: return "alive";
    case TF_OWNER_DEAD: return "dead";
    case TF_OWNER_UNKNOWN: return "unknown";
    }
    return "unknown";
}

/* ---- what /proc says ----------------------------------------------------------------- */

/* The first 8 hex digits of this boot's id ("" when unreadable: then every token of
 * this machine has the same empty boot and a reboot cannot be told; pids still can). */
static void boot_prefix(char out[BOOT_HEX + 1])
{
    out[0] = '\0';
    FILE *f = fopen(BOOT_ID_PATH, "re");
    if (!f)
        return;
    char buf[64] = "";
    if (fgets(buf, sizeof buf, f) && strspn(buf, "0123456789abcdef") >= BOOT_HEX) {
        memcpy(out, buf, BOOT_HEX);
        out[BOOT_HEX] = '\0';
    }
    fclose(f);
}

/* The inode of this process's pid namespace, 0 when unknown. */
static unsigned long pid_ns(void)
{
    struct stat st;
    return stat("/proc/self/ns/pid", &st) == 0 ? (unsigned long)st.st_ino : 0;
}

typedef enum { PROC_RUNS, PROC_GONE, PROC_ZOMBIE, PROC_UNREADABLE } proc_state;

/* A zombie thread-group leader whose other threads still run is a live process. */
static gboolean other_threads(pid_t pid)
{
    char path[64];
    g_snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    GDir *d = g_dir_open(path, 0, NULL);
    guint n = 0;
    while (d && g_dir_read_name(d))
        n++;
    if (d)
        g_dir_close(d);
    return n > 1;
}

/* Reads state and start time (field 22, clock ticks since boot) of /proc/PID/stat. The
 * command name (field 2) may hold spaces and parentheses: parse after the last ')'. */
static proc_state proc_stat(pid_t pid, unsigned long long *start)
{
    char path[64], *text = NULL;
    g_snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        /* gone before or while we read (ENOENT, ESRCH), or hidden from us */
        g_snprintf(path, sizeof path, "/proc/%d", (int)pid);
        return access(path, F_OK) < 0 && errno == ENOENT ? PROC_GONE : PROC_UNREADABLE;
    }
    const char *p = strrchr(text, ')');
    char state = 0;
    /* fields 3 (state) .. 22 (starttime): skip the 18 fields between them */
    gboolean ok = p && sscanf(p + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
                                     "%*s %*s %*s %*s %*s %*s %llu", &state, start) == 2;
    g_free(text);
    if (!ok)
        return PROC_UNREADABLE;
    if ((state == 'Z' || state == 'X') && !other_threads(pid))
        return PROC_ZOMBIE;
    return PROC_RUNS;
}

/* ---- tokens ----------------------------------------------------------------------------- */

static gchar *token_for(pid_t pid, unsigned long long start)
{
    char boot[BOOT_HEX + 1];
    boot_prefix(boot);
    return g_strdup_printf("%s-%lu-%d-%llu", *boot ? boot : "0", pid_ns(), (int)pid, start);
}

char *tf_owner_token_of(pid_t pid)
{
    unsigned long long start = 0;
    return pid > 0 && proc_stat(pid, &start) == PROC_RUNS ? token_for(pid, start) : NULL;
}

static pthread_mutex_t token_lock = PTHREAD_MUTEX_INITIALIZER;
static char token_buf[TOKEN_MAX];
static pid_t token_pid; /* whose token token_buf is: a forked child computes its own */

const char *tf_owner_token(void)
{
    pthread_mutex_lock(&token_lock);
    if (token_pid != getpid()) {
        gchar *t = tf_owner_token_of(getpid());
        g_assert(t); /* this process runs */
        g_strlcpy(token_buf, t, sizeof token_buf);
        g_free(t);
        token_pid = getpid();
    }
    pthread_mutex_unlock(&token_lock);
    return token_buf;
}

/* A decimal field of a token: digits only, no sign, no overflow. */
static gboolean parse_dec(const char *s, guint64 max, guint64 *out)
{
    return *s && strspn(s, "0123456789") == strlen(s) &&
           g_ascii_string_to_unsigned(s, 10, 0, max, out, NULL);
}

tf_owner_state tf_owner_token_state(const char *token)
{
    if (!token || strlen(token) >= TOKEN_MAX)
        return TF_OWNER_UNKNOWN;
    gchar **f = g_strsplit(token, "-", -1);
    guint64 ns = 0, pid = 0, start = 0;
    gboolean ok = g_strv_length(f) == 4 &&
                  (!strcmp(f[0], "0") ||
                   (strlen(f[0]) == BOOT_HEX && strspn(f[0], "0123456789abcdef") == BOOT_HEX)) &&
                  parse_dec(f[1], G_MAXULONG, &ns) && parse_dec(f[2], G_MAXINT, &pid) && pid > 0 &&
                  parse_dec(f[3], G_MAXUINT64, &start);
    char here[BOOT_HEX + 1];
    boot_prefix(here);
    gboolean same_boot = ok && !strcmp(f[0], *here ? here : "0");
    g_strfreev(f);
    if (!ok)
        return TF_OWNER_UNKNOWN;
    if (!same_boot)
        return TF_OWNER_DEAD; /* another boot: every process of it is gone */
    if (ns != pid_ns())
        return TF_OWNER_UNKNOWN; /* its pids are not ours to look up */
    unsigned long long now_start = 0;
    switch (proc_stat((pid_t)pid, &now_start)) {
    case PROC_GONE:
    case PROC_ZOMBIE:
        return TF_OWNER_DEAD;
    case PROC_UNREADABLE:
        return TF_OWNER_UNKNOWN;
    case PROC_RUNS:
        break;
    }
    return now_start == start ? TF_OWNER_ALIVE : TF_OWNER_DEAD; /* else: pid reused */
}

/* ---- owned directories ------------------------------------------------------------------ */

struct tf_owned_dir {
    gchar *path;
    int lock_fd; /* the owner file, flock()ed LOCK_EX for d's life */
};

tf_owned_dir *tf_owned_dir_new(const char *parent, const char *prefix, GError **error)
{
    gchar *tmpl = g_strdup_printf("%sXXXXXX", prefix);
    gchar *path = g_build_filename(parent, tmpl, NULL);
    g_free(tmpl);
    if (!g_mkdtemp_full(path, 0700)) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "mkdir %s: %s", path, g_strerror(errno));
        g_free(path);
        return NULL;
    }
    /* Lock first, publish second: the owner file appears already locked and complete. */
    gchar *staging = g_build_filename(path, TF_OWNER_FILE ".XXXXXX", NULL);
    gchar *final = g_build_filename(path, TF_OWNER_FILE, NULL);
    const char *token = tf_owner_token();
    int fd = g_mkstemp_full(staging, O_RDWR | O_CLOEXEC, 0600);
    const char *step = "create";
    gboolean ok = fd >= 0;
    if (ok && (step = "flock", flock(fd, LOCK_EX) < 0))
        ok = FALSE;
    if (ok) {
        gchar *line = g_strdup_printf("%s\n", token);
        step = "write";
        ok = write(fd, line, strlen(line)) == (ssize_t)strlen(line);
        g_free(line);
    }
    if (ok && (step = "rename", rename(staging, final) < 0))
        ok = FALSE;
    if (!ok) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s: owner file: %s: %s", path, step,
                    g_strerror(errno));
        if (fd >= 0)
            close(fd);
        g_unlink(staging);
        g_rmdir(path);
        g_free(path);
        path = NULL;
    }
    g_free(staging);
    g_free(final);
    if (!ok)
        return NULL;
    tf_owned_dir *d = g_new0(tf_owned_dir, 1);
    d->path = path;
    d->lock_fd = fd;
    return d;
}

const char *tf_owned_dir_path(const tf_owned_dir *d)
{
    return d->path;
}

/* Removes path's tree with the owner file last (its lock is held by the caller). */
static gboolean remove_owned_tree(const char *path, GError **error)
{
    GError *e = NULL;
    GDir *d = g_dir_open(path, 0, &e);
    if (!d) {
        if (g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
            g_error_free(e);
            return TRUE; /* removed meanwhile */
        }
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "remove %s: %s", path, e->message);
        g_error_free(e);
        return FALSE;
    }
    gboolean ok = TRUE;
    const char *name;
    while (ok && (name = g_dir_read_name(d))) {
        if (!strcmp(name, TF_OWNER_FILE))
            continue;
        gchar *child = g_build_filename(path, name, NULL);
        ok = tf_cluster_rm_rf(child, error);
        g_free(child);
    }
    g_dir_close(d);
    gchar *owner = g_build_filename(path, TF_OWNER_FILE, NULL);
    if (ok && ((g_unlink(owner) < 0 && errno != ENOENT) || (g_rmdir(path) < 0 && errno != ENOENT))) {
        g_set_error(error, TF_ERROR, TF_ERROR_IO, "remove %s: %s", path, g_strerror(errno));
        ok = FALSE;
    }
    g_free(owner);
    return ok;
}

gboolean tf_owned_dir_remove(tf_owned_dir *d, GError **error)
{
    if (!d)
        return TRUE;
    gboolean ok = remove_owned_tree(d->path, error);
    close(d->lock_fd); /* after the removal: no sweep can take the tree halfway */
    g_free(d->path);
    g_free(d);
    return ok;
}

void tf_owned_dir_keep(tf_owned_dir *d)
{
    if (!d)
        return;
    gchar *owner = g_build_filename(d->path, TF_OWNER_FILE, NULL);
    g_unlink(owner); /* unowned: a sweep leaves it */
    g_free(owner);
    close(d->lock_fd);
    g_free(d->path);
    g_free(d);
}

void tf_owned_dir_keep_for_a_while(tf_owned_dir *d)
{
    if (!d)
        return;
    /* The marker first: a run killed in between leaves an owned dir for the sweep. */
    gchar *marker = g_build_filename(d->path, TF_OWNER_KEPT_FILE, NULL);
    GDateTime *now = g_date_time_new_now_utc();
    gchar *when = g_date_time_format_iso8601(now);
    if (!g_file_set_contents(marker, when, -1, NULL))
        g_warning("%s: cannot mark it kept", d->path);
    g_free(when);
    g_date_time_unref(now);
    g_free(marker);
    tf_owned_dir_keep(d);
}

typedef struct {
    gchar *path;
    gint64 kept_at; /* the marker's mtime, µs */
} kept_dir;

static gint newest_first(gconstpointer a, gconstpointer b)
{
    const kept_dir *x = *(kept_dir *const *)a, *y = *(kept_dir *const *)b;
    return x->kept_at < y->kept_at ? 1 : x->kept_at > y->kept_at ? -1 : g_strcmp0(x->path, y->path);
}

static void kept_dir_free(gpointer p)
{
    kept_dir *k = p;
    g_free(k->path);
    g_free(k);
}

guint tf_owner_prune_kept(const char *parent, const char *prefix, guint keep_newest,
                          GPtrArray *removed)
{
    GDir *dir = g_dir_open(parent, 0, NULL);
    if (!dir)
        return 0;
    GPtrArray *kept = g_ptr_array_new_with_free_func(kept_dir_free);
    const char *name;
    while ((name = g_dir_read_name(dir))) {
        if (!g_str_has_prefix(name, prefix))
            continue;
        gchar *path = g_build_filename(parent, name, NULL);
        gchar *marker = g_build_filename(path, TF_OWNER_KEPT_FILE, NULL);
        gchar *owner = g_build_filename(path, TF_OWNER_FILE, NULL);
        struct stat st, mk;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
            lstat(marker, &mk) == 0 && S_ISREG(mk.st_mode) && !g_file_test(owner, G_FILE_TEST_EXISTS)) {
            kept_dir *k = g_new0(kept_dir, 1);
            k->path = g_strdup(path);
            k->kept_at = (gint64)mk.st_mtim.tv_sec * G_USEC_PER_SEC + mk.st_mtim.tv_nsec / 1000;
            g_ptr_array_add(kept, k);
        }
        g_free(owner);
        g_free(marker);
        g_free(path);
    }
    g_dir_close(dir);
    g_ptr_array_sort(kept, newest_first);
    guint count = 0;
    for (guint i = keep_newest; i < kept->len; i++) {
        kept_dir *k = kept->pdata[i];
        GError *e = NULL;
        if (tf_cluster_rm_rf(k->path, &e)) {
            count++;
            if (removed)
                g_ptr_array_add(removed, g_strdup(k->path));
        } else {
            g_warning("old kept %s: %s", k->path, e->message);
            g_error_free(e);
        }
    }
    g_ptr_array_unref(kept);
    return count;
}

/* Opens path's owner file and tries its lock: -1 when there is none or it is held (then
 * *state says which); else the locked descriptor, with *state from the token it holds. */
static int try_owner(const char *path, tf_owner_state *state)
{
    gchar *owner = g_build_filename(path, TF_OWNER_FILE, NULL);
    int fd = open(owner, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    g_free(owner);
    *state = TF_OWNER_UNKNOWN;
    if (fd < 0)
        return -1;
    struct stat st;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        *state = errno == EWOULDBLOCK ? TF_OWNER_ALIVE : TF_OWNER_UNKNOWN;
        close(fd);
        return -1;
    }
    if (fstat(fd, &st) < 0 || st.st_nlink == 0) {
        close(fd); /* another sweep removed it while we waited for the lock */
        return -1;
    }
    char buf[TOKEN_MAX + 2];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = '\0';
    g_strstrip(buf);
    /* The lock is free, so the owner is gone; a token that still names a live process
     * means a filesystem where flock does nothing: trust the token then. */
    *state = tf_owner_token_state(buf) == TF_OWNER_ALIVE ? TF_OWNER_ALIVE : TF_OWNER_DEAD;
    return fd;
}

tf_owner_state tf_owner_dir_state(const char *path)
{
    tf_owner_state st;
    int fd = try_owner(path, &st);
    if (fd >= 0)
        close(fd);
    return st;
}

guint tf_owner_sweep_dirs(const char *parent, const char *prefix, GPtrArray *removed)
{
    GDir *dir = g_dir_open(parent, 0, NULL);
    if (!dir)
        return 0;
    guint count = 0;
    const char *name;
    while ((name = g_dir_read_name(dir))) {
        if (!g_str_has_prefix(name, prefix))
            continue;
        gchar *path = g_build_filename(parent, name, NULL);
        struct stat st;
        tf_owner_state state = TF_OWNER_UNKNOWN;
        int fd = -1;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid())
            fd = try_owner(path, &state);
        if (fd >= 0 && state == TF_OWNER_DEAD) {
            GError *e = NULL;
            if (remove_owned_tree(path, &e)) {
                count++;
                if (removed)
                    g_ptr_array_add(removed, g_strdup(path));
            } else {
                g_warning("stale %s of a dead run: %s", path, e->message);
                g_error_free(e);
            }
        }
        if (fd >= 0)
            close(fd);
        g_free(path);
    }
    g_dir_close(dir);
    return count;
}
