/* tf.h: the whole public API of libtf. Include this one header. */
#ifndef TF_H
#define TF_H

#include "tf/version.h"
#include "tf/error.h"
#include "tf/source.h"
#include "tf/observer.h"
#include "tf/snapshot.h"
#include "tf/runtime.h"
#include "tf/handle.h"
#include "tf/http.h"
#include "tf/cluster.h"
#include "tf/gherkin.h"
#include "tf/expression.h"
#include "tf/tags.h"
#include "tf/steps.h"
#include "tf/runner.h"
#include "tf/plugin.h"
#include "tf/durable.h"
#include "tf/world_store.h"
#include "tf/ophistory.h"
#include "tf/lincheck.h"

#endif
