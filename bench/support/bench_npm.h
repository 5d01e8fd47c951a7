/* bench_npm.h: the JavaScript side of the benches that compare tf with the official
 * Cucumber tools. node and npm are needed (bench_need: exit 77 without them outside CI),
 * and dir/node_modules must hold exactly the versions pinned by dir/package.json and
 * dir/package-lock.json (committed): when it does not, `npm ci` installs them, so every
 * run measures the same pinned code. node_modules is never committed (.gitignore). */
#ifndef TF_BENCH_NPM_H
#define TF_BENCH_NPM_H

#include <glib.h>

/* Makes dir/node_modules match the pins (installing when needed), prints the pinned
 * versions, and returns the node program (new string). Exits as bench_need does when
 * node, npm or the install are missing. */
char *bench_npm_ready(const char *dir);

#endif
