/* crypto: see crypto.h. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "clock.h"
#include "crypto.h"
#include "err.h"

#include "util.h"

void crypto_random(void *buf, size_t n)
{
	if (RAND_bytes(buf, (int)n) != 1) {
		err_die(EX_SOFTWARE, "the system random number generator failed");
	}
}

void crypto_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

bool ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len, unsigned char out[SHA256_LEN])
{
	unsigned int len = SHA256_LEN;
	if (!HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &len)) {
		err_die(EX_SOFTWARE, "HMAC-SHA256 failed in OpenSSL");
	}
}

void sha256(const void *msg, size_t len, unsigned char out[SHA256_LEN])
{
	if (!EVP_Digest(msg, len, out, NULL, EVP_sha256(), NULL)) {
		err_die(EX_SOFTWARE, "SHA-256 failed in OpenSSL");
	}
}

void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool hex_decode(const char *in, unsigned char *out, size_t n)
{
	if (strlen(in) != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(in[2 * i]), lo = hexval(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

enum { SCRYPT_LOG_N = 14, SCRYPT_R = 8, SCRYPT_P = 1, PIN_SALT_LEN = 16, PIN_KEY_LEN = 32 };

static void scrypt_pin(const unsigned char *pepper, size_t pepper_len, const char *pin, const unsigned char *salt,
                       unsigned log_n, unsigned r, unsigned p, unsigned char out[PIN_KEY_LEN])
{
	unsigned char peppered[SHA256_LEN];
	hmac_sha256(pepper, pepper_len, pin, strlen(pin), peppered);
	if (!EVP_PBE_scrypt((const char *)peppered, sizeof peppered, salt, PIN_SALT_LEN, (uint64_t)1 << log_n, r, p,
	                    64u << 20, out, PIN_KEY_LEN)) {
		err_die(EX_SOFTWARE, "scrypt failed in OpenSSL");
	}
	crypto_wipe(peppered, sizeof peppered);
}

void pin_hash(const unsigned char *pepper, size_t pepper_len, const char *pin, char out[PIN_HASH_MAX])
{
	unsigned char salt[PIN_SALT_LEN], key[PIN_KEY_LEN];
	char salt_hex[2 * PIN_SALT_LEN + 1], key_hex[2 * PIN_KEY_LEN + 1];
	crypto_random(salt, sizeof salt);
	scrypt_pin(pepper, pepper_len, pin, salt, SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P, key);
	hex_encode(salt, sizeof salt, salt_hex);
	hex_encode(key, sizeof key, key_hex);
	bufprintf(out, PIN_HASH_MAX, "scrypt$%d$%d$%d$%s$%s", SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P, salt_hex, key_hex);
	crypto_wipe(key, sizeof key);
}

bool pin_hash_verify(const unsigned char *pepper, size_t pepper_len, const char *pin, const char *stored)
{
	unsigned log_n, r, p;
	char salt_hex[2 * PIN_SALT_LEN + 1], key_hex[2 * PIN_KEY_LEN + 1];
	if (sscanf(stored, "scrypt$%2u$%2u$%2u$%32[0-9a-f]$%64[0-9a-f]", &log_n, &r, &p, salt_hex, key_hex) != 5)
		return false;
	unsigned char salt[PIN_SALT_LEN], want[PIN_KEY_LEN], got[PIN_KEY_LEN];
	if (log_n < 10 || log_n > 20 || r < 1 || r > 32 || p < 1 || p > 4 || !hex_decode(salt_hex, salt, sizeof salt) ||
	    !hex_decode(key_hex, want, sizeof want))
		return false;
	scrypt_pin(pepper, pepper_len, pin, salt, log_n, r, p, got);
	bool ok = ct_equal(got, want, sizeof got);
	crypto_wipe(got, sizeof got);
	return ok;
}

void base64_encode_nopad(const unsigned char *in, size_t n, char *out)
{
	int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	while (len > 0 && out[len - 1] == '=')
		out[--len] = '\0';
}

int base64_decode_nopad(const char *in, unsigned char *out, size_t max)
{
	size_t n = strlen(in);
	if (n % 4 == 1 || n > 4 * ((max + 2) / 3))
		return -1;
	char padded[512];
	if (n + 3 >= sizeof padded)
		return -1;
	memcpy(padded, in, n);
	size_t pad = (4 - n % 4) % 4;
	memset(padded + n, '=', pad);
	padded[n + pad] = '\0';
	unsigned char buf[384];
	int len = EVP_DecodeBlock(buf, (const unsigned char *)padded, (int)(n + pad));
	if (len < 0)
		return -1;
	len -= (int)pad; /* EVP_DecodeBlock counts the padding as zero bytes */
	if ((size_t)len > max)
		return -1;
	memcpy(out, buf, (size_t)len);
	return len;
}

bool ed25519_sign(struct evp_pkey_st *key, const void *msg, size_t n, unsigned char sig[64])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t len = 64;
	bool ok = md && EVP_DigestSignInit(md, NULL, NULL, NULL, key) == 1 &&
	          EVP_DigestSign(md, sig, &len, msg, n) == 1 && len == 64;
	EVP_MD_CTX_free(md);
	return ok;
}

bool ed25519_verify(struct evp_pkey_st *key, const void *msg, size_t n, const unsigned char sig[64])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok =
	    md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) == 1 && EVP_DigestVerify(md, sig, 64, msg, n) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}
