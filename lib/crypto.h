/*
 * crypto: the toolkit's only use of OpenSSL 3 primitives: random bytes,
 * HMAC, constant-time compare, PIN hashing, Ed25519.
 */
#ifndef WPAY_CRYPTO_H
#define WPAY_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PIN_HASH_MAX 160
#define SHA256_LEN   32

/* Fill buf from the OpenSSL CSPRNG; exits 70 if it cannot. */
void crypto_random(void *buf, size_t n);

bool ct_equal(const void *a, const void *b, size_t n);
void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len, unsigned char out[SHA256_LEN]);
void sha256(const void *msg, size_t len, unsigned char out[SHA256_LEN]);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void hex_encode(const unsigned char *in, size_t n, char *out);
/* Decode exactly n bytes of hex; false if malformed or the wrong length. */
bool hex_decode(const char *in, unsigned char *out, size_t n);

/*
 * PIN hashing: scrypt (N=2^14, r=8, p=1, 16-byte salt) over
 * HMAC-SHA256(pepper, pin). The pepper lives in a key file, not the
 * database, so a stolen database alone cannot be brute-forced.
 * Stored form: "scrypt$14$8$1$<salt hex>$<hash hex>".
 */
void pin_hash(const unsigned char *pepper, size_t pepper_len, const char *pin, char out[PIN_HASH_MAX]);
/* Constant-time check of pin against a stored hash; false if malformed. */
bool pin_hash_verify(const unsigned char *pepper, size_t pepper_len, const char *pin, const char *stored);

/* Base64 (standard alphabet) without padding: 64 bytes -> 86 characters.
 * out needs 4*ceil(n/3)+1 bytes. */
void base64_encode_nopad(const unsigned char *in, size_t n, char *out);
/* Decode unpadded base64 into out (at most max bytes); -1 if malformed. */
int base64_decode_nopad(const char *in, unsigned char *out, size_t max);

/* Ed25519 over msg. key is an EVP_PKEY (private for sign, any for verify). */
struct evp_pkey_st;
bool ed25519_sign(struct evp_pkey_st *key, const void *msg, size_t n, unsigned char sig[64]);
bool ed25519_verify(struct evp_pkey_st *key, const void *msg, size_t n, const unsigned char sig[64]);

/* Wipe secrets from memory in a way the compiler keeps. */
void crypto_wipe(void *p, size_t n);

#endif
