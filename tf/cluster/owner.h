/* owner.h: who owns what a run leaves outside its own process (temp dirs today; network
 * namespaces and containers next), so that a later run can remove what a dead run left
 * and never what a live one holds. Internal header (tf/cluster and its tests).
 *
 * Two proofs of life. A directory holds a lock file that its owner keeps flock()ed for
 * its whole life: the kernel drops the lock when the owner dies however it dies (SIGKILL
 * included), and it works across pid namespaces. Resources that cannot hold a file (a
 * namespace's name, a container's label) carry the owner's token instead: boot id, pid
 * namespace, pid and the process's start time, so a reused pid or a reboot reads as dead
 * and a process in another pid namespace, which we cannot see, as unknown (left alone). */
#ifndef TF_CLUSTER_OWNER_H
#define TF_CLUSTER_OWNER_H

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* What a later process can tell about an owner. Only DEAD allows removal. */
typedef enum {
    TF_OWNER_ALIVE,   /* the owner runs: leave its resources alone */
    TF_OWNER_DEAD,    /* the owner is gone (exited, zombie, pid reused, rebooted) */
    TF_OWNER_UNKNOWN, /* cannot tell (no or malformed token, another pid namespace) */
} tf_owner_state;

/* "alive", "dead", "unknown" (static). */
const char *tf_owner_state_name(tf_owner_state state);

/* ---- tokens: an owner named in a string ---------------------------------------------- */

/* This process's token "BOOT-PIDNS-PID-START" (8 hex digits of the boot id, the pid
 * namespace's inode, the pid, the start time in clock ticks since boot), e.g.
 * "85daeeb6-4026531836-4242-1234567". Only [0-9a-f-]: fits a file name, a container or
 * namespace name and a label value. Static string, computed once (recomputed in a forked
 * child, which is another owner). */
const char *tf_owner_token(void);
/* The token of process pid as it runs now (new string), or NULL when it does not run. */
char *tf_owner_token_of(pid_t pid);
/* Whether the process a token names still runs: DEAD when the boot differs, no such
 * pid runs, it is a zombie, or it started at another time (the pid was reused); UNKNOWN
 * for a malformed token or another pid namespace; ALIVE otherwise. */
tf_owner_state tf_owner_token_state(const char *token);

/* ---- owned directories ------------------------------------------------------------------ */

/* The lock file inside an owned directory (holds the owner's token, for people). */
#define TF_OWNER_FILE ".tf-owner"

/* A directory this process owns until tf_owned_dir_remove or tf_owned_dir_keep. */
typedef struct tf_owned_dir tf_owned_dir;

/* Creates parent/<prefix>XXXXXX (mode 0700) and takes ownership: a locked owner file
 * appears in it atomically (rename of a locked file), so no sweep ever sees an owner file
 * that is not locked yet. NULL + error "mkdir ...: why". The lock's descriptor is
 * close-on-exec: node processes do not inherit ownership. */
tf_owned_dir *tf_owned_dir_new(const char *parent, const char *prefix, GError **error);
/* The directory's path (borrowed; lives as long as d). */
const char *tf_owned_dir_path(const tf_owned_dir *d);
/* Removes the tree (the owner file last, so a run killed halfway still leaves an owned,
 * sweepable directory), releases the lock and frees d, also on failure. FALSE + error
 * "remove PATH: why". NULL is a no-op (TRUE). */
gboolean tf_owned_dir_remove(tf_owned_dir *d, GError **error);
/* Keeps the directory for people (TF_KEEP_CLUSTER): removes the owner file so that no
 * sweep will ever remove it, releases the lock and frees d. */
void tf_owned_dir_keep(tf_owned_dir *d);

/* The marker of a directory kept for a while (the logs of a failed scenario). */
#define TF_OWNER_KEPT_FILE ".tf-kept"

/* Like tf_owned_dir_keep, but marks the directory as kept for a while: tf_owner_prune_kept
 * removes the oldest such directories beyond a number. Frees d. */
void tf_owned_dir_keep_for_a_while(tf_owned_dir *d);

/* Removes the directories parent/<prefix>* of this user that tf_owned_dir_keep_for_a_while
 * kept, except the newest keep_newest (by when they were kept). Adds removed paths to
 * removed (may be NULL). Returns how many were removed. */
guint tf_owner_prune_kept(const char *parent, const char *prefix, guint keep_newest,
                          GPtrArray *removed);

/* The state of path's owner: ALIVE while its lock is held (or its lock is free but its
 * token names a live process); DEAD when the lock is free and the token is not alive;
 * UNKNOWN without an owner file (not made by tf_owned_dir_new, or kept). */
tf_owner_state tf_owner_dir_state(const char *path);

/* Removes every directory parent/<prefix>* owned by this user whose owner is DEAD,
 * holding the dead owner's lock while removing, so concurrent sweeps do not collide
 * and a live run's directory is never touched. Adds each removed path to removed (may
 * be NULL; g_free'd strings). Returns how many were removed; problems removing one are
 * reported with g_warning and do not stop the sweep. */
guint tf_owner_sweep_dirs(const char *parent, const char *prefix, GPtrArray *removed);

G_END_DECLS

#endif
