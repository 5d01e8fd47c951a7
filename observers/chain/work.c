/* work.c: 256-bit chainwork parse, format, add and compare.
 * Kept separate from the graph so the simulator and the RPC adapter share one exact
 * arithmetic for fork choice. */
#include "chain/work.h"

#include <string.h>

gboolean chain_work_parse(const char *hex, chain_work *out)
{
    if (!hex)
        return FALSE;
    if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
        hex += 2;
    size_t n = strlen(hex);
    if (n == 0 || n > 64)
        return FALSE;
    chain_work w = {{0, 0, 0, 0}};
    /* Digit i from the right goes to limb i/16, nibble i%16. */
    for (size_t i = 0; i < n; i++) {
        int v = g_ascii_xdigit_value(hex[n - 1 - i]);
        if (v < 0)
            return FALSE;
        w.limb[i / 16] |= (guint64)v << (4 * (i % 16));
    }
    *out = w;
    return TRUE;
}

void chain_work_format(const chain_work *w, char out[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 64; i++) {
        int from_right = 63 - i;
        out[i] = digits[(w->limb[from_right / 16] >> (4 * (from_right % 16))) & 0xf];
    }
    out[64] = '\0';
}

void chain_work_from_u64(chain_work *w, guint64 v)
{
    memset(w, 0, sizeof *w);
    w->limb[0] = v;
}

void chain_work_add(chain_work *acc, const chain_work *add)
{
    guint64 carry = 0;
    for (int i = 0; i < 4; i++) {
        guint64 a = acc->limb[i];
        guint64 s = a + add->limb[i];
        guint64 c1 = s < a;
        guint64 s2 = s + carry;
        guint64 c2 = s2 < s;
        acc->limb[i] = s2;
        carry = c1 | c2;
    }
}

int chain_work_cmp(const chain_work *a, const chain_work *b)
{
    for (int i = 3; i >= 0; i--) {
        if (a->limb[i] != b->limb[i])
            return a->limb[i] < b->limb[i] ? -1 : 1;
    }
    return 0;
}
