/* counter_observer.h: a tiny in-process observer for tests and benchmarks of the runtime.
 * Each source carries a counter_cell (a value and a "fail" switch) that the test changes;
 * the observer reports each cell's value and emits an event when a value changes. */
#ifndef TF_TEST_COUNTER_OBSERVER_H
#define TF_TEST_COUNTER_OBSERVER_H

#include <tf/tf.h>

/* A source's live value; tests write it from any thread. */
typedef struct {
    gint value; /* atomic */
    gint fail;  /* atomic: non-zero makes the source report a failure */
} counter_cell;

/* Observer config: poll fails on cycles listed (0-terminated, at most 8). */
typedef struct {
    guint64 fail_cycles[8];
} counter_config;

/* Snapshot: the values of every source that answered, by source order. */
typedef struct {
    guint n;
    char **names;
    gint *values;
    gint sum;
    guint64 polls;
} counter_snapshot;

/* Event: a source's value changed. */
typedef struct {
    char *source;
    gint old_value, new_value;
} counter_event;

/* The observer vtable (static). */
extern const tf_observer counter_observer;

/* A new source named `name` whose data is `cell` (borrowed; must outlive the source). */
tf_source *counter_source_new(const char *name, counter_cell *cell);
/* The value of source `name` in a snapshot, or -1 when absent. */
gint counter_snapshot_value(const counter_snapshot *s, const char *name);

#endif
