/* work.c: 256-bit chainwork parse, format, add, subtract, compare, and block work from a
 * header's compact target. Kept separate from the graph so the simulator, the RPC adapter
 * and the REST header reader share one exact arithmetic for fork choice. */
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

void chain_work_sub(chain_work *acc, const chain_work *sub)
{
    guint64 borrow = 0;
    for (int i = 0; i < 4; i++) {
        guint64 a = acc->limb[i], d = a - sub->limb[i];
        guint64 b1 = a < sub->limb[i];
        guint64 d2 = d - borrow;
        guint64 b2 = d < borrow;
        acc->limb[i] = d2;
        borrow = b1 | b2;
    }
}

static void shl1(chain_work *w, guint64 in)
{
    for (int i = 3; i > 0; i--)
        w->limb[i] = (w->limb[i] << 1) | (w->limb[i - 1] >> 63);
    w->limb[0] = (w->limb[0] << 1) | in;
}

/* *q = n / d (d > 0), by shift and subtract: 256 steps, run once per distinct target. */
static void div256(const chain_work *n, const chain_work *d, chain_work *q)
{
    chain_work r = {{0, 0, 0, 0}};
    memset(q, 0, sizeof *q);
    for (int bit = 255; bit >= 0; bit--) {
        guint64 top = r.limb[3] >> 63;
        shl1(&r, (n->limb[bit / 64] >> (bit % 64)) & 1);
        if (top || chain_work_cmp(&r, d) >= 0) {
            chain_work_sub(&r, d);
            q->limb[bit / 64] |= G_GUINT64_CONSTANT(1) << (bit % 64);
        }
    }
}

/* The target nBits encodes (bitcoin's arith_uint256::SetCompact); FALSE when it is
 * negative or overflows 256 bits. */
static gboolean target_from_bits(guint32 bits, chain_work *t)
{
    guint size = bits >> 24;
    guint32 word = bits & 0x007fffff;
    memset(t, 0, sizeof *t);
    if (word && ((bits & 0x00800000) || size > 34 || (word > 0xff && size > 33) ||
                 (word > 0xffff && size > 32)))
        return FALSE;
    if (size <= 3) {
        t->limb[0] = word >> (8 * (3 - size));
        return TRUE;
    }
    guint shift = 8 * (size - 3); /* < 256 - 23 here */
    guint64 w = word;
    t->limb[shift / 64] |= w << (shift % 64);
    if (shift % 64 > 40 && shift / 64 < 3)
        t->limb[shift / 64 + 1] |= w >> (64 - shift % 64);
    return TRUE;
}

void chain_work_from_bits(guint32 bits, chain_work *out)
{
    chain_work t, one, not_t;
    memset(out, 0, sizeof *out);
    if (!target_from_bits(bits, &t) || !(t.limb[0] | t.limb[1] | t.limb[2] | t.limb[3]))
        return;
    /* 2^256 / (t + 1) = ~t / (t + 1) + 1, as bitcoin computes it within 256 bits. */
    for (int i = 0; i < 4; i++)
        not_t.limb[i] = ~t.limb[i];
    chain_work_from_u64(&one, 1);
    chain_work_add(&t, &one);
    if (!(t.limb[0] | t.limb[1] | t.limb[2] | t.limb[3])) { /* t was 2^256 - 1 */
        *out = one;
        return;
    }
    div256(&not_t, &t, out);
    chain_work_add(out, &one);
}

guint32 chain_work_to_bits(guint64 w)
{
    /* target = (2^256 - 1) / w, then bitcoin's GetCompact. */
    chain_work all = {{~G_GUINT64_CONSTANT(0), ~G_GUINT64_CONSTANT(0), ~G_GUINT64_CONSTANT(0),
                       ~G_GUINT64_CONSTANT(0)}}, d, t;
    chain_work_from_u64(&d, MAX(w, 1));
    div256(&all, &d, &t);
    guint size = 32;
    while (size > 0 && !((t.limb[(size - 1) / 8] >> (8 * ((size - 1) % 8))) & 0xff))
        size--;
    guint32 compact = 0;
    for (guint k = 0; k < 3; k++) { /* the top three bytes, most significant first */
        gint byte = (gint)size - 1 - (gint)k;
        compact <<= 8;
        if (byte >= 0)
            compact |= (t.limb[byte / 8] >> (8 * (byte % 8))) & 0xff;
    }
    if (compact & 0x00800000) {
        compact >>= 8;
        size++;
    }
    return compact | (size << 24);
}
