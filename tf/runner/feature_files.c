/* feature_files.c: from `tf run` path arguments to the feature files and pickles a run
 * executes. PATH[:LINE...] arguments name files or directories; directories are walked
 * in name order. Every real file and directory is visited once, by (device, inode): a
 * symlink to a parent directory, a second name of a file (symlink or hard link) or a
 * file named twice never runs a scenario twice, and the lines asked for through each
 * name are merged. Lines select through line_select.c; --tags and --name filter after. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include "option_value.h"
#include "runner_priv.h"

struct tf_feature_arg {
    char *path;
    GArray *lines; /* guint; empty = every scenario */
};

void tf_feature_arg_free(tf_feature_arg *a)
{
    if (!a)
        return;
    g_free(a->path);
    g_array_unref(a->lines);
    g_free(a);
}

tf_feature_arg *tf_feature_arg_parse(const char *arg, GError **error)
{
    tf_feature_arg *a = g_new0(tf_feature_arg, 1);
    a->lines = g_array_new(FALSE, FALSE, sizeof(guint));
    a->path = g_strdup(arg);
    for (;;) {
        char *colon = strrchr(a->path, ':');
        if (!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1))
            break;
        guint64 line = 0;
        char *what = g_strdup_printf("%s: line", arg);
        gboolean ok = tf_opt_parse_uint(what, colon + 1, 1, G_MAXUINT, &line, error);
        g_free(what);
        if (!ok) {
            tf_feature_arg_free(a);
            return NULL;
        }
        guint l = (guint)line;
        g_array_prepend_val(a->lines, l);
        *colon = '\0';
    }
    return a;
}

/* One real file to run, under the first name it was found by. */
typedef struct {
    char *path;
    GArray *lines;  /* guint, merged from every name; meaningless when whole */
    gboolean whole; /* some name asked for every scenario */
} file_pick;

typedef struct {
    GPtrArray *picks;  /* file_pick*, in the order first found */
    GHashTable *files; /* "dev:ino" -> file_pick* (borrowed) */
    GHashTable *dirs;  /* "dev:ino" of directories entered */
} walk;

static void file_pick_free(file_pick *p)
{
    g_free(p->path);
    g_array_unref(p->lines);
    g_free(p);
}

static char *identity(const struct stat *st)
{
    return g_strdup_printf("%ju:%ju", (uintmax_t)st->st_dev, (uintmax_t)st->st_ino);
}

static void add_file(walk *w, const char *path, const struct stat *st, const guint *lines,
                     guint n_lines)
{
    char *id = identity(st);
    file_pick *p = g_hash_table_lookup(w->files, id);
    if (!p) {
        p = g_new0(file_pick, 1);
        p->path = g_strdup(path);
        p->lines = g_array_new(FALSE, FALSE, sizeof(guint));
        g_ptr_array_add(w->picks, p);
        g_hash_table_insert(w->files, id, p);
        p->whole = n_lines == 0;
    } else {
        g_free(id);
        p->whole |= n_lines == 0;
    }
    g_array_append_vals(p->lines, lines, n_lines);
}

static gint str_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static gboolean stat_or_error(const char *path, struct stat *st, GError **error)
{
    if (stat(path, st) == 0)
        return TRUE;
    int e = errno;
    g_set_error(error, TF_ERROR, TF_ERROR_IO, "%s: %s", path, g_strerror(e));
    return FALSE;
}

/* Walks dir (whose stat is st) unless entered before; .feature files become picks. */
static gboolean walk_dir(walk *w, const char *dir, const struct stat *st, GError **error)
{
    char *id = identity(st);
    if (!g_hash_table_add(w->dirs, id))
        return TRUE; /* a symlink back into the tree: already walked */
    GDir *d = g_dir_open(dir, 0, error);
    if (!d)
        return FALSE;
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *n;
    while ((n = g_dir_read_name(d)))
        g_ptr_array_add(names, g_build_filename(dir, n, NULL));
    g_dir_close(d);
    g_ptr_array_sort(names, str_cmp);
    gboolean ok = TRUE;
    for (guint i = 0; i < names->len && ok; i++) {
        const char *p = g_ptr_array_index(names, i);
        struct stat est;
        if (stat(p, &est) != 0) {
            /* a dangling link is only an error where a feature was meant */
            if (g_str_has_suffix(p, ".feature"))
                ok = stat_or_error(p, &est, error);
            continue;
        }
        if (S_ISDIR(est.st_mode))
            ok = walk_dir(w, p, &est, error);
        else if (S_ISREG(est.st_mode) && g_str_has_suffix(p, ".feature"))
            add_file(w, p, &est, NULL, 0); /* every scenario */
    }
    g_ptr_array_unref(names);
    return ok;
}

void tf_run_feature_free(tf_run_feature *f)
{
    if (f->selected)
        g_ptr_array_unref(f->selected);
    tf_gherkin_pickles_free(f->pickles);
    tf_gherkin_document_free(f->doc);
    g_free(f->data);
    g_free(f->uri);
    g_free(f);
}

/* Reads, parses and compiles one pick and fills f->selected; NULL + error on failure. */
static tf_run_feature *load_one(const file_pick *pick, tf_gherkin_id_gen *ids,
                                const tf_feature_filter *filter, GError **error)
{
    tf_run_feature *f = g_new0(tf_run_feature, 1);
    f->uri = g_strdup(pick->path);
    f->selected = g_ptr_array_new();
    gsize len;
    if (!g_file_get_contents(pick->path, &f->data, &len, error))
        goto fail;
    GPtrArray *errs = NULL;
    f->doc = tf_gherkin_parse(pick->path, f->data, (gssize)len, ids, &errs);
    if (!f->doc) {
        tf_gherkin_errors_to_gerror(errs, error);
        tf_gherkin_errors_free(errs);
        goto fail;
    }
    f->pickles = tf_gherkin_compile(f->doc, ids);
    guint n = tf_gherkin_pickles_count(f->pickles);
    gboolean *by_line = g_new0(gboolean, n ? n : 1);
    /* Lines are checked even when another name asked for the whole file. */
    if (pick->lines->len &&
        !tf_select_lines(f->doc, f->data, f->pickles, (const guint *)pick->lines->data,
                         pick->lines->len, by_line, error)) {
        g_free(by_line);
        goto fail;
    }
    for (guint j = 0; pick->whole && j < n; j++)
        by_line[j] = TRUE;
    for (guint j = 0; j < n; j++) {
        const tf_gherkin_pickle *p = tf_gherkin_pickles_get(f->pickles, j);
        if (!by_line[j] || (filter->tags && !tf_tag_matcher_match(filter->tags, p)))
            continue;
        gboolean name_ok = !filter->names || filter->names->len == 0;
        for (guint k = 0; !name_ok && k < filter->names->len; k++)
            name_ok = g_regex_match(g_ptr_array_index(filter->names, k), p->name, 0, NULL);
        if (name_ok)
            g_ptr_array_add(f->selected, (gpointer)p);
    }
    g_free(by_line);
    return f;
fail:
    tf_run_feature_free(f);
    return NULL;
}

GPtrArray *tf_features_load(GPtrArray *args, tf_gherkin_id_gen *ids,
                            const tf_feature_filter *filter, GError **error)
{
    walk w = {.picks = g_ptr_array_new_with_free_func((GDestroyNotify)file_pick_free),
              .files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
              .dirs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
    GPtrArray *features = NULL;
    gboolean ok = TRUE;
    for (guint i = 0; i < args->len && ok; i++) {
        const tf_feature_arg *a = g_ptr_array_index(args, i);
        struct stat st;
        if (!(ok = stat_or_error(a->path, &st, error)))
            break;
        if (S_ISDIR(st.st_mode) && a->lines->len) {
            g_set_error(error, TF_ERROR, TF_ERROR_INVALID,
                        "%s:%u: a line number needs a .feature file, not a directory", a->path,
                        g_array_index(a->lines, guint, 0));
            ok = FALSE;
        } else if (S_ISDIR(st.st_mode)) {
            ok = walk_dir(&w, a->path, &st, error);
        } else {
            add_file(&w, a->path, &st, (const guint *)a->lines->data, a->lines->len);
        }
    }
    if (ok) {
        features = g_ptr_array_new_with_free_func((GDestroyNotify)tf_run_feature_free);
        for (guint i = 0; i < w.picks->len; i++) {
            tf_run_feature *f = load_one(g_ptr_array_index(w.picks, i), ids, filter, error);
            if (!f) {
                g_clear_pointer(&features, g_ptr_array_unref);
                break;
            }
            g_ptr_array_add(features, f);
        }
    }
    g_hash_table_unref(w.dirs);
    g_hash_table_unref(w.files);
    g_ptr_array_unref(w.picks);
    return features;
}
