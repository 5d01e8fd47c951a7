/* work.h: 256-bit chainwork, the fork-choice weight of a bitcoin-family chain.
 * Nodes report it as a 64-digit hex string; it overflows every C integer type, so it is
 * kept as four 64-bit limbs and compared numerically, never as text of varying length. */
#ifndef CHAIN_WORK_H
#define CHAIN_WORK_H

#include <glib.h>

G_BEGIN_DECLS

/* An unsigned 256-bit number; limb[0] is the least significant. A plain value type. */
typedef struct {
    guint64 limb[4];
} chain_work;

/* Parses 1 to 64 hex digits (an optional "0x" prefix allowed) into *out.
 * FALSE (and *out untouched) on an empty, over-long or non-hex string. */
gboolean chain_work_parse(const char *hex, chain_work *out);
/* Writes w as 64 lowercase hex digits plus NUL into out (caller's buffer), as nodes do. */
void chain_work_format(const chain_work *w, char out[65]);
/* Sets *w to the small value v. */
void chain_work_from_u64(chain_work *w, guint64 v);
/* *acc += *add, modulo 2^256. */
void chain_work_add(chain_work *acc, const chain_work *add);
/* *acc -= *sub, modulo 2^256. */
void chain_work_sub(chain_work *acc, const chain_work *sub);
/* Returns <0, 0 or >0 as a is less than, equal to or greater than b. */
int chain_work_cmp(const chain_work *a, const chain_work *b);

/* The work of one block whose header's compact target is `bits` (nBits), as bitcoin's
 * GetBlockProof: 2^256 / (target + 1); zero for a zero, negative or overflowing target.
 * Nodes sum it along the chain to report chainwork. */
void chain_work_from_bits(guint32 bits, chain_work *out);
/* The compact target of the work w (> 0): the largest target whose block work is at least
 * w, rounded down to what nBits holds (so chain_work_from_bits may give a little more than
 * w; 2, regtest's work, gives 0x207fffff and back exactly 2). */
guint32 chain_work_to_bits(guint64 w);

G_END_DECLS

#endif
