/*
 * networks: the payment networks a code can carry, from configuration
 * (see lib/networks.tsv): a name, the EMV template id (26-51) and the
 * globally unique identifier that names the network inside it.
 */
#ifndef WPAY_NETWORKS_H
#define WPAY_NETWORKS_H

#include <stdbool.h>

#include "err.h"

#define NETWORKS_MAX 26

struct network {
	char name[24];
	char id[3];
	char guid[33];
	char what[64];
};

struct networks {
	struct network n[NETWORKS_MAX];
	int count;
	char source[256]; /* "built-in" or the file */
};

/* Load from $WPAY_NETWORKS, else $XDG_CONFIG_HOME/wpay/networks.tsv if it
 * exists, else the built-in table. 0, or a sysexits status with e set. */
int networks_load(struct networks *nw, struct err *e);
/* Parse a table from text (for the loader and tests); source names it. */
int networks_parse(struct networks *nw, const char *text, const char *source, struct err *e);
const struct network *networks_by_name(const struct networks *nw, const char *name);
const struct network *networks_by_guid(const struct networks *nw, const char *guid);
/* Does a merchant's stored list ("wpay,wechat"; NULL: every network) name this network? */
bool networks_accepts(const char *list, const char *name);

#endif
