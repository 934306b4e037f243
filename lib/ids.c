/* ids: see ids.h. */
#include <stdint.h>
#include <string.h>
#include <sysexits.h>

#include "clock.h"
#include "crypto.h"
#include "err.h"
#include "ids.h"

#include "util.h"

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void ids_new(const char *prefix, char out[ID_MAX])
{
	/* Within one millisecond the random part counts up, so ids made by
	 * one process sort in the order they were made. */
	static int64_t last_ms = -1;
	static unsigned char last_rand[10];
	int64_t ms = clock_now_ms();
	unsigned char r[10];
	if (ms <= last_ms) {
		ms = last_ms;
		memcpy(r, last_rand, sizeof r);
		for (int i = 9; i >= 0 && ++r[i] == 0; i--)
			;
	} else {
		crypto_random(r, sizeof r);
		r[0] &= 0x7f; /* leave room to count up */
	}
	last_ms = ms;
	memcpy(last_rand, r, sizeof r);

	unsigned char b[16];
	uint64_t t = (uint64_t)ms;
	for (int i = 5; i >= 0; i--, t >>= 8)
		b[i] = (unsigned char)(t & 0xff);
	memcpy(b + 6, r, 10);
	/* 128 bits as 26 base32 digits, the first carrying only 3 bits. */
	char enc[27];
	unsigned bit = 0;
	for (int i = 0; i < 26; i++) {
		unsigned v = 0;
		int nbits = i == 0 ? 3 : 5;
		for (int k = 0; k < nbits; k++, bit++)
			v = (v << 1) | ((b[bit / 8] >> (7 - bit % 8)) & 1);
		enc[i] = crockford[v];
	}
	enc[26] = '\0';
	bufprintf(out, ID_MAX, "%s_%s", prefix, enc);
}

bool ids_valid(const char *id, const char *prefix)
{
	if (!ids_is(id, prefix))
		return false;
	const char *s = id + strlen(prefix) + 1;
	size_t n = strspn(s, crockford);
	return n == 26 && s[26] == '\0' && *s <= '7'; /* the first digit holds 3 bits */
}

void ids_at(const char *prefix, int64_t ms, char out[ID_MAX])
{
	char enc[11];
	uint64_t t = ms < 0 ? 0 : (uint64_t)ms & ((1ULL << 48) - 1);
	for (int i = 9; i >= 0; i--, t >>= 5)
		enc[i] = crockford[t & 31];
	enc[10] = '\0';
	bufprintf(out, ID_MAX, "%s_%s", prefix, enc);
}

bool ids_is(const char *id, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(id, prefix, n) == 0 && id[n] == '_';
}

const char *ids_merchant(const char *no, char out[MERCHANT_REF_MAX])
{
	if (!no)
		return NULL;
	if (!bufprintf(out, MERCHANT_REF_MAX, "m:%s", no))
		err_die(EX_SOFTWARE, "merchant number '%.40s...' is longer than %d; this is a bug", no,
		        MERCHANT_NO_MAX);
	return out;
}

char *ids_merchant_dup(const char *no)
{
	return xasprintf("m:%s", no);
}

const char *ids_user(const char *uid, char out[USER_REF_MAX])
{
	if (!uid)
		return NULL;
	if (!bufprintf(out, USER_REF_MAX, "u:%s", uid))
		err_die(EX_SOFTWARE, "uid '%.40s...' is longer than %d; this is a bug", uid, UID_MAX);
	return out;
}

const char *ids_merchant_no(const char *ref)
{
	return strncmp(ref, "m:", 2) == 0 ? ref + 2 : ref;
}

void ids_event(const char *subject, char out[EVENT_ID_MAX])
{
	if (!bufprintf(out, EVENT_ID_MAX, "evt_%s", subject))
		err_die(EX_SOFTWARE, "event subject '%.40s...' is too long; this is a bug", subject);
}

const char *ids_uid(const char *ref)
{
	return ids_is_user(ref) ? ref + 2 : ref;
}

bool ids_is_user(const char *ref)
{
	return strncmp(ref, "u:", 2) == 0;
}
