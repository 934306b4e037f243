/*
 * ctx: what a program that works on the ledger holds open: the store, the
 * key directory and the secrets read from it, and where PINs come from.
 */
#ifndef WPAY_CTX_H
#define WPAY_CTX_H

#include <stdbool.h>

#include "keys.h"
#include "networks.h"
#include "secret.h"
#include "store.h"

struct wpay_ctx {
	struct store *st;
	char *db_path, *keys_dir;
	struct key_ring *public_keys; /* read as codes ask for them */
	unsigned char pin_pepper[KEY_SECRET_LEN];
	unsigned char card_key[KEY_SECRET_LEN];
	struct secret_src pins; /* PINs: --pin-fd, else the terminal */
	struct secret_src pans; /* card numbers: --pan-fd, else the terminal */
	/* PINs typed for the request at hand (pins_ask), read while
	 * the ledger was not locked; wiped after the request. */
	struct {
		char current[PIN_BUF], fresh[PIN_BUF];
		bool ready;
	} typed;
	struct networks networks;
};

/* Open the ledger (see cli_db_path), load the keys and the networks; on failure print
 * why and exit with its status (66 no ledger, 77 key file mode, ...). */
void ctx_open(struct wpay_ctx *c);
void ctx_close(struct wpay_ctx *c);

#endif
