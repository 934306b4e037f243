/*
 * keys: the secret files that live outside the ledger, in the key
 * directory (see cli_keys_dir): the PIN pepper, the card fingerprint key,
 * and the platform's Ed25519 signing keys with their key ids.
 *
 * Files are created 0600 and never overwritten (made as a temporary file,
 * then linked into place). A key file is opened without following links
 * and checked as opened: it must be a regular file of this user's; a
 * secret (private key, pepper, webhook secret) must not be readable or
 * writable by group or others, a public key (root's too) not writable by
 * them. The key directory must be this user's (or root's) and not
 * writable by group or others, since whoever can write it can plant a
 * key. Each function returns 0, or a sysexits status with e filled in
 * (77 "key_mode" for a file or directory that cannot be trusted).
 */
#ifndef WPAY_KEYS_H
#define WPAY_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct json_t; /* jansson's json_t, for the lists of created files */

#define KEY_SECRET_LEN 32
#define KEY_ID_MAX     16

#define KEY_PIN_PEPPER       "pin-pepper.key"
#define KEY_CARD_FINGERPRINT "card-fingerprint.key"
#define KEY_SIGNING_CURRENT  "signing.current"

/* Create whatever is missing; appends the names of created files to `created`. */
int keys_create(const char *dir, struct json_t *created, struct err *e);
/* Make dir/name holding 32 random bytes (hex) unless it exists; check its mode.
 * Appends name to `created` (if not NULL) when it made it. */
int keys_ensure_secret(const char *dir, const char *name, struct json_t *created, struct err *e);
/* Read a 32-byte secret key file by name (e.g. KEY_PIN_PEPPER). */
int keys_read_secret(const char *dir, const char *name, unsigned char out[KEY_SECRET_LEN], struct err *e);
/* The current signing key id, e.g. "3fa1c09b". */
int keys_signing_id(const char *dir, char kid[KEY_ID_MAX], struct err *e);
/* Path of the public key (PEM) for a key id; caller frees. */
char *keys_public_path(const char *dir, const char *kid);
/* The signing key (private) of a key id: checked like every secret file.
 * The caller frees it with EVP_PKEY_free. */
struct evp_pkey_st;
int keys_load_signing(const char *dir, const char *kid, struct evp_pkey_st **key, struct err *e);
/* The public key of a key id, after checking the directory and the file,
 * and that the key's own id is kid: 0, or 66 "no_key" (this directory
 * does not know the key id), 77 "key_mode", 65 "bad_key". */
int keys_load_public(const char *dir, const char *kid, struct evp_pkey_st **key, struct err *e);
/*
 * The public keys a run has read, by key id, for checking many codes: a
 * key's file is read and checked (keys_load_public) the first time its id
 * is asked for, and the key kept for the run; an id that failed is asked
 * of the directory again each time. Safe to share between threads.
 */
struct key_ring;
struct key_ring *keys_ring_new(const char *dir);
/* keys_load_public's answer; the key belongs to the ring (do not free it). */
int keys_ring_public(struct key_ring *r, const char *kid, struct evp_pkey_st **key, struct err *e);
void keys_ring_free(struct key_ring *r);
/* A public key (PEM) from a file a user names, e.g. wpay-scanqr
 * --public-key, with its key id: 0, 66 "no_key", or 65 "bad_key". */
int keys_load_public_file(const char *path, struct evp_pkey_st **key, char kid[KEY_ID_MAX], struct err *e);
/* Check that a secret file is a regular file of ours with mode 0600 or stricter. */
int keys_check_file(const char *path, struct err *e);
/* Open a key file for reading, checked as above (public_key: the rules of
 * a public key); *fd is the caller's to close. */
int keys_open(const char *path, bool public_key, int *fd, struct err *e);
/* Check the key directory; one that does not exist passes (there is
 * nothing in it to trust, and reading a key from it fails anyway). */
int keys_check_dir(const char *dir, struct err *e);

#endif
