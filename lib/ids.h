/*
 * ids: the ledger's names for things, each form made and read here only.
 *
 * Generated ids are "<prefix>_<26 chars>": wal_ (wallet), card_, code_,
 * ord_ (order), pay_ (payment), ref_ (refund), stl_ (settlement), tr_
 * (ledger transfer); events are "evt_<subject id>". People and shops are
 * named by what they chose: "u:<uid>" for a user, "m:<merchant_no>" for a
 * merchant, in records and as the owners of ledger accounts. A request
 * may give a user or merchant with its prefix or without.
 */
#ifndef WPAY_IDS_H
#define WPAY_IDS_H

#include <stdbool.h>
#include <stdint.h>

#define ID_MAX           48 /* a generated id and its NUL */
#define UID_MAX          64 /* characters of a uid */
#define MERCHANT_NO_MAX  32 /* characters of a merchant number */
#define USER_REF_MAX     (2 + UID_MAX + 1)
#define MERCHANT_REF_MAX (2 + MERCHANT_NO_MAX + 1)
/* Keys a caller chooses, as letters, digits and '_': a merchant's number
 * for an order, a caller's number for a request (so a replay is known). */
#define OUT_TRADE_NO_MAX 64
#define REQUEST_NO_MAX   64
/* An event is named for what it reports: "evt_<subject id>". */
#define EVENT_ID_MAX (ID_MAX + 8)

/*
 * A new id "<prefix>_<26 chars>": 48-bit milliseconds then 80 random bits
 * in Crockford base32 (as ULID), strictly increasing within a process, so
 * index inserts append instead of scattering.
 */
void ids_new(const char *prefix, char out[ID_MAX]);
/* True if id is "<prefix>_..." (prefix without the '_'). */
bool ids_is(const char *id, const char *prefix);
/* True if id has the whole form of a generated id with that prefix. */
bool ids_valid(const char *id, const char *prefix);
/* "<prefix>_<the 10 digits of ms>": below every id made at ms or later
 * and above every id made before (ids sort by their time first). */
void ids_at(const char *prefix, int64_t ms, char out[ID_MAX]);

/* "m:<no>" and "u:<uid>" in out, which they return; NULL for NULL (a
 * column that is NULL: an order without a buyer). Callers check what
 * they are given first (a name that does not fit is a bug: it ends the
 * program rather than stand for someone else). */
const char *ids_merchant(const char *no, char out[MERCHANT_REF_MAX]);
const char *ids_user(const char *uid, char out[USER_REF_MAX]);
/* "m:<no>" for a number of any length (read from a foreign code); the
 * caller frees it. */
char *ids_merchant_dup(const char *no);
void ids_event(const char *subject, char out[EVENT_ID_MAX]);
/* The merchant number of "m:<no>" or "<no>"; the uid of "u:<uid>" or
 * "<uid>". A pointer into ref. */
const char *ids_merchant_no(const char *ref);
const char *ids_uid(const char *ref);
/* True if ref names a user ("u:..."). */
bool ids_is_user(const char *ref);

#endif
