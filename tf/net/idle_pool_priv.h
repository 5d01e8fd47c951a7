/* idle_pool_priv.h: what tf_http keeps idle between batches, by key: libcurl's configured
 * easy handles by request key (http.c) and tf's own connections by address (http1.c).
 * Internal header: not installed. */
#ifndef TF_NET_IDLE_POOL_PRIV_H
#define TF_NET_IDLE_POOL_PRIV_H

#include <glib.h>

typedef struct {
    GHashTable *sets;                          /* key (wiped when freed) -> the key's items */
    guint n;                                   /* items held */
    void (*drop)(gpointer item, gpointer user); /* releases an item the pool lets go */
    gpointer user;
} tf_idle_pool;

/* An empty pool whose items are released by drop(item, user). */
void tf_idle_pool_init(tf_idle_pool *p, void (*drop)(gpointer item, gpointer user), gpointer user);
/* Releases every item and the pool's tables. */
void tf_idle_pool_clear(tf_idle_pool *p);
/* An item kept for key, now the caller's, or NULL; either way key counts as used in run. */
gpointer tf_idle_pool_take(tf_idle_pool *p, const char *key, guint64 run);
/* Keeps item for key (copied when new), used in run. */
void tf_idle_pool_give(tf_idle_pool *p, const char *key, gpointer item, guint64 run);
/* Takes item out of key's items without releasing it; FALSE when it was not there. */
gboolean tf_idle_pool_remove(tf_idle_pool *p, const char *key, gpointer item);
/* After run: when more than twice `largest` items are kept, releases those of the keys
 * run did not use (keys that come and go must not pile up handles or sockets). */
void tf_idle_pool_trim(tf_idle_pool *p, guint64 run, guint largest);
/* Frees a string after zeroing it (keys and request keys may hold a password). */
void tf_http_wipe_free(gpointer s);

#endif
