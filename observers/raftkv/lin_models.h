/* lin_models.h: sequential models of what a Raft KV store promises its clients, for the
 * linearizability checker (tf/lincheck.h): a single register (read, write,
 * compare-and-set; initially absent), registers on independent keys, and a key-value
 * store (get, put, append on independent keys; every key initially ""). */
#ifndef RAFTKV_LIN_MODELS_H
#define RAFTKV_LIN_MODELS_H

#include <tf/lincheck.h>

/* One register holding a JSON value or nothing (nil). Operations:
 *   read:  input ignored; output the value read, null when the register is empty
 *   write: input the value to store (null empties the register); output ignored
 *   cas:   input [from, to]; output false when the register did not hold `from` (nothing
 *          changed), or {"ok": false, "value": V} when it did not and held V (as an etcd
 *          txn's failure branch reads it), anything else (true, or Jepsen's echo
 *          [from, to]) when it did and now holds `to`.
 * Unknown operations that cannot change a verdict are left out of the search (prune):
 * reads, and writes or cas of values that nothing observed, unless some refused cas did
 * not say what the register held. */
extern const tf_lin_model raftkv_register_model;

/* One register per key, each as raftkv_register_model (initially nil); the input is
 * {"key": K, "value": V} where V is the register operation's input (write: the value;
 * cas: [from, to]; read: ignored). Keys are independent: the model partitions the
 * history by key. What the etcd client workload records. */
extern const tf_lin_model raftkv_registers_model;

/* Keys holding strings, each initially "". Input {"key": K, "value": V}:
 *   get:    output the value read (null reads as "")
 *   put:    stores V
 *   append: appends V to the key's value
 * Keys are independent: the model partitions the history by key. */
extern const tf_lin_model raftkv_kv_model;

/* The model named `name` ("register", "registers" or "kv"), or NULL (static). */
const tf_lin_model *raftkv_lin_model(const char *name);

#endif
