/*
 * terminals: a merchant's tills and vending machines. A terminal is
 * (merchant, terminal id): the id is EMV's Terminal Label (62.07), 1 to
 * 25 letters, digits, '_', '-' or '.'. Codes made for a terminal carry it
 * in 62.07; the orders placed from them, or created for one, carry it to
 * their payments and the merchant's notifications, so a machine knows
 * which sale is its own. Removing a terminal refuses its codes and new
 * orders for it; adding it again revives it. Handlers as in accounts.h.
 */
#ifndef WPAY_TERMINALS_H
#define WPAY_TERMINALS_H

#include <jansson.h>
#include <stdbool.h>

#include "ctx.h"
#include "merchants.h"

#define TERMINAL_ID_MAX   25
#define TERMINAL_NAME_MAX 64

int terminals_add(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int terminals_remove(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int terminals_list(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);

/* Is id a terminal id's form? */
bool terminals_valid_id(const char *id);
/* The request's optional "terminal", which must be an active terminal of
 * merchant m: *id NULL when there is none; 0, or ERR_FAIL "bad_field",
 * "unknown_terminal". */
int terminals_get(struct store *st, json_t *req, const struct merchant *m, const char **id, struct err *e);
/* The same for an id read elsewhere (a scanned code's 62.07). */
int terminals_check(struct store *st, const struct merchant *m, const char *id, struct err *e);

#endif
