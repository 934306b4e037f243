/* ctx: see ctx.h. */
#include <stdlib.h>

#include "cli.h"
#include "crypto.h"
#include "ctx.h"

#include "util.h"

void ctx_open(struct wpay_ctx *c)
{
	struct err e = {0};
	int rc;
	secret_protect_process();
	crypto_wipe(&c->typed, sizeof c->typed);
	c->db_path = cli_db_path();
	c->keys_dir = cli_keys_dir();
	c->public_keys = keys_ring_new(c->keys_dir);
	if ((rc = store_open(c->db_path, false, &c->st, &e)) != 0)
		err_die(rc, "%s", e.msg);
	if ((rc = keys_check_dir(c->keys_dir, &e)) != 0 ||
	    (rc = keys_read_secret(c->keys_dir, KEY_PIN_PEPPER, c->pin_pepper, &e)) != 0 ||
	    (rc = keys_read_secret(c->keys_dir, KEY_CARD_FINGERPRINT, c->card_key, &e)) != 0)
		err_die(rc, "%s", e.msg);
	if ((rc = networks_load(&c->networks, &e)) != 0)
		err_die(rc, "%s", e.msg);
	secret_src_init(&c->pins, -1);
	secret_src_init(&c->pans, -1);
}

void ctx_close(struct wpay_ctx *c)
{
	store_close(c->st);
	crypto_wipe(c->pin_pepper, sizeof c->pin_pepper);
	crypto_wipe(c->card_key, sizeof c->card_key);
	crypto_wipe(&c->typed, sizeof c->typed);
	free(c->db_path);
	keys_ring_free(c->public_keys);
	free(c->keys_dir);
}
