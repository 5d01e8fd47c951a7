/* lin_keys.h: the sorted key arrays the keyed models (kv, registers) keep their states in,
 * so that equal states compare and hash equal whatever order the keys were written in.
 * Internal to observers/raftkv. */
#ifndef RAFTKV_LIN_KEYS_H
#define RAFTKV_LIN_KEYS_H

#include <string.h>
#include <glib.h>

/* Index of key in the n sorted keys, or where it would go (with *found FALSE). */
static inline guint lin_key_find(char *const *keys, guint n, const char *key, gboolean *found)
{
    guint lo = 0, hi = n;
    while (lo < hi) {
        guint mid = (lo + hi) / 2;
        int c = strcmp(keys[mid], key);
        if (!c) {
            *found = TRUE;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = FALSE;
    return lo;
}

#endif
