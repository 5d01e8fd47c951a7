/* etcd_kv.h: the few etcd v3 KV calls scenarios make (put, per-member read), over the
 * JSON gateway. An app-side client: tf core knows nothing of keys. */
#ifndef RAFTKV_ETCD_KV_H
#define RAFTKV_ETCD_KV_H

#include <glib.h>
#include <tf/http.h>

/* Writes key=value through the member at base_url. FALSE + error ("put k: why") when
 * the write is not acknowledged within timeout_us. */
gboolean raftkv_etcd_put(tf_http *http, const char *base_url, const char *key,
                         const char *value, gint64 timeout_us, GError **error);
/* Reads key from the member at base_url; serializable = answer from that member's own
 * state without asking the leader. Returns the value (g_free) or NULL: *found tells a
 * missing key (NULL, *found FALSE, no error) from a failure (NULL + error). */
char *raftkv_etcd_get(tf_http *http, const char *base_url, const char *key,
                      gboolean serializable, gint64 timeout_us, gboolean *found,
                      GError **error);

#endif
