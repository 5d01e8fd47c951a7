/* report_envelope.h: run events as Cucumber Messages envelopes (report_envelope.c), for
 * the message reporter and whatever else speaks Cucumber Messages. */
#ifndef TF_RUNNER_REPORT_ENVELOPE_H
#define TF_RUNNER_REPORT_ENVELOPE_H

#include <jansson.h>
#include "report_query.h"

/* Receives each envelope (a new reference it takes over). */
typedef void (*tf_envelope_fn)(void *data, json_t *envelope);

/* The meta envelope that starts a report: protocol, tf's version, machine (new reference). */
json_t *tf_envelope_meta(void);
/* Hands out the envelopes of ev, in order: a source gives its source, gherkinDocument and
 * pickle envelopes, any other event one. q must have taken in every event before ev. */
void tf_envelopes_of_event(const tf_query *q, const tf_event *ev, tf_envelope_fn out, void *data);

#endif
